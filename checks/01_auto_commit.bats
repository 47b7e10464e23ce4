#!/usr/bin/env bats
# Step 01: auto-commit. Judged from the broker's record of the group's commits
# (build/tools/commits) together with the program's started/processed lines.

STEP=01_auto_commit

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

# The settings the lesson is about, as the program gave them to librdkafka (the probe):
# a wrong one is the true cause of whatever the broker's record shows, so it is named first.
expect_settings() {
    local v
    v=$(setting enable.auto.commit)
    [ "$v" != false ] || fail "$(printf '%s\n%s\n%s' \
        "Auto-commit is off (enable.auto.commit is false), and in this step nothing else commits: turn it on." \
        "The broker recorded $(summary requests_librdkafka) automatic commit request(s)." "$(hint_for $STEP)")"
    v=$(setting enable.auto.offset.store)
    [ "$v" != false ] || fail "$(printf '%s\n%s\n%s' \
        "librdkafka stores no offsets (enable.auto.offset.store is false), so its timer has nothing to commit: leave the offset store to librdkafka in this step." \
        "The broker recorded $(summary requests_librdkafka) automatic commit request(s)." "$(hint_for $STEP)")"
    v=$(setting auto.commit.interval.ms)
    [ "$v" = 3000 ] || fail "$(printf '%s\n%s\n%s' \
        "The auto-commit timer fires every ${v:-5000} ms$([ "${v:-5000}" = 5000 ] && echo ", librdkafka's default"); the exercise wants a commit every 3 seconds." \
        "The program gave auto.commit.interval.ms=${v:-(nothing: the default)} to librdkafka." "$(hint_for $STEP)")"
}

@test "01: auto-commit commits on a 3000 ms timer, not after each message" {
    fresh_topic 30
    launched=$(now_ms)
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 250 --crash-at 0 --idle-exit 2
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    analyze_runs 30 "$BATS_TEST_TMPDIR/run"
    n_processed=$(summary processed1)
    n_program=$(summary requests_program)
    [ "$n_program" -eq 0 ] || fail "$(printf '%s\n%s\n%s' \
        "In this step librdkafka's timer does every commit; the program committed by itself too." \
        "The probe saw $n_program commit request(s) made by the program's own calls ($(facts request by=program | head -n1 | sed 's/.* fn=\([a-z_]*\).*/\1/'), ...)." "$(hint_for $STEP)")"
    expect_settings
    expect_timer $STEP 3000 "$(created_ms "$BATS_TEST_TMPDIR/run" "$launched")" 2

    # TODO 3: the program reports each automatic commit (its offset-commit callback), and
    # what it reports is what the broker recorded.
    facts request by=librdkafka close=0 | sed 's/.* parts=//' | tr ',' '\n' | sort -u >"$BATS_TEST_TMPDIR/recorded"
    sed -n 's/^% auto-commit: partition \([0-9]*\) offset \([0-9]*\)$/\1:\2/p' "$BATS_TEST_TMPDIR/run.err" | sort -u >"$BATS_TEST_TMPDIR/reported"
    [ -s "$BATS_TEST_TMPDIR/reported" ] || fail "$(printf '%s\n%s\n%s' \
        "The program never reported an automatic commit: its offset-commit callback is never called, because librdkafka serves callbacks only from a poll of the queue they are on." \
        "The broker recorded $(wc -l <"$BATS_TEST_TMPDIR/recorded") automatic commit(s) (partition:offset): $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/recorded")" "$(hint_for $STEP)")"
    unreported=$(comm -23 "$BATS_TEST_TMPDIR/recorded" "$BATS_TEST_TMPDIR/reported" | tr '\n' ' ')
    [ -z "$unreported" ] || fail "$(printf '%s\n%s' \
        "The program did not report every automatic commit the broker recorded." \
        "Recorded but never reported on stderr (partition:offset): $unreported")"
    invented=$(facts request by=librdkafka | sed 's/.* parts=//' | tr ',' '\n' | sort -u |
        comm -13 - "$BATS_TEST_TMPDIR/reported" | tr '\n' ' ')
    [ -z "$invented" ] || fail "$(printf '%s\n%s' \
        "The program reported automatic commits that the broker never recorded." "Reported (partition:offset): $invented")"
    note "auto-commit: $n_processed orders, $TIMER_COMMITS timer commits, ms between them: ${TIMER_GAPS:-none}; all reported on stderr"
}

@test "01: after a crash the rerun starts at the committed offsets; the check counts replays and losses" {
    fresh_topic 30
    crash_and_rerun $STEP 14 -p 250
    expect_settings
    [ -s "$BATS_TEST_TMPDIR/commits1" ] || fail "Expected at least one automatic commit in the 3.5 s before the crash; the broker recorded none. Is auto-commit on, every 3000 ms? $(hint_for $STEP)"

    crashed=$(facts order in_hand=1 | head -n1)
    crashed_value=$(field "$crashed" value)
    replayed=$(orders_where 'processed1 > 0 && started2 > 0')
    lost=$(never_processed)
    # Only the order in hand at the crash can be lost: its offset was stored when
    # librdkafka handed it over, before processing, and a timer commit took it along.
    if [ -n "$lost" ] && [ "$lost" != "$crashed_value" ]; then
        fail "Lost orders $(echo $lost), but only the order in hand at the crash ($crashed_value) can be lost with auto-commit. $(hint_for $STEP)"
    fi
    n_replayed=$(printf '%s' "$replayed" | grep -c . || true)
    n_lost=$(printf '%s' "$lost" | grep -c . || true)
    why_replayed="processed after the last timer commit, so the broker still had their offsets uncommitted"
    why_lost="its offset was stored when librdkafka handed it over, before processing, and a timer commit fired while it was being processed: at-most-once"
    note "crash while processing $crashed_value (partition $(field "$crashed" partition), offset $(field "$crashed" offset))"
    note "processed again by the rerun: $n_replayed ${replayed:+($(echo $replayed)) }- $why_replayed"
    if [ "$n_lost" -gt 0 ]; then note "lost: $n_lost ($(echo $lost)) - $why_lost"
    else note "lost: 0 - the last timer commit came before the crashed order was handed over, so it was redelivered"; fi
}
