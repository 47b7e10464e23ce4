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
    [ -z "${STEP_PID:-}" ] || kill -KILL "$STEP_PID" 2>/dev/null || true
}

# The batches a run printed: a batch is a run of `started` lines and the lines up to the
# next `started`. One line per batch:
#   first_started_ms last_processed_ms size partition:next_offset,partition:next_offset...
# (next_offset = the highest offset of that partition in the batch + 1, what its commit
# must say.)
batches() {
    awk '
        function flush() {
            if (size == 0) return
            parts = ""
            for (p = 0; p < 64; p++) if (p in top) parts = parts (parts == "" ? "" : ",") p ":" (top[p] + 1)
            print first, last, size, parts
            delete top; size = 0; last = 0
        }
        function field(name,   i, kv) {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
        }
        $1 == "started" {
            if (prev != "started") { flush(); first = field("at") }
            size++; p = field("partition") + 0; o = field("offset") + 0
            if (!(p in top) || o > top[p]) top[p] = o
        }
        $1 == "processed" { last = field("at") }
        $1 == "started" || $1 == "processed" || $1 == "committed" { prev = $1 }
        END { flush() }' "$1"
}

# The broker's commit rounds: "commit_ms partition:offset,partition:offset..." (one
# OffsetCommit request carries every partition; the broker stamps them with one time).
rounds() {
    awk '{ if (!($3 in seen)) { order[++n] = $3; seen[$3] = 1 }
           parts[$3] = parts[$3] (parts[$3] == "" ? "" : ",") $1 ":" $2 }
         END { for (i = 1; i <= n; i++) print order[i], parts[order[i]] }' "$1" |
        awk '{ n = split($2, a, ","); for (i = 1; i <= n; i++) s[i] = a[i]
               # partitions in numeric order, to compare with batches()
               for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                   split(s[i], x, ":"); split(s[j], y, ":"); if (y[1] + 0 < x[1] + 0) { t = s[i]; s[i] = s[j]; s[j] = t } }
               out = s[1]; for (i = 2; i <= n; i++) out = out "," s[i]; print $1, out }'
}

@test "03: one commit per batch of at most 5, after the batch and covering each of its partitions" {
    fresh_topic 28
    run_step $STEP "$BATS_TEST_TMPDIR/run" -p 300 --crash-at 0 --idle-exit 2
    expect_some_processed "$BATS_TEST_TMPDIR/run.out"
    expect_exit 0 "after --idle-exit" "$BATS_TEST_TMPDIR/run"
    batches "$BATS_TEST_TMPDIR/run.out" >"$BATS_TEST_TMPDIR/batches"
    broker_commits >"$BATS_TEST_TMPDIR/commits"
    rounds "$BATS_TEST_TMPDIR/commits" >"$BATS_TEST_TMPDIR/rounds"
    n_batches=$(wc -l <"$BATS_TEST_TMPDIR/batches")
    n_rounds=$(wc -l <"$BATS_TEST_TMPDIR/rounds")

    big=$(awk '$3 > 5 { print $3; exit }' "$BATS_TEST_TMPDIR/batches")
    [ -z "$big" ] || fail "Expected batches of at most 5 messages; one had $big. Take up to 5 per poll. $(hint_for $STEP)"
    if [ "$n_rounds" -ne "$n_batches" ]; then
        why=""
        [ "$n_rounds" -lt "$n_batches" ] && why=" Fewer commits than batches: a timer commits instead of the program (is enable.auto.commit still on?)."
        [ "$n_rounds" -gt "$n_batches" ] && why=" More commits than batches: commit once per batch, with one list covering all its partitions, not once per message or per partition."
        [ "$n_rounds" -eq 0 ] && why=" Nothing was committed: after processing a batch, commit it."
        fail "Expected one commit per batch ($n_batches batches); the broker recorded commits at $n_rounds different times.$why $(hint_for $STEP)"
    fi
    # Batch i and commit i side by side.
    problem=$(paste -d' ' "$BATS_TEST_TMPDIR/batches" "$BATS_TEST_TMPDIR/rounds" | awk '
        { first[NR] = $1; last[NR] = $2; want[NR] = $4; at[NR] = $5; got[NR] = $6 }
        END {
            for (i = 1; i <= NR; i++) {
                if (at[i] < last[i]) {
                    printf "Batch %d was committed %d ms before it finished processing: the commit came before processing, which is at-most-once.", i, last[i] - at[i]; exit }
                if (i < NR && at[i] > first[i + 1]) {
                    printf "Batch %d was committed only after batch %d had started: commit each batch before fetching the next.", i, i + 1; exit }
                if (got[i] != want[i]) {
                    printf "Batch %d needed the commit (partition:next offset) %s; the broker recorded %s. Commit, for every partition in the batch, its highest offset + 1.", i, want[i], got[i]; exit }
            }
        }')
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    spanning=$(awk '$4 ~ /,/' "$BATS_TEST_TMPDIR/batches" | wc -l)
    [ "$spanning" -gt 0 ] || fail "No batch spanned several partitions in this run, so the check could not verify multi-partition commits; batches were: $(awk '{print $4}' "$BATS_TEST_TMPDIR/batches" | tr '\n' ' ')"
    note "$n_batches batches, $n_rounds commits, $spanning batch(es) across partitions"
}

@test "03: a crash mid-batch, then a rerun: nothing lost, only the batch in hand again" {
    fresh_topic 28
    crash_and_rerun $STEP 13 -p 300

    events processed "$BATS_TEST_TMPDIR/crash.out" "$BATS_TEST_TMPDIR/rerun.out" >"$BATS_TEST_TMPDIR/processed"
    lost=$(missing_values 28 "$BATS_TEST_TMPDIR/processed")
    [ -z "$lost" ] || fail "Expected every order processed at least once; never processed: $(echo $lost). Their offsets were committed before their batch was processed: at-most-once. $(hint_for $STEP)"

    # The batch in hand at the crash: started but not processed in the first run.
    in_hand=$(comm -23 <(events started "$BATS_TEST_TMPDIR/crash.out" | values) <(events processed "$BATS_TEST_TMPDIR/crash.out" | values))
    again=$(comm -12 <(events started "$BATS_TEST_TMPDIR/crash.out" | values) <(values "$BATS_TEST_TMPDIR/restarted"))
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

    rerun_after_stop $STEP 28 "The batch in hand must be committed before the program closes."
}

@test "03: a commit the broker refuses is reported by its error name, and the program stops" {
    fresh_topic 6
    failed_commit_stops $STEP 5
}
