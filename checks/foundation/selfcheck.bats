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
    WORKBOOK_BIN=$bin run timeout 300 bats "$@" "$ROOT/checks/$step.bats"
}

# A failure must be the check's verdict, not a broken test set-up.
assert_taught_failure() {
    assert_failure
    assert_output --partial "not ok"
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
    note "starter $step: $(printf '%s\n' "$output" | grep -m1 -A4 '^not ok' | grep -m1 -E '^# [A-Z]' | cut -c3-160)"
}

mutant_fails() {
    local name=$1 patch=$ROOT/checks/mutants/$1.patch step filter dir
    step=$(sed -n 's|^--- a/solutions/\([^/]*\)/.*|\1|p' "$patch")
    filter=$(sed -n 's/^# Filter: //p' "$patch")
    [ -n "$step" ] && [ -n "$filter" ] || fail "$patch needs a '--- a/solutions/STEP/...' line and a '# Filter:' line"
    make -s -C "$ROOT" "build/mutants/$name" >/dev/null
    dir="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$dir"
    ln -s "$ROOT/build/mutants/$name" "$dir/$step"
    run_check "$dir" "$step" --filter "$filter"
    assert_taught_failure
    note "mutant $name: $(printf '%s\n' "$output" | grep -m1 -A4 '^not ok' | grep -m1 -E '^# [A-Z]' | cut -c3-160)"
}

@test "selfcheck: the 01 starter fails its check" { starter_fails 01_auto_commit; }
@test "selfcheck: the 02 starter fails its check" { starter_fails 02_manual_commit; }
@test "selfcheck: the 03 starter fails its check" { starter_fails 03_batch_commit; }
@test "selfcheck: the 04 starter fails its check" { starter_fails 04_at_most_once; }
@test "selfcheck: the 05 starter fails its check" { starter_fails 05_store_after_processing; }

@test "selfcheck: 01 with the default 5000 ms interval fails" { mutant_fails 01_default_interval; }
@test "selfcheck: 01 with auto-commit off fails" { mutant_fails 01_auto_commit_off; }
@test "selfcheck: 02 committing before processing fails" { mutant_fails 02_commit_before_processing; }
@test "selfcheck: 02 committing offset instead of offset+1 fails" { mutant_fails 02_off_by_one; }
@test "selfcheck: 03 committing per message fails" { mutant_fails 03_commit_per_message; }
@test "selfcheck: 03 committing the lowest offset of a batch fails" { mutant_fails 03_commit_first_offset; }
@test "selfcheck: 03 skipping the commit on Ctrl+C fails" { mutant_fails 03_no_commit_on_stop; }
@test "selfcheck: 04 committing after processing (at-least-once) fails" { mutant_fails 04_commit_after_processing; }
@test "selfcheck: 04 committing offset instead of offset+1 fails" { mutant_fails 04_off_by_one; }
@test "selfcheck: 04 committing asynchronously fails" { mutant_fails 04_async_commit; }
@test "selfcheck: 05 storing offset instead of offset+1 fails" { mutant_fails 05_store_offset_not_next; }
@test "selfcheck: 05 storing before processing fails" { mutant_fails 05_store_before_processing; }
@test "selfcheck: 05 leaving the automatic offset store on fails" { mutant_fails 05_auto_store_left_on; }

@test "selfcheck: every mutant in checks/mutants has a test here" {
    for patch in "$ROOT"/checks/mutants/*.patch; do
        name=$(basename "$patch" .patch)
        grep -q "mutant_fails $name;" "$BATS_TEST_FILENAME" || fail "checks/mutants/$name.patch is not run by selfcheck.bats"
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
