#!/usr/bin/env bats
# Step 02: per-message manual commit (at-least-once).
# Judged from the broker's record of the group's commits (build/tools/commits)
# together with the program's started/processed lines.

STEP=02_manual_commit

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

@test "02: every processed message is committed once, at offset+1, after it was processed" {
    fresh_topic 24
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 150 --crash-at 0 --idle-exit 2
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    events processed "$BATS_TEST_TMPDIR/run.out" >"$BATS_TEST_TMPDIR/processed"
    broker_commits >"$BATS_TEST_TMPDIR/commits"
    n_processed=$(wc -l <"$BATS_TEST_TMPDIR/processed")
    n_commits=$(wc -l <"$BATS_TEST_TMPDIR/commits")

    if [ "$n_commits" -lt "$n_processed" ]; then
        why="Fewer commits than messages: something commits on a timer instead of after each message (is enable.auto.commit still on?)."
        [ "$n_commits" -eq 0 ] && why="Nothing was committed: after processing each message, commit it (rd_kafka_commit_message)."
        fail "Expected one commit per processed message ($n_processed); the broker recorded $n_commits. $why $(hint_for $STEP)"
    fi
    # Each commit the broker recorded must be "offset+1 of a message processed before".
    problem=$(awk '
        FNR == NR { done[$1 " " $2] = $4; next }
        {
            p = $1; off = $2; at = $3; key = p " " (off - 1)
            if (++seen[p " " off] == 2) {
                printf "The broker recorded offset %d on partition %d twice: one commit per message, please.", off, p; exit
            }
            if (!(key in done)) {
                if ((p " " off) in done)
                    printf "The broker recorded a commit of offset %d on partition %d, the offset of the message you processed, not the next one: commit offset+1 (the next message to read). Committing the offset itself makes every restart process that message again.", off, p
                else
                    printf "The broker recorded a commit of offset %d on partition %d, but no message at offset %d was processed there.", off, p, off - 1
                exit
            }
            if (at < done[key]) {
                printf "The broker recorded the commit of partition %d offset %d %d ms before that message finished processing: the commit came before processing, which is at-most-once (a crash in between loses the message).", p, off, done[key] - at; exit
            }
        }' "$BATS_TEST_TMPDIR/processed" "$BATS_TEST_TMPDIR/commits")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    [ "$n_commits" -eq "$n_processed" ] || fail "Expected one commit per processed message ($n_processed); the broker recorded $n_commits. $(hint_for $STEP)"

    # The program says what it committed, and that matches the broker.
    run -0 grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out"
    [ "$output" -eq "$n_commits" ] || fail "The broker recorded $n_commits commits but the program printed $output 'committed' lines: print one (step_committed) after each successful commit."
}

@test "02: a crash mid-message, then a rerun: every order at least once, at most one delivered twice" {
    fresh_topic 24
    crash_and_rerun $STEP 11 -p 100

    events processed "$BATS_TEST_TMPDIR/crash.out" "$BATS_TEST_TMPDIR/rerun.out" >"$BATS_TEST_TMPDIR/processed"
    lost=$(missing_values 24 "$BATS_TEST_TMPDIR/processed")
    [ -z "$lost" ] || fail "Expected every order processed at least once; never processed: $(echo $lost). Their offsets were committed before they were processed: that is at-most-once. $(hint_for $STEP)"

    events started "$BATS_TEST_TMPDIR/crash.out" "$BATS_TEST_TMPDIR/rerun.out" >"$BATS_TEST_TMPDIR/started"
    again=$(repeated_values "$BATS_TEST_TMPDIR/started")
    crashed=$(events started "$BATS_TEST_TMPDIR/crash.out" | sed -n 11p | awk '{print $3}')
    if [ -n "$again" ] && [ "$again" != "$crashed" ]; then
        fail "Expected at most one order delivered twice (the one in hand at the crash, $crashed); delivered twice: $(echo $again). Each message's commit must reach the broker right after it is processed (async=0), or a crash replays more. $(hint_for $STEP)"
    fi
    note "crash while processing $crashed; the rerun delivered again: ${again:-nothing}; lost: nothing"
}

@test "02: Ctrl+C, then a rerun: no order is processed twice" {
    fresh_topic 24
    start_step $STEP "$BATS_TEST_TMPDIR/stop" -p 200 --crash-at 0
    wait_for_lines "$BATS_TEST_TMPDIR/stop.out" processed 6
    interrupt_step
    expect_exit 0 "after Ctrl+C (SIGINT): finish the message in hand, close the consumer" "$BATS_TEST_TMPDIR/stop"

    rerun_after_stop $STEP 24 "Every processed message must be committed (offset+1) before the program ends."
}

@test "02: a commit the broker refuses is reported by its error name, and the program stops" {
    fresh_topic 6
    failed_commit_stops $STEP 1
}
