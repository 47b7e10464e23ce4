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
    workbook_teardown
}

# ------------------------------------------------------------------ judging for step 05

# The mistakes this idiom can make, in the order their causes are named. librdkafka's own
# commits are the point here; a commit that covers a message in hand is not.
WRONG=(commit-failed store-before-processing store-wrong-partition store-behind store-own-offset
       store-beyond before-processing)

# The settings the idiom needs, as the program gave them to librdkafka (the probe).
expect_settings() {
    local v
    v=$(setting enable.auto.commit)
    [ "$v" != false ] || fail "$(printf '%s\n%s\n%s' \
        "Auto-commit is off (enable.auto.commit is false): in this idiom librdkafka's timer commits what the program stored." \
        "The broker recorded $(summary requests_librdkafka) automatic commit request(s)." "$(hint_for $STEP)")"
    v=$(setting auto.commit.interval.ms)
    [ "$v" = 1000 ] || fail "$(printf '%s\n%s\n%s' \
        "The auto-commit timer fires every ${v:-5000} ms$([ "${v:-5000}" = 5000 ] && echo ", librdkafka's default"); this step commits what was stored every second." \
        "The program gave auto.commit.interval.ms=${v:-(nothing: the default)} to librdkafka." "$(hint_for $STEP)")"
    [ "$(summary requests_program)" -eq 0 ] || fail "$(printf '%s\n%s\n%s' \
        "The program committed by itself: in this idiom it only stores offsets, and librdkafka's timer and close() commit them." \
        "The probe saw $(summary requests_program) commit request(s) made by the program's own calls." "$(hint_for $STEP)")"
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

# ------------------------------------------------------------------ the tests

@test "05: commits follow a 1000 ms timer while processing, not one per message" {
    fresh_topic 18
    launched=$(now_ms)
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 250 --crash-at 0 --idle-exit 2
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    analyze_runs 18 "$BATS_TEST_TMPDIR/run"
    expect_settings
    expect_timer $STEP 1000 "$(created_ms "$BATS_TEST_TMPDIR/run" "$launched")" 3
    note "store after processing: $(summary processed1) orders, $TIMER_COMMITS timer commits, ms between them: $TIMER_GAPS"
}

@test "05: the broker never records an offset past a message still in hand, and ends at offset+1 of the last one processed" {
    fresh_topic 15
    d=$BATS_TEST_TMPDIR
    run_step $STEP "$d/run" -p 200 --crash-at 0 --idle-exit 2
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --idle-exit" "$d/run"
    analyze_runs 15 "$d/run"
    fail_on_findings $STEP "${WRONG[@]}"
    [ -n "$(facts call fn=offsets_store)$(facts call fn=offset_store)" ] || fail "$(printf '%s\n%s\n%s' \
        "The program stores no offset itself, so librdkafka still stores each one as it hands the message over, before processing." \
        "The probe saw no store call in $(summary processed1) processed messages." "$(hint_for $STEP)")"
    [ -s "$d/commits" ] || fail "Expected commits of the stored offsets (by the timer, and by close() at the end); the broker recorded none. $(hint_for $STEP)"
    events processed "$d/run.out" >"$d/processed"
    problem=$(final_commit_problem "$d/processed" "$d/commits")
    [ -z "$problem" ] || fail "$(printf '%s\n%s' "$problem" "$(hint_for $STEP)")"

    # One `stored` line per processed message, each offset + 1, after processing.
    events stored "$d/run.out" | awk '{print $1, $2, $NF}' >"$d/stored"
    problem=$(awk '
        FNR == NR { done[$1 " " ($2 + 1)] = $4; n++; next }
        { key = $1 " " $2; if (!(key in done)) { printf "a `stored` line for partition %d offset %d matches no processed message (offset %d): store offset+1.", $1, $2, $2 - 1; bad = 1; exit }
          if ($3 < done[key]) { printf "partition %d offset %d was stored before its message was processed.", $1, $2; bad = 1; exit }
          m++ }
        END { if (!bad && m != n) printf "%d messages processed, %d `stored` lines: print one (step_stored) after each store that succeeded.", n, m }' "$d/processed" "$d/stored")
    [ -z "$problem" ] || fail "$(printf '%s\n%s' "The program's \`stored\` lines do not match its processing: $problem" "$(hint_for $STEP)")"
}

@test "05: a crash while processing, then a rerun: every order processed at least once" {
    fresh_topic 20
    crash_and_rerun $STEP 8 -p 200
    fail_on_findings $STEP "${WRONG[@]}"
    lost=$(facts never | sed 's/.*value=//' | tr '\n' ' ')
    [ -z "$lost" ] || fail "$(printf '%s\n%s\n%s' \
        "Orders were lost: their offsets were committed before their processing ended." \
        "Never processed: $lost" "$(hint_for $STEP)")"
    note "crash while processing $(facts order in_hand=1 | sed 's/.*value=\([^ ]*\).*/\1/'); lost: nothing; processed again by the rerun: $(summary replayed) (processed after the last timer commit before the crash)"
}

@test "05: Ctrl+C, then a rerun: no duplicates, none lost" {
    fresh_topic 20
    start_step $STEP "$BATS_TEST_TMPDIR/stop" -p 200 --crash-at 0
    wait_for_lines "$BATS_TEST_TMPDIR/stop.out" processed 6
    interrupt_step
    expect_exit 0 "after Ctrl+C (SIGINT): finish the message in hand, close the consumer" "$BATS_TEST_TMPDIR/stop"

    analyze_runs 20 "$BATS_TEST_TMPDIR/stop"
    fail_on_findings $STEP "${WRONG[@]}"
    rerun_after_stop $STEP 20 "With auto-commit on, close() commits the stored offsets: each processed message must have stored its offset+1."
}
