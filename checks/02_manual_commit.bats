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
    workbook_teardown
}

# The mistakes a per-message commit can make, in the order their causes are named.
WRONG=(commit-failed wrong-partition behind own-offset beyond before-processing async auto-commit)

@test "02: every processed message is committed once, at offset+1, after it was processed" {
    fresh_topic 24
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 100 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_exit 0 "at the end of the topic (--exit-at-end)" "$BATS_TEST_TMPDIR/run"
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    analyze_runs 24 "$BATS_TEST_TMPDIR/run"
    n_processed=$(summary processed1)
    n_program=$(summary requests_program)

    expect_own_commits $STEP message
    fail_on_findings $STEP "${WRONG[@]}"
    # One commit per message: each processed message is followed by the program's commit
    # of it, which reaches the broker before the next message starts.
    order_commits >"$BATS_TEST_TMPDIR/order_commits"
    kind= value= key= late=
    read -r kind value key late < <(awk '
        $7 == 0 { print "skipped", $1, $2 ":" $3 + 1, 0; exit }
        $7 > 1  { print "twice", $1, $2 ":" $3 + 1, 0; exit }
        NR > 1 && prev_at > $4 { print "late", prev_value, prev_key, prev_at - $4; exit }
        { prev_at = $6; prev_value = $1; prev_key = $2 ":" $3 + 1 }' "$BATS_TEST_TMPDIR/order_commits") || true
    case "${kind:-}" in
    skipped) fail "$(printf '%s\n%s\n%s' \
        "A processed message was never committed by the program: commit every message once it is processed, not some of them." \
        "$value was processed, but the program never committed partition:offset $key ($n_program commits for $n_processed messages)." \
        "$(hint_for $STEP)")" ;;
    twice) fail "$(printf '%s\n%s\n%s' \
        "The program committed the same message more than once: one commit per message." \
        "partition:offset $key (for $value) was committed more than once ($n_program commits in all for $n_processed messages)." \
        "$(hint_for $STEP)")" ;;
    late) fail "$(printf '%s\n%s\n%s' \
        "A commit reached the broker only after the next message had started: commit each message, and wait for the answer, before taking the next." \
        "The commit of $value ($key) came $late ms after the next message started." "$(hint_for $STEP)")" ;;
    esac
    [ "$n_program" -eq "$n_processed" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected exactly one commit per processed message." \
        "It processed $n_processed messages and made $n_program commits." "$(hint_for $STEP)")"

    # The program says what it committed, and that matches the broker.
    n_lines=$(grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out" || true)
    [ "$n_lines" -eq "$n_program" ] || fail "$(printf '%s\n%s' \
        "The program's 'committed' lines do not match its commits: print one (step_committed) after each successful commit, and only then." \
        "The broker recorded $n_program commits by the program; it printed $n_lines 'committed' lines.")"
}

@test "02: a crash mid-message, then a rerun: every order at least once, at most one delivered twice" {
    fresh_topic 24
    crash_and_rerun $STEP 11 -p 100
    expect_own_commits $STEP message
    fail_on_findings $STEP "${WRONG[@]}"

    lost=$(never_processed)
    [ -z "$lost" ] || fail "Expected every order processed at least once; never processed: $(echo $lost). Their offsets were committed before they were processed: that is at-most-once. $(hint_for $STEP)"

    again=$(orders_where 'started1 > 0 && started2 > 0')
    crashed=$(field "$(facts order in_hand=1 | head -n1)" value)
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

    analyze_runs 24 "$BATS_TEST_TMPDIR/stop"
    expect_own_commits $STEP message
    fail_on_findings $STEP "${WRONG[@]}"
    rerun_after_stop $STEP 24 "Every processed message must be committed (offset+1) before the program ends."
}

@test "02: a commit the broker refuses is reported by its error name, and the program stops" {
    fresh_topic 6
    failed_commit_stops $STEP 1
}

@test "02: a commit the broker refuses for real is reported, not printed as committed, and the program stops" {
    fresh_topic 12
    d=$BATS_TEST_TMPDIR
    refused_commit_run $STEP 3 12 "" -p 50
    expect_refused_commit_handled $STEP 3 "whose commits may all fail too"
    note "refused: the commit of $REFUSED_VALUE ($REFUSED_ERR); reported, the program stopped (a rerun processes it again: at-least-once)"
}
