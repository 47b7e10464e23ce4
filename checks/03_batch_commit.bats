#!/usr/bin/env bats
# Step 03: batch commit. Judged from the broker's record of the group's commits
# (build/tools/commits) together with the program's started/processed lines.

STEP=03_batch_commit

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

# The mistakes a batch commit can make, in the order their causes are named.
WRONG=(commit-failed wrong-partition behind own-offset beyond before-processing async auto-commit)

@test "03: one commit per batch of at most 5, after the batch and covering each of its partitions" {
    # 7 orders a partition, batches of 5: the second batch cannot fill up from one
    # partition, so it spans two and its commit must cover both.
    fresh_topic 21
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 300 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    expect_exit 0 "at the end of the topic (--exit-at-end)" "$BATS_TEST_TMPDIR/run"
    analyze_runs 21 "$BATS_TEST_TMPDIR/run"
    expect_own_commits $STEP batch
    expect_batch_commits $STEP sync "$BATS_TEST_TMPDIR/run.out" "${WRONG[@]}"
    spanning=$(awk '$4 ~ /,/' "$BATS_TEST_TMPDIR/batches" | wc -l)
    note "$N_BATCHES batches, $N_REQUESTS commits, $spanning batch(es) across partitions, $(count_facts finding kind=recommit) harmless re-commit(s)"
}

@test "03: a crash mid-batch, then a rerun: nothing lost, only the batch in hand again" {
    fresh_topic 28
    crash_and_rerun $STEP 13 -p 300
    expect_own_commits $STEP batch
    fail_on_findings $STEP "${WRONG[@]}"

    lost=$(never_processed)
    [ -z "$lost" ] || fail "Expected every order processed at least once; never processed: $(echo $lost). Their offsets were committed before their batch was processed: at-most-once. $(hint_for $STEP)"

    # The batch in hand at the crash: started but not processed in the first run.
    in_hand=$(orders_where 'started1 > 0 && processed1 == 0' | sort)
    again=$(orders_where 'started1 > 0 && started2 > 0' | sort)
    extra=$(comm -23 <(echo "$again") <(echo "$in_hand") | grep . || true)
    [ -z "$extra" ] || fail "Expected only the batch in hand at the crash ($(echo $in_hand)) to be delivered again; also delivered again: $(echo $extra). Every finished batch must be committed before the next one starts. $(hint_for $STEP)"
    note "crash mid-batch; the batch in hand ($(echo $in_hand)) was delivered again: $(echo "$again" | grep -c .) orders; lost: 0"
}

@test "03: Ctrl+C mid-batch finishes and commits the batch in hand: the rerun has no duplicates" {
    fresh_topic 28
    start_step $STEP "$BATS_TEST_TMPDIR/stop" -p 1200 --crash-at 0
    # A batch holds at most 5: the 6th start means the second batch is in hand.
    wait_for_lines "$BATS_TEST_TMPDIR/stop.out" started 6
    interrupt_step
    expect_exit 0 "after Ctrl+C (SIGINT): finish the batch, commit it, close the consumer" "$BATS_TEST_TMPDIR/stop"
    n_started=$(grep -c '^started ' "$BATS_TEST_TMPDIR/stop.out")
    n_processed=$(grep -c '^processed ' "$BATS_TEST_TMPDIR/stop.out" || true)
    [ "$n_processed" -eq "$n_started" ] || fail "Expected Ctrl+C to let the batch in hand finish: $n_started orders started, $n_processed processed. $(hint_for $STEP)"

    analyze_runs 28 "$BATS_TEST_TMPDIR/stop"
    expect_own_commits $STEP batch
    fail_on_findings $STEP "${WRONG[@]}"
    rerun_after_stop $STEP 28 "The batch in hand must be committed before the program closes."
}

@test "03: a second consumer joins while a batch is being collected: the batch in hand is dropped, nothing processed twice" {
    rebalance_mid_batch $STEP batch commit-failed auto-commit async
    note "the rebalance came with $IN_HAND message(s) in hand (the program said it dropped ${DROPPED:-none}); every order processed once; the broker ends at each partition's end"
}

@test "03: a commit the broker refuses is reported by its error name, and the program stops" {
    fresh_topic 6
    failed_commit_stops $STEP 5 batch
}
