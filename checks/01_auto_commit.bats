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

# The group's commits grouped into rounds: one OffsetCommit request carries every
# partition and the broker stamps them all with one time. Prints "commit_ms records".
commit_rounds() { awk '{ n[$3]++ } END { for (t in n) print t, n[t] }' "$1" | sort -n; }

@test "01: auto-commit commits on a 3000 ms timer, not after each message" {
    fresh_topic 30
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

    [ "$n_timer" -gt 0 ] || fail "Expected automatic commits while the orders were being processed ($n_processed orders, about $(( (last_done - launched) / 1000 )) s); the broker recorded none. Is enable.auto.commit on? $(hint_for $STEP)"
    # The timer starts when the consumer is created, a few ms after launch, and fires every
    # interval; a tick with nothing new to commit sends nothing (on a busy machine the
    # first orders may arrive after the first tick). So: the first timer commit lands on a
    # multiple of 3000 ms after launch, and from then on, while orders keep being
    # processed, one lands every 3000 ms.
    gaps=$(awk -v t0="$launched" '{ print $1 - t0; t0 = $1 }' "$BATS_TEST_TMPDIR/timer" | tr '\n' ' ')
    bad=$(awk -v t0="$launched" '
        function off(ms,   k) { k = int(ms / 3000 + 0.5); return k < 1 ? 3000 : (ms - k * 3000 < 0 ? k * 3000 - ms : ms - k * 3000) }
        NR == 1 { if (off($1 - t0) > 700) { print $1 - t0; exit } }
        NR > 1  { gap = $1 - prev; if (gap < 2500 || gap > 3700) { print gap; exit } }
        { prev = $1 }' "$BATS_TEST_TMPDIR/timer")
    if [ -n "$bad" ]; then
        if [ "$bad" -ge 4500 ] && [ "$bad" -le 5800 ]; then
            why="about 5000 ms is librdkafka's default auto.commit.interval.ms: set it to 3000"
        else
            why="set auto.commit.interval.ms to 3000"
        fi
        first=${gaps%% *} rest=${gaps#* }
        fail "Expected an automatic commit every 3000 ms; the broker recorded the first ${first} ms after launch${rest:+, then the next ones after (ms): ${rest% }}: $why. $(hint_for $STEP)"
    fi
    [ "$n_timer" -ge 2 ] || fail "Expected at least 2 timer commits in $(( (last_done - launched) / 1000 )) s of processing; the broker recorded $n_timer. $(hint_for $STEP)"
    [ "$n_timer" -lt "$n_processed" ] || fail "Expected fewer commits than messages: auto-commit commits on a timer, not after each message. $(hint_for $STEP)"
    run grep -c '^committed ' "$BATS_TEST_TMPDIR/run.out"
    [ "$output" -eq 0 ] || fail "This program should not commit by itself (it printed $output 'committed' lines): in this step librdkafka's timer does it."
    note "auto-commit: $n_processed orders, $n_timer timer commits, ms between them: $gaps"
}

@test "01: after a crash the rerun starts at the committed offsets; the check counts replays and losses" {
    fresh_topic 30
    crash_and_rerun $STEP 14 -p 250
    [ -s "$BATS_TEST_TMPDIR/commits1" ] || fail "Expected at least one automatic commit in the 3.5 s before the crash; the broker recorded none. Is auto-commit on, every 3000 ms? $(hint_for $STEP)"

    events processed "$BATS_TEST_TMPDIR/crash.out" >"$BATS_TEST_TMPDIR/processed1"
    events processed "$BATS_TEST_TMPDIR/rerun.out" >"$BATS_TEST_TMPDIR/processed2"
    crashed=$(events started "$BATS_TEST_TMPDIR/crash.out" | sed -n 14p)
    replayed=$(comm -12 <(values "$BATS_TEST_TMPDIR/processed1") <(values "$BATS_TEST_TMPDIR/restarted"))
    lost=$(missing_values 30 "$BATS_TEST_TMPDIR/processed1" "$BATS_TEST_TMPDIR/processed2")
    # Only the order in hand at the crash can be lost: its offset was stored when
    # librdkafka handed it over, before processing, and a timer commit took it along.
    if [ -n "$lost" ] && [ "$lost" != "$(echo "$crashed" | awk '{print $3}')" ]; then
        fail "Lost orders $(echo $lost), but only the order in hand at the crash ($(echo "$crashed" | awk '{print $3}')) can be lost with auto-commit. $(hint_for $STEP)"
    fi
    n_replayed=$(printf '%s' "$replayed" | grep -c . || true)
    n_lost=$(printf '%s' "$lost" | grep -c . || true)
    why_replayed="processed after the last timer commit, so the broker still had their offsets uncommitted"
    why_lost="its offset was stored when librdkafka handed it over, before processing, and a timer commit fired while it was being processed: at-most-once"
    note "crash while processing $(echo "$crashed" | awk '{print $3, "(partition " $1 ", offset " $2 ")"}')"
    note "processed again by the rerun: $n_replayed ${replayed:+($(echo $replayed)) }- $why_replayed"
    if [ "$n_lost" -gt 0 ]; then note "lost: $n_lost ($(echo $lost)) - $why_lost"
    else note "lost: 0 - the last timer commit came before the crashed order was handed over, so it was redelivered"; fi
}
