#!/usr/bin/env bats
# The checks must be able to fail. Every starter (steps/, as shipped) must fail its own
# check, and so must every known-wrong solution in checks/mutants/ (a solution with one
# classic mistake: commit before processing, off-by-one offsets, ...). A check that one of
# them passes is a defect of the workbook.

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    make -s -C "$ROOT" build >/dev/null
}

setup() {
    load ../test_helper/common
}

# Run one step's check file on a folder of binaries; sets output/status via `run`.
run_check() { # BIN_DIR STEP [bats args...]
    local bin=$1 step=$2; shift 2
    # What a learner sees: the workbook's own formatter (scripts/bats-report).
    WORKBOOK_BIN=$bin run timeout 300 bats --timing --formatter "$ROOT/scripts/bats-report" "$@" "$ROOT/checks/$step.bats"
}

# A failure must be the check's verdict, not a broken test set-up.
# The first reason the check gave, as a learner reads it.
first_reason() { printf '%s\n' "$output" | grep -m1 -A1 '^  FAIL  ' | sed -n '2s/^ *//p' | cut -c1-160; }

assert_taught_failure() {
    assert_failure
    assert_output --partial "  FAIL  "
    refute_output --partial "setup_file failed"
    refute_output --partial "no program"
    refute_output --partial "did not end within"
}

starter_fails() {
    local step=$1
    [ -n "$(find "$ROOT/steps/$step" -name '*.c' -exec grep -l TODO {} +)" ] || fail "steps/$step has no TODO left: the starter is solved"
    run_check "$ROOT/build/steps" "$step"
    assert_taught_failure
    # Print the first failure, as a learner would see it.
    note "starter $step: $(first_reason)"
}

# A variant of a solution (checks/KIND/NAME.patch, KIND mutants or alternatives), built
# and run through the check its '# Filter:' line names. Sets STEP and PATCH.
run_variant() { # KIND NAME
    local kind=$1 name=$2 filter dir
    PATCH=$ROOT/checks/$kind/$name.patch
    STEP=$(sed -n 's|^--- a/solutions/\([^/]*\)/.*|\1|p' "$PATCH")
    filter=$(sed -n 's/^# Filter: //p' "$PATCH")
    [ -n "$STEP" ] && [ -n "$filter" ] || fail "$PATCH needs a '--- a/solutions/STEP/...' line and a '# Filter:' line"
    make -s -C "$ROOT" "build/$kind/$name" >/dev/null
    dir="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$dir"
    ln -s "$ROOT/build/$kind/$name" "$dir/$STEP"
    run_check "$dir" "$STEP" --filter "$filter"
}

mutant_fails() {
    local name=$1 cause
    cause=$(sed -n 's/^# Cause: //p' "$ROOT/checks/mutants/$name.patch")
    [ -n "$cause" ] || fail "checks/mutants/$name.patch needs a '# Cause:' line: what the failure must name"
    run_variant mutants "$name"
    assert_taught_failure
    # The failure names the true cause, not a symptom.
    assert_output --partial "$cause"
    note "mutant $name: $(first_reason)"
}

@test "selfcheck: the 01 starter fails its check" { starter_fails 01_auto_commit; }
@test "selfcheck: the 02 starter fails its check" { starter_fails 02_manual_commit; }
@test "selfcheck: the 03 starter fails its check" { starter_fails 03_batch_commit; }
@test "selfcheck: the 06 starter fails its check" { starter_fails 06_async_commit; }
@test "selfcheck: the 07 starter fails its check" { starter_fails 07_idempotent_sink; }
@test "selfcheck: the 08 starter fails its check" { starter_fails 08_lag; }
@test "selfcheck: the 04 starter fails its check" { starter_fails 04_at_most_once; }
@test "selfcheck: the 05 starter fails its check" { starter_fails 05_store_after_processing; }
@test "selfcheck: the 09 starter fails its check" { starter_fails 09_transactions; }

@test "selfcheck: 01 with the default 5000 ms interval fails" { mutant_fails 01_default_interval; }
@test "selfcheck: 01 with auto-commit off fails" { mutant_fails 01_auto_commit_off; }
@test "selfcheck: 02 committing before processing fails" { mutant_fails 02_commit_before_processing; }
@test "selfcheck: 02 committing offset instead of offset+1 fails" { mutant_fails 02_off_by_one; }
@test "selfcheck: 03 committing per message fails" { mutant_fails 03_commit_per_message; }
@test "selfcheck: 03 committing the lowest offset of a batch fails" { mutant_fails 03_commit_first_offset; }
@test "selfcheck: 03 skipping the commit on Ctrl+C fails" { mutant_fails 03_no_commit_on_stop; }
@test "selfcheck: 07 order and offset in two transactions fails" { mutant_fails 07_two_transactions; }
@test "selfcheck: 07 storing offset instead of offset+1 fails" { mutant_fails 07_offset_not_next; }
@test "selfcheck: 07 not starting at the database's offsets fails" { mutant_fails 07_kafka_offsets; }
@test "selfcheck: 07 step 02's strategy without a key fails" { mutant_fails 07_kafka_commit_no_key; }
@test "selfcheck: 07 looking start offsets up by list position fails" { mutant_fails 07_start_by_list_index; }
@test "selfcheck: 07 reading start offsets once per run fails" { mutant_fails 07_offsets_read_once; }
@test "selfcheck: 07 starting at Kafka's offsets, commit kept, fails" { mutant_fails 07_kafka_start_commit_kept; }
@test "selfcheck: 07 committing the order before its work fails" { mutant_fails 07_commit_before_work; }
@test "selfcheck: 07 never updating the offsets row fails, not blamed on two transactions" { mutant_fails 07_offsets_never_updated; }
@test "selfcheck: 07 starting unseen partitions at the end fails, saying what it waited for" { mutant_fails 07_unseen_at_end; }

@test "selfcheck: 01 committing by itself as well fails" { mutant_fails 01_extra_manual_commit; }
@test "selfcheck: 01 with a 30 s interval fails" { mutant_fails 01_long_interval; }
@test "selfcheck: 01 with the offset store off fails" { mutant_fails 01_no_offset_store; }
@test "selfcheck: 01 that never serves its commit callback fails" { mutant_fails 01_callbacks_not_served; }
@test "selfcheck: 02 with auto-commit left on fails" { mutant_fails 02_auto_commit_left_on; }
@test "selfcheck: 02 committing asynchronously fails" { mutant_fails 02_async_commit; }
@test "selfcheck: 02 committing on the wrong partition fails" { mutant_fails 02_wrong_partition; }
@test "selfcheck: 02 committing offset+2 fails" { mutant_fails 02_offset_plus_two; }
@test "selfcheck: 02 committing every other message fails" { mutant_fails 02_commit_every_other; }
@test "selfcheck: 03 committing each partition in its own request fails" { mutant_fails 03_commit_per_partition; }
@test "selfcheck: 03 with auto-commit left on fails" { mutant_fails 03_auto_commit_left_on; }
@test "selfcheck: 03 committing the offset itself fails, and the tests that follow say: same cause" {
    mutant_fails 03_off_by_one
    [ "$(printf '%s\n' "$output" | grep -c ': same cause as test 1$')" -ge 2 ] ||
        fail "the crash and Ctrl+C tests should each say 'same cause as test 1': $output"
}
@test "selfcheck: 03 keeping its batch across a rebalance fails" { mutant_fails 03_batch_kept_across_rebalance; }
@test "selfcheck: 06 keeping its failed commits off stdout fails" { mutant_fails 06_failures_unreported; }
@test "selfcheck: 08 lag from the position instead of the committed offset fails" { mutant_fails 08_lag_from_position; }
@test "selfcheck: 09 step 02's strategy (produce, then the consumer's commit) fails" { mutant_fails 09_consumer_commit; }
@test "selfcheck: 09 offsets committed by the consumer after the transaction fails" { mutant_fails 09_offsets_by_consumer; }
@test "selfcheck: 09 no abort on an abortable error fails" { mutant_fails 09_no_abort; }
@test "selfcheck: 09 abort without a rewind fails" { mutant_fails 09_no_rewind; }
@test "selfcheck: 09 sending the last order's offset instead of the next fails" { mutant_fails 09_offsets_not_next; }
@test "selfcheck: 09 carrying on after being fenced fails" { mutant_fails 09_fenced_carries_on; }
@test "selfcheck: 09 never initialising the transactions fails" { mutant_fails 09_no_init; }
@test "selfcheck: 08 without the report after the last commit fails" { mutant_fails 08_no_final_report; }
@test "selfcheck: 08 restarting the commit clock on failed commits fails" { mutant_fails 08_clock_on_failed_commit; }
@test "selfcheck: 08 warning with lag 0 fails" { mutant_fails 08_warn_without_lag; }
@test "selfcheck: 08 with the last commit's clock starting at 0 fails" { mutant_fails 08_clock_starts_at_zero; }
@test "selfcheck: 08 taking the total lag from one partition only fails" { mutant_fails 08_lag_one_partition; }
@test "selfcheck: 08 measuring ages on the wall clock fails" { mutant_fails 08_wall_clock; }

@test "selfcheck: 04 committing after processing (at-least-once) fails" { mutant_fails 04_commit_after_processing; }
@test "selfcheck: 04 committing offset instead of offset+1 fails" { mutant_fails 04_off_by_one; }
@test "selfcheck: 04 committing asynchronously fails" { mutant_fails 04_async_commit; }
@test "selfcheck: 05 storing offset instead of offset+1 fails" { mutant_fails 05_store_offset_not_next; }
@test "selfcheck: 05 storing before processing fails" { mutant_fails 05_store_before_processing; }
@test "selfcheck: 05 leaving the automatic offset store on fails" { mutant_fails 05_auto_store_left_on; }
@test "selfcheck: 04 processing a message whose commit failed fails" { mutant_fails 04_commit_failure_ignored; }
@test "selfcheck: 02 printing committed for a refused commit fails" { mutant_fails 02_commit_failure_ignored; }
@test "selfcheck: 05 storing on the wrong partition fails" { mutant_fails 05_store_wrong_partition; }
@test "selfcheck: 05 storing offset+2 fails" { mutant_fails 05_store_offset_plus_two; }
@test "selfcheck: 05 the legacy store given offset+1 fails" { mutant_fails 05_legacy_store_plus_one; }
@test "selfcheck: 06 stopping on a failed commit fails" { mutant_fails 06_stop_on_failed_commit; }
@test "selfcheck: 06 reporting every partition as committed fails" { mutant_fails 06_callback_ignores_errors; }
@test "selfcheck: 06 reporting only the overall commit error fails" { mutant_fails 06_overall_error_only; }
@test "selfcheck: 06 committing before processing fails" { mutant_fails 06_commit_before_processing; }
@test "selfcheck: 06 reporting every partition of a partly refused commit as failed fails" { mutant_fails 06_partial_failure_all_failed; }
@test "selfcheck: 06 committing each batch by its last message (its partition only) fails" { mutant_fails 06_batch_commit_last_message; }

# A correct alternative (checks/alternatives/NAME.patch) passes the check it names.
alternative_passes() {
    run_variant alternatives "$1"
    assert_success
}

@test "selfcheck: 03 re-committing unchanged offsets (harmless) passes" { alternative_passes 03_recommit_unchanged; }
@test "selfcheck: 01 setting the interval before turning auto-commit on passes" { alternative_passes 01_interval_before_enable; }
@test "selfcheck: 01 with auto.offset.reset=smallest (earliest's older name) passes" { alternative_passes 01_reset_smallest; }
@test "selfcheck: 01 leaving enable.auto.commit at its default (true) passes" { alternative_passes 01_auto_commit_by_default; }
@test "selfcheck: 01 serving callbacks with rd_kafka_poll() in the loop passes" { alternative_passes 01_main_queue_polled; }
@test "selfcheck: 03 committing the stored offsets (no list) passes" { alternative_passes 03_commit_stored; }
@test "selfcheck: 03 storing the batch's offsets, then committing what is stored, passes" { alternative_passes 03_store_then_commit; }
@test "selfcheck: 06 destroying the messages before the commit call passes" { alternative_passes 06_destroy_first; }
@test "selfcheck: 06 handling a commit without error first in the callback passes" { alternative_passes 06_success_first; }
@test "selfcheck: 06 keeping confirmed offsets (re-committed, unchanged) passes" { alternative_passes 06_keep_confirmed; }
@test "selfcheck: 06 committing everything processed at a revoke passes" { alternative_passes 06_revoke_commits_all; }
@test "selfcheck: 03 committing on revoke during close (auto-commit off) passes" { alternative_passes 03_commit_on_revoke_at_close; }
@test "selfcheck: 02 committing a list at offset+1 passes" { alternative_passes 02_commit_list_next; }
@test "selfcheck: 02 storing, then committing what is stored, passes" { alternative_passes 02_store_then_commit_stored; }
@test "selfcheck: 04 committing a list at offset+1 passes" { alternative_passes 04_commit_list_next; }
@test "selfcheck: 02 committing through rd_kafka_commit_queue without a queue passes" { alternative_passes 02_commit_queue_sync; }
@test "selfcheck: 04 committing through rd_kafka_commit_queue without a queue passes" { alternative_passes 04_commit_queue_sync; }
@test "selfcheck: 04 storing, then committing what is stored, passes" { alternative_passes 04_store_then_commit_stored; }
@test "selfcheck: 05 with the legacy rd_kafka_offset_store (adds the +1 itself) passes" { alternative_passes 05_legacy_offset_store; }
@test "selfcheck: 05 freeing the store's list before printing passes" { alternative_passes 05_store_before_print; }
@test "selfcheck: 05 storing every partition's next offset each time passes" { alternative_passes 05_store_all_partitions; }
@test "selfcheck: 07 storing the offset before the work, in the same transaction, passes" { alternative_passes 07_offset_stored_before_work; }
@test "selfcheck: 07 check-then-insert and update-then-insert, BEGIN IMMEDIATE, passes" { alternative_passes 07_check_then_insert; }
@test "selfcheck: 07 INSERT OR IGNORE and INSERT OR REPLACE passes" { alternative_passes 07_insert_or_ignore_replace; }
@test "selfcheck: 07 an asynchronous Kafka commit kept for make lag passes" { alternative_passes 07_async_kafka_commit; }
@test "selfcheck: 07 assigning a list of its own, in reverse order, passes" { alternative_passes 07_assign_own_list; }
@test "selfcheck: 08 measuring ages on CLOCK_BOOTTIME passes" { alternative_passes 08_boottime_clock; }
@test "selfcheck: 08 counting only fully successful commits passes" { alternative_passes 08_ok_only_on_full_success; }
@test "selfcheck: 08 querying the log end from the leader passes" { alternative_passes 08_query_watermarks; }
@test "selfcheck: 08 reporting after the commit instead of before the fetch passes" { alternative_passes 08_report_after_commit; }
@test "selfcheck: 09 sending the consumer's positions (as librdkafka's example) passes" { alternative_passes 09_position_offsets; }
@test "selfcheck: 09 rewinding to the batch's first orders by seek passes" { alternative_passes 09_rewind_to_batch_start; }
@test "selfcheck: 09 one transaction per order passes" { alternative_passes 09_txn_per_order; }

@test "selfcheck: every mutant in checks/mutants has a test here" {
    for patch in "$ROOT"/checks/mutants/*.patch; do
        name=$(basename "$patch" .patch)
        grep -qE "mutant_fails $name(;| *$)" "$BATS_TEST_FILENAME" || fail "checks/mutants/$name.patch is not run by selfcheck.bats"
    done
}

@test "selfcheck: every alternative in checks/alternatives has a test here" {
    for patch in "$ROOT"/checks/alternatives/*.patch; do
        name=$(basename "$patch" .patch)
        grep -qE "alternative_passes $name(;| *$)" "$BATS_TEST_FILENAME" || fail "checks/alternatives/$name.patch is not run by selfcheck.bats"
    done
}

# A broken learner binary must fail within the timeout, say why, and leave nothing behind.
# Usage: bad_binary_fails STEP FILTER SCRIPT_BODY EXPECTED_TEXT
bad_binary_fails() {
    local step=$1 filter=$2 body=$3 expected=$4 dir="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$dir"
    printf '#!/usr/bin/env bash\n%s\n' "$body" >"$dir/$step"
    chmod +x "$dir/$step"
    RUN_TIMEOUT=6 run_check "$dir" "$step" --filter "$filter"
    assert_failure
    assert_output --partial "$expected"
    run ! pgrep -f "$dir/$step"
}

@test "selfcheck: a binary that hangs fails within the timeout and is killed" {
    bad_binary_fails 02_manual_commit "committed once" 'trap "" INT TERM; while :; do sleep 1; done' \
        "did not end within 6s"
}

@test "selfcheck: a binary that crashes at once fails with the signal named" {
    bad_binary_fails 03_batch_commit "one commit per batch" 'kill -SEGV $$' \
        "killed by signal 11: a real crash"
}

@test "selfcheck: a binary that prints nothing fails: nothing was processed" {
    bad_binary_fails 01_auto_commit "3000 ms timer" 'exit 0' "it processed none"
}

@test "selfcheck: a binary that prints the expected lines without consuming fails on the broker's record" {
    # It prints plausible started/processed/committed lines but never talks to Kafka.
    bad_binary_fails 02_manual_commit "committed once" '
for i in $(seq 0 7); do for p in 0 1 2; do
  now=$(date +%s%3N)
  echo "started partition=$p offset=$i value=Order-$((i * 3 + p + 1)) at=$now"
  echo "processed partition=$p offset=$i value=Order-$((i * 3 + p + 1)) at=$now"
  echo "committed partition=$p offset=$((i + 1)) at=$now"
done; done' "the broker recorded 0"
}
