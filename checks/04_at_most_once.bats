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
    workbook_teardown
}

# What the step must do, when it commits nothing of its own.
HOW="commit each message, and wait for the broker's answer, before processing it"

# The mistakes an at-most-once commit can make, in the order their causes are named. (A
# commit that covers the message in hand is this step's point, not a mistake.)
WRONG=(commit-failed wrong-partition behind own-offset beyond async auto-commit)

# ------------------------------------------------------------------ the tests

@test "04: each message is committed, offset+1 and synchronously, after it is started and before it is processed" {
    fresh_topic 24
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 150 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_exit 0 "at the end of the topic (--exit-at-end)" "$BATS_TEST_TMPDIR/run"
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    analyze_runs 24 "$BATS_TEST_TMPDIR/run"
    expect_own_commits $STEP message "$HOW"
    fail_on_findings $STEP "${WRONG[@]}"
    n_processed=$(summary processed1)
    n_program=$(summary requests_program)
    # Each processed message: one commit of exactly offset + 1, recorded by the broker after
    # the message started and before its processing ended.
    order_commits >"$BATS_TEST_TMPDIR/order_commits"
    kind= value= key= ms=
    read -r kind value key ms < <(awk '
        $7 == 0 { print "missing", $1, $2 ":" $3 + 1, 0; exit }
        $7 > 1  { print "twice", $1, $2 ":" $3 + 1, 0; exit }
        $6 >= $5 { print "after", $1, $2 ":" $3 + 1, $6 - $5; exit }' "$BATS_TEST_TMPDIR/order_commits") || true
    case "${kind:-}" in
    missing) fail "$(printf '%s\n%s\n%s' \
        "A message was processed without being committed first: commit every message before processing it." \
        "$value was processed, but the program never committed partition:offset $key ($n_program commits for $n_processed messages)." "$(hint_for $STEP)")" ;;
    twice) fail "$(printf '%s\n%s\n%s' \
        "The program committed the same message more than once: one commit per message." \
        "partition:offset $key (for $value) was committed more than once." "$(hint_for $STEP)")" ;;
    after) fail "$(printf '%s\n%s\n%s' \
        "The commit came after processing: that is at-least-once (step 02). At-most-once commits each message, and waits for the answer, before processing it." \
        "The broker recorded partition:offset $key $ms ms after $value had finished processing." "$(hint_for $STEP)")" ;;
    esac
    [ "$n_program" -eq "$n_processed" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected exactly one commit per processed message." \
        "It processed $n_processed messages and made $n_program commits." "$(hint_for $STEP)")"

    # The program says what it committed, only once the broker has it.
    n_lines=$(grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out" || true)
    [ "$n_lines" -eq "$n_program" ] || fail "$(printf '%s\n%s' \
        "The program's 'committed' lines do not match its commits: print one (step_committed) after each commit the broker accepted, and only then." \
        "The broker recorded $n_program commits by the program; it printed $n_lines 'committed' lines.")"
}

@test "04: a crash while processing, then a rerun: exactly the message in hand is lost, nothing comes twice" {
    fresh_topic 24
    crash_and_rerun $STEP 11 -p 100
    expect_own_commits $STEP message "$HOW"
    fail_on_findings $STEP "${WRONG[@]}"

    d=$BATS_TEST_TMPDIR
    cp= co= crashed=
    read -r _ cp co crashed _ < <(facts order in_hand=1 | tr '=' ' ' | awk '{ print "x", $5, $7, $3 }') || true
    if [ -n "${crashed:-}" ] && [ "$(field "$(facts order "value=$crashed")" processed2)" != 0 ]; then
        if [ -z "$(facts request by=program phase=run1 "parts=$cp:$((co + 1))")" ]; then
            why="The broker had not recorded its commit (offset + 1) when the program crashed: the commit was to come after processing, and the crash came first. Committing after processing is at-least-once, step 02's promise."
        else
            why="Its commit had reached the broker, yet the rerun started below it."
        fi
        fail "$(printf '%s\n%s\n%s' "$why" \
            "Expected the order in hand at the crash ($crashed) to be lost; the rerun processed it again." "$(hint_for $STEP)")"
    fi
    twice=$(( $(summary replayed) - $(summary replayed_in_hand) ))
    [ "$twice" -eq 0 ] || fail "$(printf '%s\n%s\n%s' \
        "Orders were processed twice: their commits had not reached the broker when the program crashed. Commit each message, synchronously, before processing it." \
        "$twice order(s) processed by both runs." "$(hint_for $STEP)")"
    lost=$(facts never | sed 's/.*value=//' | tr '\n' ' ')
    [ "${lost% }" = "${crashed:-}" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected exactly the order in hand at the crash to be lost." \
        "In hand: ${crashed:-none}; never processed: ${lost:-nothing}." "$(hint_for $STEP)")"
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

@test "04: a commit the broker refuses: that message is not processed, the error is reported, and the program stops" {
    fresh_topic 12
    d=$BATS_TEST_TMPDIR
    refused_commit_run $STEP 3 12 "$HOW" -p 50
    # Processing it would be processing a message the group may hand out again.
    [ "$(field "$(facts order "value=$REFUSED_VALUE")" processed1)" = 0 ] || fail "$(printf '%s\n%s\n%s' \
        "The program processed a message whose commit the broker refused: at-most-once may start the work only once the broker has recorded the commit, or a restart hands the message out again and it is processed twice." \
        "The broker refused the commit of partition:offset $REFUSED_P:$REFUSED_NEXT ($REFUSED_ERR); the program processed $REFUSED_VALUE anyway." "$(hint_for $STEP)")"
    expect_refused_commit_handled $STEP 3 "a commit refused once may be refused again, and each message after it would be lost"
    note "refused: the commit of $REFUSED_VALUE ($REFUSED_ERR); it was not processed, the program stopped"
}
