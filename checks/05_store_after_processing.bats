#!/usr/bin/env bats
# Step 05: at-least-once with auto-commit: librdkafka no longer stores offsets by itself,
# the program stores offset+1 after processing each message, and the timer (every
# 1000 ms) and close() commit what was stored. Judged from the broker's record of the
# group's commits (build/tools/commits) together with the program's lines.

STEP=05_store_after_processing

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

# ------------------------------------------------------------------ judging for step 05

# The group's commits grouped into rounds (one OffsetCommit request carries every
# partition; the broker stamps them with one time): "commit_ms records", in time order.
commit_rounds() { awk '{ n[$3]++ } END { for (t in n) print t, n[t] }' "$1" | sort -n; }

# Is the timer's period about 1000 ms? Judged on the rounds recorded while the orders
# were being processed (ROUNDS from commit_rounds, already cut at the last `processed`):
# the first lands near a whole number of seconds after launch (the timer starts with
# the consumer; a tick with nothing stored sends nothing), each next one 700..1500 ms
# after the one before. Prints the first gap (ms) out of bounds, nothing when all fit.
# Usage: timer_gap_problem LAUNCH_MS ROUNDS
timer_gap_problem() {
    awk -v t0="$1" '
        function off(ms,   k) { k = int(ms / 1000 + 0.5); return k < 1 ? 1000 : (ms > k * 1000 ? ms - k * 1000 : k * 1000 - ms) }
        NR == 1 { if ($1 - t0 > 4500 || off($1 - t0) > 400) { print $1 - t0; exit } }
        NR > 1  { gap = $1 - prev; if (gap < 700 || gap > 1500) { print gap; exit } }
        { prev = $1 }' "$2"
}

# No commit may run ahead of the processing: for every offset N the broker recorded on a
# partition, the message at N-1 there must have been processed before the commit's time.
# Prints the first commit that was ahead (nothing when none was).
# Usage: commit_past_in_hand PROCESSED COMMITS   (events / broker_commits)
commit_past_in_hand() {
    awk '
        FNR == NR { done[$1 " " $2] = $4; next }
        {
            p = $1; off = $2; at = $3; key = p " " (off - 1)
            if (!(key in done)) {
                printf "The broker recorded offset %d on partition %d, but the message at offset %d there was never processed.", off, p, off - 1; exit
            }
            if (done[key] > at) {
                printf "The broker recorded offset %d on partition %d at %s, while the message at offset %d was still in hand: its processing ended %d ms later. So the offset had been stored before the processing ended, and a crash at that moment would lose the message.", off, p, at, off - 1, done[key] - at; exit
            }
        }' "$1" "$2"
}

# After a clean end, the last commit on each partition must be its last processed
# offset + 1: prints the first partition where it is not.
# Usage: final_commit_problem PROCESSED COMMITS
final_commit_problem() {
    awk '
        FNR == NR { if (!($1 in top) || $2 > top[$1]) top[$1] = $2; next }
        { last[$1] = $2 }
        END {
            for (p in top) {
                if (!(p in last)) { printf "The broker recorded no commit on partition %d, where the last message processed was at offset %d.", p, top[p]; exit }
                if (last[p] == top[p]) { printf "The broker'"'"'s last commit on partition %d is offset %d: the offset of the last message processed there, not the next one. Store offset+1 (the call adds no +1), or every restart processes that message again.", p, last[p]; exit }
                if (last[p] != top[p] + 1) { printf "The broker'"'"'s last commit on partition %d is offset %d, but the last message processed there was at offset %d: expected %d.", p, last[p], top[p], top[p] + 1; exit }
            }
        }' "$1" "$2"
}

# What the program's stderr says about its stores, to name the cause of a failure.
store_failures() {
    local n
    n=$(grep -ci 'store.*fail' "$1" || true)
    [ "$n" -gt 0 ] || return 0
    printf ' Its stderr reports %s failed store(s), the first: "%s".' "$n" "$(grep -im1 'store.*fail' "$1" | cut -c1-160)"
    grep -q '_INVALID_ARG' "$1" &&
        printf ' librdkafka refuses a store while it still stores every offset by itself when it hands the message over: that automatic store is still on (TODO 2).'
    return 0
}

# ------------------------------------------------------------------ the tests

@test "05: commits follow a 1000 ms timer while processing, not one per message" {
    fresh_topic 18
    launched=$(now_ms)
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 250 --crash-at 0 --idle-exit 2
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    broker_commits >"$BATS_TEST_TMPDIR/commits"
    last_done=$(events processed "$BATS_TEST_TMPDIR/run.out" | awk 'END {print $4}')
    # Rounds while it was processing came from the timer; the one after is close()'s.
    commit_rounds "$BATS_TEST_TMPDIR/commits" | awk -v end="$last_done" '$1 <= end' >"$BATS_TEST_TMPDIR/timer"
    n_timer=$(wc -l <"$BATS_TEST_TMPDIR/timer")
    n_processed=$(grep -c '^processed ' "$BATS_TEST_TMPDIR/run.out")
    secs=$(( (last_done - launched) / 1000 ))
    gaps=$(awk -v t0="$launched" '{ print $1 - t0; t0 = $1 }' "$BATS_TEST_TMPDIR/timer" | tr '\n' ' ')

    [ "$n_timer" -gt 0 ] || fail "Expected automatic commits while the orders were being processed ($n_processed orders, about $secs s); the broker recorded none. librdkafka's default auto.commit.interval.ms, 5000 ms, is longer than this whole run: auto-commit stays on, every 1000 ms. $(hint_for $STEP)"
    bad=$(timer_gap_problem "$launched" "$BATS_TEST_TMPDIR/timer")
    if [ -n "$bad" ]; then
        if [ "$bad" -ge 4500 ] && [ "$bad" -le 5800 ]; then
            why="about 5000 ms is librdkafka's default auto.commit.interval.ms: make it 1000"
        elif [ "$bad" -lt 700 ]; then
            why="commits closer together than the timer: something commits besides it (one commit per message?). Only store; let the timer commit"
        else
            why="make auto.commit.interval.ms 1000"
        fi
        first=${gaps%% *} rest=${gaps#* }
        fail "Expected an automatic commit about every 1000 ms; the broker recorded the first ${first} ms after launch${rest:+, then the next ones after (ms): ${rest% }}: $why. $(hint_for $STEP)"
    fi
    [ "$n_timer" -ge 3 ] || fail "Expected at least 3 timer commits in about $secs s of processing; the broker recorded $n_timer (ms between them: $gaps). $(hint_for $STEP)"
    [ "$n_timer" -lt "$n_processed" ] || fail "Expected fewer commits than messages: the timer commits what was stored, not each message. $(hint_for $STEP)"
    run grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out"
    [ "$output" -eq 0 ] || fail "This program should not commit by itself (it printed $output 'committed' lines): it stores, and librdkafka's timer and close() commit."
    note "store after processing: $n_processed orders, $n_timer timer commits, ms between them: $gaps"
}

@test "05: the broker never records an offset past a message still in hand, and ends at offset+1 of the last one processed" {
    fresh_topic 15
    d=$BATS_TEST_TMPDIR
    run_step $STEP "$d/run" -p 200 --crash-at 0 --idle-exit 2
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --idle-exit" "$d/run"
    events processed "$d/run.out" >"$d/processed"
    broker_commits >"$d/commits"
    [ -s "$d/commits" ] || fail "Expected commits of the stored offsets (by the timer, and by close() at the end); the broker recorded none.$(store_failures "$d/run.err") $(hint_for $STEP)"

    problem=$(commit_past_in_hand "$d/processed" "$d/commits")
    [ -z "$problem" ] || fail "$problem Store each offset only once its message is processed, and stop librdkafka from storing it when it hands the message over.$(store_failures "$d/run.err") $(hint_for $STEP)"
    problem=$(final_commit_problem "$d/processed" "$d/commits")
    [ -z "$problem" ] || fail "$problem$(store_failures "$d/run.err") $(hint_for $STEP)"

    # The program says what it stored: offset+1 of each processed message, after it.
    events stored "$d/run.out" | awk '{print $1, $2, $NF}' >"$d/stored"
    problem=$(awk '
        FNR == NR { done[$1 " " ($2 + 1)] = $4; n++; next }
        { key = $1 " " $2; if (!(key in done)) { printf "a `stored` line for partition %d offset %d matches no processed message (offset %d): store offset+1.", $1, $2, $2 - 1; bad = 1; exit }
          if ($3 < done[key]) { printf "partition %d offset %d was stored before its message was processed.", $1, $2; bad = 1; exit }
          m++ }
        END { if (!bad && m == 0) printf "%d messages processed, no `stored` line: the program stores nothing itself, so librdkafka still stores each offset as it hands the message over, before processing (TODO 2 and 3).", n
              else if (!bad && m != n) printf "%d messages processed, %d `stored` lines: print one (step_stored) after each store that succeeded.", n, m }' "$d/processed" "$d/stored")
    [ -z "$problem" ] || fail "Expected one \`stored\` line per processed message: $problem$(store_failures "$d/run.err") $(hint_for $STEP)"
}

@test "05: a crash while processing, then a rerun: every order processed at least once" {
    fresh_topic 20
    crash_and_rerun $STEP 8 -p 200

    d=$BATS_TEST_TMPDIR
    crashed=$(events started "$d/crash.out" | sed -n 8p | awk '{print $3}')
    events processed "$d/crash.out" "$d/rerun.out" >"$d/processed"
    lost=$(missing_values 20 "$d/processed")
    [ -z "$lost" ] || fail "Expected every order processed at least once; never processed: $(echo $lost) (in hand at the crash: $crashed). Their offsets were committed before their processing ended: store each offset only after processing, and only yours.$(store_failures "$d/crash.err") $(hint_for $STEP)"
    replayed=$(comm -12 <(events processed "$d/crash.out" | awk '{print $3}' | sort) <(awk '{print $3}' "$d/restarted" | sort))
    note "crash while processing $crashed; lost: nothing; processed again by the rerun: $(echo ${replayed:-nothing}) (processed after the last timer commit before the crash)"
}

@test "05: Ctrl+C, then a rerun: no duplicates, none lost" {
    fresh_topic 20
    start_step $STEP "$BATS_TEST_TMPDIR/stop" -p 200 --crash-at 0
    wait_for_lines "$BATS_TEST_TMPDIR/stop.out" processed 6
    interrupt_step
    expect_exit 0 "after Ctrl+C (SIGINT): finish the message in hand, close the consumer" "$BATS_TEST_TMPDIR/stop"

    rerun_after_stop $STEP 20 "With auto-commit on, close() commits the stored offsets: each processed message must have stored its offset+1."
}
