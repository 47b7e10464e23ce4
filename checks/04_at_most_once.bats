#!/usr/bin/env bats
# Step 04: at-most-once, each message committed (offset+1, synchronously) before it is
# processed. Judged from the broker's record of the group's commits (build/tools/commits)
# together with the program's started/processed/committed lines.

STEP=04_at_most_once

setup_file() {
    load test_helper/common
    workbook_setup_file
}

setup() {
    load test_helper/common
}

teardown() {
    [ -z "${STEP_PID:-}" ] || kill -KILL "$STEP_PID" 2>/dev/null || true
}

# ------------------------------------------------------------------ judging for step 04

# Every commit the broker recorded must be offset+1 of a message that was started before
# it and processed after it, and be recorded once. Prints the first problem (nothing when
# all are right).
# Usage: commit_before_processing_problem STARTED PROCESSED COMMITS   (events / broker_commits)
commit_before_processing_problem() {
    awk '
        FILENAME == ARGV[1] { started[$1 " " $2] = $4; next }
        FILENAME == ARGV[2] { done[$1 " " $2] = $4; next }
        {
            p = $1; off = $2; at = $3; key = p " " (off - 1)
            if (++seen[p " " off] == 2) {
                printf "The broker recorded offset %d on partition %d twice: one commit per message, please.", off, p; exit
            }
            if (!(key in started)) {
                if ((p " " off) in started)
                    printf "The broker recorded a commit of offset %d on partition %d, the offset of the message in hand, not the next one: commit offset+1 (the next message to read). Committing the offset itself hands that message out again after a restart: that is not at-most-once.", off, p
                else
                    printf "The broker recorded a commit of offset %d on partition %d, but no message at offset %d was started there.", off, p, off - 1
                exit
            }
            if (at < started[key]) {
                printf "The broker recorded the commit of partition %d offset %d %d ms before the message at offset %d was even started.", p, off, started[key] - at, off - 1; exit
            }
            if ((key in done) && at >= done[key]) {
                printf "The broker recorded the commit of partition %d offset %d %d ms after that message had finished processing: the commit came after processing, which is at-least-once (step 02). At-most-once commits before step_work().", p, off, at - done[key]; exit
            }
        }' "$1" "$2" "$3"
}

# A `committed` line means "the broker has recorded it": it must not be printed before
# the broker's own timestamp of that commit. Prints the first line printed too early.
# Usage: committed_too_early COMMITTED_EVENTS COMMITS
committed_too_early() {
    awk '
        FNR == NR { rec[$1 " " $2] = $3; next }           # committed: partition next at
        { key = $1 " " $2 }                               # broker: partition offset ms
        (key in rec) && rec[key] < $3 {
            printf "The program printed `committed partition=%d offset=%d` at %s, but the broker recorded that commit only at %s, %d ms later: the program did not wait for the broker'"'"'s answer (an asynchronous commit). If it crashes in between, the commit may never arrive, and a refused commit goes unnoticed. Wait for the answer (async = 0) before processing.", $1, $2, rec[key], $3, $3 - rec[key]; exit
        }' <(events committed "$1" | awk '{print $1, $2, $NF}') "$2"
}

# A commit of a message's own offset instead of offset+1 shows on each partition's first
# message of a run: the broker's lowest offset there equals that message's offset (with
# offset+1 it is one more). Prints "partition offset" of the first such partition.
# Usage: own_offset_committed STARTED COMMITS   (events / broker_commits of one run)
own_offset_committed() {
    awk 'FNR == NR { if (!($1 in first) || $2 < first[$1]) first[$1] = $2; next }
         !($1 in low) || $2 < low[$1] { low[$1] = $2 }
         END { for (p in low) if ((p in first) && low[p] == first[p]) { print p, low[p]; exit } }' "$1" "$2"
}

# ------------------------------------------------------------------ the tests

@test "04: each message is committed, offset+1 and synchronously, after it is started and before it is processed" {
    fresh_topic 24
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 150 --crash-at 0 --idle-exit 2
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    events started "$BATS_TEST_TMPDIR/run.out" >"$BATS_TEST_TMPDIR/started"
    events processed "$BATS_TEST_TMPDIR/run.out" >"$BATS_TEST_TMPDIR/processed"
    broker_commits >"$BATS_TEST_TMPDIR/commits"
    n_processed=$(wc -l <"$BATS_TEST_TMPDIR/processed")
    n_commits=$(wc -l <"$BATS_TEST_TMPDIR/commits")

    if [ "$n_commits" -lt "$n_processed" ]; then
        why="Fewer commits than messages: something commits on a timer instead of once per message (is enable.auto.commit still on?)."
        [ "$n_commits" -eq 0 ] && why="Nothing was committed: before processing each message, commit it."
        fail "Expected one commit per message ($n_processed), each before its processing; the broker recorded $n_commits. $why $(hint_for $STEP)"
    fi
    problem=$(commit_before_processing_problem "$BATS_TEST_TMPDIR/started" "$BATS_TEST_TMPDIR/processed" "$BATS_TEST_TMPDIR/commits")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    [ "$n_commits" -eq "$n_processed" ] || fail "Expected one commit per processed message ($n_processed); the broker recorded $n_commits. $(hint_for $STEP)"

    # The program says what it committed, only once the broker has it.
    run -0 grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out"
    [ "$output" -eq "$n_commits" ] || fail "The broker recorded $n_commits commits but the program printed $output 'committed' lines: print one (step_committed) after each commit the broker accepted. $(hint_for $STEP)"
    problem=$(committed_too_early "$BATS_TEST_TMPDIR/run.out" "$BATS_TEST_TMPDIR/commits")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
}

@test "04: a crash while processing, then a rerun: exactly the message in hand is lost, nothing comes twice" {
    fresh_topic 24
    crash_and_rerun $STEP 11 -p 100

    d=$BATS_TEST_TMPDIR
    read -r _ co crashed _ < <(events started "$d/crash.out" | sed -n 11p)
    events processed "$d/crash.out" "$d/rerun.out" >"$d/processed"
    if events processed "$d/rerun.out" | awk -v v="$crashed" '$3 == v { f = 1 } END { exit !f }'; then
        own=$(own_offset_committed <(events started "$d/crash.out") "$d/commits1")
        if [ -n "$own" ]; then
            why="The broker recorded the messages' own offsets (partition ${own% *}: offset ${own#* } for its first message, offset $co for the crashed one), so the rerun started with the message in hand: commit offset+1, the next message to read."
        elif [ -s "$d/commits1" ]; then
            why="The broker had not recorded its commit (offset+1) when the program crashed: the commit was to come after processing, and the crash came first. Committing after processing is at-least-once, step 02's promise."
        else
            why="The broker had recorded no commit at all before the crash (a timer had not fired yet), so the rerun started again from the beginning."
        fi
        fail "Expected the order in hand at the crash ($crashed) to be lost; the rerun processed it again. $why At-most-once commits offset+1, and waits for the broker's answer, before step_work(). $(hint_for $STEP)"
    fi
    twice=$(repeated_values "$d/processed")
    [ -z "$twice" ] || fail "Expected nothing processed twice; processed twice: $(echo $twice). Their commits had not reached the broker when the program crashed: commit each message, synchronously, before processing it. $(hint_for $STEP)"
    lost=$(missing_values 24 "$d/processed")
    [ "$lost" = "$crashed" ] || fail "Expected exactly the order in hand at the crash ($crashed) to be lost; never processed: $(echo ${lost:-nothing}). $(hint_for $STEP)"
    note "crash while processing $crashed; lost: $crashed (the message in hand, committed before processing); processed twice: nothing"
}

@test "04: Ctrl+C finishes the message in hand, and a rerun has no duplicates and loses nothing" {
    fresh_topic 24
    start_step $STEP "$BATS_TEST_TMPDIR/stop" -p 200 --crash-at 0
    wait_for_lines "$BATS_TEST_TMPDIR/stop.out" processed 6
    interrupt_step
    expect_exit 0 "after Ctrl+C (SIGINT): finish the message in hand, close the consumer" "$BATS_TEST_TMPDIR/stop"

    last=$(events started "$BATS_TEST_TMPDIR/stop.out" | tail -n 1 | awk '{print $3}')
    events processed "$BATS_TEST_TMPDIR/stop.out" | awk -v v="$last" '$3 == v { f = 1 } END { exit !f }' ||
        fail "Expected the message in hand at Ctrl+C ($last) to be processed before the program ended; it was not. Its commit was already recorded, so if it is not finished now, no one ever will. $(hint_for $STEP)"

    rerun_after_stop $STEP 24 "Every message must be committed (offset+1) before its processing begins."
}
