#!/usr/bin/env bats
# What a check prints (scripts/bats-report, the formatter check.sh gives bats): one line
# per test with its time, the reason without bats' own location and source lines, a
# second failure with the same cause said in one line, each test's notes (its timeline)
# after its verdict, at most 25 lines of reasons, and the same results as JSON.
# Fed with recorded bats streams (report-fixtures/), so no broker is needed.

setup() {
    load ../test_helper/common
    FIX=$BATS_TEST_DIRNAME/report-fixtures
    REPORT=$ROOT/scripts/bats-report
}

@test "report: ok and FAIL lines with times; reasons without bats' noise; notes after the verdict" {
    run -0 "$REPORT" <"$FIX/stream.txt"
    assert_line --index 0 "  ok    02: first (1.2 s)"
    assert_line --index 1 "      a note before the verdict (the timeline)"
    assert_line --index 2 "  FAIL  02: second (2.5 s)"
    assert_line --index 3 "        The program committed a message before it was processed: that is at-most-once."
    refute_output --partial "in test file"
    refute_output --partial "failed"$'\n'
    refute_output --partial '`fail_on_findings'
    refute_output --partial "line 12: a shell's own complaint"
}

@test "report: a failure with the same cause as an earlier one says so in one line, then its own timeline" {
    run -0 "$REPORT" <"$FIX/stream.txt"
    assert_line "  FAIL  02: third (3.0 s): same cause as test 2"
    refute_output --partial "partition 0 offset 4"
    # The third test's notes still come, after its verdict.
    n_verdict=$(printf '%s\n' "$output" | grep -n 'FAIL  02: third' | cut -d: -f1)
    n_note=$(printf '%s\n' "$output" | grep -n 'its own timeline' | cut -d: -f1)
    [ "$n_note" -gt "$n_verdict" ] || fail "the note came before the verdict: $output"
}

@test "report: at most 25 lines of reasons, then where the full record is" {
    WORKBOOK_FULL_RECORD=build/results/x.tap run -0 "$REPORT" <"$FIX/long.txt"
    assert_line "        reason line 25"
    refute_line "        reason line 26"
    assert_line "  (more in the full record: build/results/x.tap)"
}

@test "report: WORKBOOK_JSON gets each test's name, result, reason and seconds, as valid JSON" {
    WORKBOOK_JSON=$BATS_TEST_TMPDIR/r.json run -0 "$REPORT" <"$FIX/stream.txt"
    # Milliseconds, as numbers: jq 1.7 prints a number as written (2.500), jq 1.6 did not (2.5).
    run -0 jq -r '.[] | [.name, .result, .reason, (.seconds * 1000 | round | tostring)] | join("|")' "$BATS_TEST_TMPDIR/r.json"
    assert_line --index 0 "02: first|pass||1234"
    assert_line --index 1 "02: second|fail|The program committed a message before it was processed: that is at-most-once.|2500"
    assert_line --index 3 '02: fourth|fail|Control: "quoted" \ back	tab|100'
}
