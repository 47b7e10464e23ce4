#!/usr/bin/env bats
# Step 09: transactions, exactly once from topic to topic. Judged from the broker: the
# invoices as a read_committed and as a read_uncommitted reader see them
# (build/tools/invoices), the group's commits and whether their transaction committed
# (build/tools/commits --txn), the group's offsets against each partition's end
# (build/tools/lag). The probe (tools/probe/txn.c) says which transactional calls the
# program made, to name the cause, and injects the faults: an abortable error
# (stale-member:N), a crash between the offsets and the commit (crash-before-commit:N).
# A control run of step 02's strategy (the mutant checks/mutants/09_consumer_commit,
# built from the solution) measures the duplicates the same kills cause without one.

STEP=09_transactions
KILLS=6         # kill -9 at random points, then a run to the end
MORE_KILLS=6    # the control: more kills, if the first ones made no duplicate
WORK_MS=50      # -p of the killed runs

setup_file() {
    load test_helper/common
    workbook_setup_file
}

setup() {
    load test_helper/common
}

teardown() {
    # STEP_PID may be a subshell (start_killable): the program is its grandchild.
    [ -z "${STEP_PID:-}" ] || kill -KILL $(program_pid) "$STEP_PID" 2>/dev/null || true
    STEP_PID= workbook_teardown
    if [ "${BATS_TEST_COMPLETED:-}" = 1 ] && [ -n "${OUT:-}" ]; then
        timeout 10 "$TOOLS/forget" -b "$BROKER" -t "$OUT" >/dev/null 2>&1 3>&- || true
    fi
}

# ------------------------------------------------------------------ set-up and runs

# A fresh topic of COUNT orders and group (fresh_topic), and the topic of their
# invoices, OUT, with 3 partitions. TXN_ID: the transactional.id of this test's runs.
fresh_pipeline() {
    fresh_topic "$1"
    COUNT=$1 OUT=$TOPIC-invoices TXN_ID=$GROUP-instance-1
    run -0 timeout 30 "$TOOLS/topic" -b "$BROKER" -t "$OUT" -p 3
}

# Run the program under test (run_step) with this test's output topic and
# transactional.id. Usage: run_txn PREFIX [args...]
run_txn() { local prefix=$1; shift; run_step $STEP "$prefix" --out "$OUT" --txn-id "$TXN_ID" "$@"; }

# A run to the end of the orders: it must end by itself, exit 0.
run_to_end() {
    member_opts
    run_txn "$BATS_TEST_TMPDIR/final" -p 10 --crash-at 0 --idle-exit 2 --exit-at-end "${MEMBER_OPTS[@]}"
    [ "$STEP_STATUS" -eq 0 ] || fail "$(printf '%s\n%s\n%s\n%s' "$(txn_cause "$BATS_TEST_TMPDIR"/*.probe)" \
        "The run to the end ($1) exited $STEP_STATUS ($(status_meaning "$STEP_STATUS")). Its stderr ends with:" \
        "$(tail -n 4 "$BATS_TEST_TMPDIR/final.err")" "$(hint_for $STEP)")"
}

# ------------------------------------------------------------------ judging (step 09)

# The invoices as a reader of ISOLATION sees them, listed in FILE (partition offset key
# value), and its summary in FILE.summary. Usage: read_invoices ISOLATION FILE
read_invoices() {
    timeout 60 "$TOOLS/invoices" -b "$BROKER" -t "$OUT" --isolation "$1" --list >"$2.all" 2>"$2.err" ||
        fail "$(printf 'Could not read the invoices (%s): %s' "$1" "$(cat "$2.err")")"
    grep -v '^invoices: \|^  ' "$2.all" >"$2" || true
    grep '^invoices: ' "$2.all" >"$2.summary" || true
}

# Orders with more than one invoice in FILE: "Order-N times", one per line.
twice_in() { awk -F'\t' '{ n[$3]++ } END { for (k in n) if (n[k] > 1) print k, n[k] }' "$1" | sort -V; }
# Orders of 1..COUNT with no invoice in FILE.
missing_in() { comm -23 <(seq 1 "$COUNT" | sed 's/^/Order-/' | sort) <(cut -f3 "$1" | sort -u) | sort -V; }
# Invoices whose value is not Invoice-for-<its key>.
wrong_in() { awk -F'\t' '$4 != "Invoice-for-" $3 { print $3 " -> " $4 }' "$1" | head -n 3; }

# The first line of a failure: what the probe says the program did wrong, the most
# basic first; nothing when it made every call. Usage: txn_cause PROBE...
txn_cause() {
    cat "$@" 2>/dev/null | awk '
        /^producer transactional\.id=/ { id = 1 }
        /^call fn=txn_init .* err=NO_ERROR/ { init = 1 }
        /^call fn=txn_begin / { begin = 1 }
        # Each offset sent, against the highest offset of its partition handed to the
        # program by then (delivered=): the next to read is one past it.
        /^call fn=txn_offsets / { offsets++
            split($0, f, " "); for (i in f) { if (f[i] ~ /^offsets=/) o = substr(f[i], 9); if (f[i] ~ /^delivered=/) d = substr(f[i], 11) }
            n = split(o, pairs, ","); m = split(d, dpairs, ",")
            for (i = 1; i <= n; i++) { split(pairs[i], po, ":"); sent++; for (j = 1; j <= m; j++) { split(dpairs[j], pd, ":")
                if (pd[1] == po[1] && po[2] + 0 == pd[2] + 0) own++ } } }
        /^call fn=txn_commit .* err=NO_ERROR/ { commits++ }
        /^call fn=commit(_message|_queue)? / { consumer_commits++ }
        /^call fn=txn_[a-z]* .* kind=abortable/ { abortable = 1; aborted_after = 0 }
        /^call fn=txn_abort .* err=NO_ERROR/ { aborted_after = 1 }
        END {
            if (!id) print "The producer has no transactional.id, so it writes no transaction: every invoice is visible at once, whatever becomes of the offsets (TODO 1)."
            else if (!init) print "The producer never initialised its transactions (the call that registers the transactional.id with the broker, once, before the first one: TODO 1)."
            else if (!begin) print "No transaction was ever begun: each batch must be one transaction, begun before its first invoice (TODO 2)."
            else if (consumer_commits) print "The consumer committed offsets itself (" consumer_commits " rd_kafka_commit call(s)): outside the transaction, the offsets and the invoices can part again. Send the offsets to the transaction instead (TODO 2)."
            else if (!offsets) print "No offsets were sent to the transactions: the invoices are committed, the group'"'"'s offsets never move, and each rerun writes them all again. Send the batch'"'"'s offsets to each transaction (TODO 2)."
            else if (sent && own == sent) print "The offsets sent with a transaction are the last order'"'"'s own offset, not the next one to read (offset + 1): each rerun reads that order again and invoices it twice (TODO 2)."
            else if (abortable && !aborted_after) print "After an abortable error the transaction was not aborted (no rd_kafka_abort_transaction call): the program must abort it, rewind, and do the batch again (TODO 3)."
        }'
}

# Fail unless a read_committed reader sees each order's invoice exactly once. WHAT: the
# runs, for the evidence. Sets READ_COMMITTED (the listing). Usage: expect_exactly_once WHAT PROBE...
expect_exactly_once() {
    local what=$1 twice lost wrong cause; shift
    READ_COMMITTED=$BATS_TEST_TMPDIR/read_committed
    read_invoices read_committed "$READ_COMMITTED"
    cause=$(txn_cause "$@")
    twice=$(twice_in "$READ_COMMITTED")
    [ -z "$twice" ] || fail "$(printf '%s\n%s\n%s\n%s' "${cause:-Invoices of the same order were committed twice: the offsets of an order must be committed in the same transaction as its invoice, and only then (TODO 2).}" \
        "After $what, a read_committed reader sees these orders invoiced more than once (order times): $(echo $twice)." \
        "$(cat "$READ_COMMITTED.summary")" "$(hint_for $STEP)")"
    lost=$(missing_in "$READ_COMMITTED")
    if [ -n "$lost" ]; then
        [ -n "$cause" ] || ! grep -q '^transaction aborted' "$BATS_TEST_TMPDIR"/*.out 2>/dev/null ||
            cause="After an abort the consumer went on past the aborted batch: its orders were never invoiced again. Rewind to the committed offsets after each abort (TODO 3)."
        fail "$(printf '%s\n%s\n%s\n%s' "${cause:-Orders were lost: their offsets were committed, but no committed transaction holds their invoices.}" \
            "After $what, a read_committed reader sees no invoice for: $(echo $lost | cut -c1-300)." \
            "$(cat "$READ_COMMITTED.summary")" "$(hint_for $STEP)")"
    fi
    wrong=$(wrong_in "$READ_COMMITTED")
    [ -z "$wrong" ] || fail "$(printf 'Each invoice must be keyed by its order, with the value Invoice-for-<order> (step_invoice()); seen: %s\n%s' "$(echo $wrong)" "$(hint_for $STEP)")"
}

# Fail unless the group's offsets are at the end of each partition of the orders.
expect_offsets_at_end() {
    local ends cause
    ends=$(log_ends)
    [ "$(group_offsets)" = "$ends" ] && return 0
    cause=$(txn_cause "$@")
    [ -n "$cause" ] || cause="The group's offsets did not reach the end of the orders, though every order was done."
    fail "$(printf '%s\n%s\n%s\n%s\n%s' "$cause" \
        "Expected the group's committed offsets at each partition's end (partition offset):" "$ends" \
        "The broker holds: $(group_offsets | tr '\n' ' ')" "$(hint_for $STEP)")"
}

# "partition next_offset" of the last committed line of each partition in FILES (a line
# with no offset, < 0, for a partition not read yet, is no commit).
last_committed() { events committed "$@" 2>/dev/null | awk '$2 >= 0 { last[$1] = $2 } END { for (k in last) print k, last[k] }' | sort -n; }

# ------------------------------------------------------------------ the tests

@test "09: a crash in the middle of a transaction, then a rerun: read_committed sees each invoice once, read_uncommitted also the aborted ones" {
    local attempt uncommitted_twice
    for attempt in 1 2 3; do
        fresh_pipeline 30
        member_opts
        # Batches of 5: the crash comes while order 8 is worked on, the 3rd of the 2nd
        # batch, whose first two invoices are out, in a transaction left open.
        run_txn "$BATS_TEST_TMPDIR/crash" -p 300 --crash-at 8 "${MEMBER_OPTS[@]}"
        [ "$STEP_STATUS" -eq 3 ] || fail "$(printf '%s\n%s\n%s\n%s' "$(txn_cause "$BATS_TEST_TMPDIR/crash.probe")" \
            "Expected the run to crash at its 8th order (--crash-at 8: exit 3); it exited $STEP_STATUS ($(status_meaning "$STEP_STATUS"))." \
            "Its stderr ends with: $(tail -n 3 "$BATS_TEST_TMPDIR/crash.err")" "$(hint_for $STEP)")"
        committed1=$(last_committed "$BATS_TEST_TMPDIR/crash.out")
        run_txn "$BATS_TEST_TMPDIR/rerun" -p 10 --crash-at 0 --idle-exit 2 --exit-at-end "${MEMBER_OPTS[@]}"
        expect_exit 0 "at the end of the orders (--exit-at-end)" "$BATS_TEST_TMPDIR/rerun"
        expect_exactly_once "a crash at order 8 and a rerun" "$BATS_TEST_TMPDIR"/crash.probe "$BATS_TEST_TMPDIR"/rerun.probe
        expect_offsets_at_end "$BATS_TEST_TMPDIR"/crash.probe "$BATS_TEST_TMPDIR"/rerun.probe
        read_invoices read_uncommitted "$BATS_TEST_TMPDIR/read_uncommitted"
        uncommitted_twice=$(twice_in "$BATS_TEST_TMPDIR/read_uncommitted")
        # The scenario: the crash came inside a transaction (its last transactional call
        # began one), which the rerun aborted. Its invoices, if any had reached the
        # broker, are what read_uncommitted sees twice.
        [ "$(grep -E '^call fn=txn_' "$BATS_TEST_TMPDIR/crash.probe" | tail -n 1 | cut -d' ' -f2)" != fn=txn_begin ] || break
        [ "$attempt" -lt 3 ] || fail "$(printf '%s\n%s' \
            "Three crashes at order 8 all came outside a transaction (the last transactional call of each crashed run was not a begin), so this test proved nothing." \
            "Begin each batch's transaction before its first order is worked on. $(hint_for $STEP)")"
        forget_fresh
        timeout 10 "$TOOLS/forget" -b "$BROKER" -t "$OUT" >/dev/null 2>&1 3>&- || true
    done
    # The rerun began where the crashed run's last committed transaction left off.
    starts=$(events started "$BATS_TEST_TMPDIR/rerun.out" | awk '!($1 in s) { s[$1] = 1; print $1, $2 }' | sort -n)
    bad=$(join <(echo "$committed1") <(echo "$starts") | awk '$2 != $3 { printf "partition %s: committed %s, rerun began at %s; ", $1, $2, $3 }')
    [ -z "$bad" ] || fail "$(printf 'Expected the rerun to begin at the offsets the crashed run had committed: %s\n%s' "$bad" "$(hint_for $STEP)")"
    note "crash at order 8 (attempt $attempt): read_committed sees $(wc -l <"$READ_COMMITTED") invoices for 30 orders, each once; read_uncommitted also sees the aborted transaction's: $(echo ${uncommitted_twice:-none reached the broker} | cut -c1-120)"
}

# Start the program, wait for 7 `processed` lines (past its first batch: the producer has
# its connection by then, and invoices reach the broker as they are produced) and a
# random 100-349 ms more, then kill -9 it. Run number I; sets KILL_DELAYS.
# Usage: kill_once I
kill_once() {
    local i=$1 d=$BATS_TEST_TMPDIR waited=0
    # Work for this run: at least 20 orders whose offsets are not committed yet.
    top_up_orders "$(group_offsets | awk '$2 != "-" { n += $2 } END { print n + 0 }')" 20
    member_opts
    start_killable $STEP "$d/run$i" --out "$OUT" --txn-id "$TXN_ID" -p "$WORK_MS" --crash-at 0 "${MEMBER_OPTS[@]}"
    wait_processed "$d/run$i.out" 7 || waited=$?
    if [ "$waited" -ne 0 ]; then
        [ "$waited" -eq 2 ] && kill -KILL $(program_pid) 2>/dev/null
        STEP_STATUS=0; wait "$STEP_PID" || STEP_STATUS=$?; STEP_PID=
        fail "$(printf '%s\n%s\n%s\n%s' "$(txn_cause "$d/run$i.probe")" \
            "Run $i was to process 7 orders before kill -9 number $i; it processed $(grep -c '^processed ' "$d/run$i.out") and $([ "$waited" -eq 2 ] && echo "was still running after ${RUN_TIMEOUT}s" || echo "exited $STEP_STATUS ($(status_meaning "$STEP_STATUS"))")." \
            "Its stderr ends with: $(tail -n 3 "$d/run$i.err")" "$(hint_for $STEP)")"
    fi
    kill_after_random_delay
}

@test "09: kill -9 at random points, then a run to the end: read_committed sees every invoice exactly once" {
    local i
    fresh_pipeline 80
    KILL_DELAYS=
    for i in $(seq 1 $KILLS); do kill_once "$i"; done
    run_to_end "after $KILLS kills"
    expect_exactly_once "$KILLS kills and a run to the end" "$BATS_TEST_TMPDIR"/*.probe
    expect_offsets_at_end "$BATS_TEST_TMPDIR"/*.probe
    read_invoices read_uncommitted "$BATS_TEST_TMPDIR/read_uncommitted"
    note "$KILLS kills (+$KILL_DELAYS), then a run to the end: $(sed 's/^invoices: [^ ]* //' "$READ_COMMITTED.summary"); $(sed 's/^invoices: [^ ]* //' "$BATS_TEST_TMPDIR/read_uncommitted.summary")"
}

@test "09: the same kills with step 02's strategy (produce, then the consumer's commit) invoice orders twice, even for read_committed" {
    local i=0 twice
    # The control is a fixed program, whatever is in steps/: the solution with the patch
    # of the mutant 09_consumer_commit.
    run make -s -C "$ROOT" build/mutants/09_consumer_commit
    [ "$status" -eq 0 ] || fail "Could not build the control program from solutions/$STEP and checks/mutants/09_consumer_commit.patch: $output"
    mkdir -p "$BATS_TEST_TMPDIR/control"
    ln -s "$ROOT/build/mutants/09_consumer_commit" "$BATS_TEST_TMPDIR/control/$STEP"
    WORKBOOK_BIN=$BATS_TEST_TMPDIR/control

    fresh_pipeline 80
    KILL_DELAYS=
    for i in $(seq 1 $KILLS); do kill_once "$i"; done
    read_invoices read_committed "$BATS_TEST_TMPDIR/read_committed"
    twice=$(twice_in "$BATS_TEST_TMPDIR/read_committed")
    while [ -z "$twice" ] && [ "$i" -lt $((KILLS + MORE_KILLS)) ]; do
        i=$((i + 1)); kill_once "$i"
        read_invoices read_committed "$BATS_TEST_TMPDIR/read_committed"; twice=$(twice_in "$BATS_TEST_TMPDIR/read_committed")
    done
    run_to_end "after $i kills"
    read_invoices read_committed "$BATS_TEST_TMPDIR/read_committed"
    twice=$(twice_in "$BATS_TEST_TMPDIR/read_committed")
    [ -n "$twice" ] || fail "Expected step 02's strategy to invoice some order twice after $i kills; none was. (Each kill landed where the invoices and the commit agreed; delays:$KILL_DELAYS.)"
    note "step 02's strategy: $i kills (+$KILL_DELAYS), then a run to the end: $(sed 's/^invoices: [^ ]* //' "$BATS_TEST_TMPDIR/read_committed.summary"): $(echo $twice | cut -c1-100)"
}

@test "09: the group's offsets move only with committed transactions: a crash between the offsets and the commit leaves them open, then aborted (make commits TXN=1)" {
    local d=$BATS_TEST_TMPDIR open before kept_bad
    fresh_pipeline 30
    member_opts
    # The fault kills the program as it calls its 2nd commit_transaction: the 2nd
    # batch's invoices and offsets are in a transaction that never commits.
    WORKBOOK_FAULT=crash-before-commit:2 run_txn "$d/crash" -p 20 --crash-at 0 --idle-exit 3 "${MEMBER_OPTS[@]}"
    grep -q '^fault crash-before-commit' "$d/crash.probe" 2>/dev/null || fail "$(printf '%s\n%s\n%s' \
        "$(txn_cause "$d/crash.probe")" \
        "Expected the program to commit a 2nd transaction (the fault kills it there); it never did, and exited $STEP_STATUS ($(status_meaning "$STEP_STATUS"))." \
        "$(hint_for $STEP)")"
    # The offsets the open transaction carried: its run's last successful txn_offsets
    # call (the probe). They must be on the broker's record (every commit record, as a
    # read_uncommitted reader sees them) and must not have moved the group's offsets.
    # (Entries with no offset, < 0, are ignored by the call: not sent.)
    open=$(grep -E '^call fn=txn_offsets .* err=NO_ERROR' "$d/crash.probe" | tail -n 1 | sed 's/.* offsets=\([^ ]*\).*/\1/' |
        tr ',' '\n' | awk -F: '$2 >= 0' | paste -sd, -)
    [ -n "$open" ] && grep -qE '^call fn=txn_begin ' "$d/crash.probe" && [ "$(grep -E '^call fn=txn_' "$d/crash.probe" | tail -n 1 | cut -d' ' -f2)" = fn=txn_offsets ] ||
        fail "$(printf '%s\n%s\n%s' \
        "$(txn_cause "$d/crash.probe" | grep . || echo "The offsets of the batch were not sent to its transaction before the commit: send them (TODO 2).")" \
        "The crashed run's transactional calls, last first: $(grep -E '^call fn=txn_' "$d/crash.probe" | tail -n 3 | tac | cut -d' ' -f2,5 | tr '\n' ';')" "$(hint_for $STEP)")"
    "$TOOLS/commits" -b "$BROKER" -g "$GROUP" -t "$TOPIC" >"$d/commits1"
    missing=$(tr ',' '\n' <<<"$open" | tr ':' ' ' | while read -r p o; do
        awk -F'\t' -v p="$p" -v o="$o" '$2 == p && $3 == o { f = 1 } END { exit !f }' "$d/commits1" || printf '%s:%s ' "$p" "$o"; done)
    [ -z "$missing" ] || fail "$(printf 'Expected the offsets sent to the transaction the crash left open (%s) on the broker'"'"'s record; missing: %s. The record:\n%s\n%s' "$open" "$missing" "$(cat "$d/commits1")" "$(hint_for $STEP)")"
    before=$(group_offsets)
    [ "$before" = "$(last_committed "$d/crash.out" | join -a1 -e - -o 0,2.2 <(log_ends | cut -d' ' -f1) -)" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected the group's offsets to be those of the last committed transaction ($(last_committed "$d/crash.out" | tr '\n' ' ')); the broker holds: $(echo $before)." \
        "The transaction left open sent: $open." "$(hint_for $STEP)")"
    run_to_end "after the crash"
    # Now the state of each record (commits --txn waits out other groups' transactions,
    # which hold readers of __consumer_offsets back too).
    "$TOOLS/commits" -b "$BROKER" -g "$GROUP" -t "$TOPIC" --txn >"$d/commits2"
    still=$(awk -F'\t' '$5 == "open"' "$d/commits2")
    [ -z "$still" ] || fail "Expected the rerun (same transactional.id) to abort the transaction the crash left open; still open: $(echo $still | cut -c1-300). Register the same transactional.id at start-up (TODO 1). $(hint_for $STEP)"
    # The first record of each offset the open transaction sent is its own: aborted.
    not_aborted=$(tr ',' '\n' <<<"$open" | tr ':' ' ' | while read -r p o; do
        awk -F'\t' -v p="$p" -v o="$o" '$2 == p && $3 == o { if ($5 != "aborted") printf "%s:%s (%s) ", p, o, $5; exit }' "$d/commits2"; done)
    [ -z "$not_aborted" ] || fail "$(printf 'Expected the offsets of the transaction the crash left open (%s) to end aborted; not: %s. The record (topic partition offset commit_ms state):\n%s\n%s' "$open" "$not_aborted" "$(cat "$d/commits2")" "$(hint_for $STEP)")"
    # Every commit the broker kept belongs to a transaction the program saw committed.
    kept_bad=$(awk -F'\t' '$5 == "kept" { print $2, $3 }' "$d/commits2" | sort -u |
        comm -23 - <(events committed "$d/crash.out" "$d/final.out" | awk '$2 >= 0 { print $1, $2 }' | sort -u))
    [ -z "$kept_bad" ] || fail "$(printf '%s\n%s' "Commits the broker kept that no committed transaction of the program reported (partition offset): $(echo $kept_bad)." "$(hint_for $STEP)")"
    expect_exactly_once "a crash before the 2nd commit and a rerun" "$d"/*.probe
    expect_offsets_at_end "$d"/*.probe
    note "the transaction left open sent $open; the group stayed at $(echo "$before" | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }'); after the rerun: $(grep -c $'\taborted$' "$d/commits2") commit(s) aborted, $(grep -c $'\tkept$' "$d/commits2") kept"
}

@test "09: an abortable error (the broker refuses the offsets of the transaction) aborts it, rewinds and does the batch again" {
    local d=$BATS_TEST_TMPDIR
    fresh_pipeline 30
    # The 2nd batch's offsets go with the metadata of a member the group does not know,
    # as after this consumer was thrown out of its group mid-transaction.
    WORKBOOK_FAULT=stale-member:2 run_txn "$d/run" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end
    grep -q '^fault stale-member' "$d/run.probe" 2>/dev/null || fail "$(printf '%s\n%s\n%s' "$(txn_cause "$d/run.probe")" \
        "Expected a 2nd call sending offsets to a transaction (the fault is injected there); there was none. The program exited $STEP_STATUS ($(status_meaning "$STEP_STATUS"))." "$(hint_for $STEP)")"
    grep -qE '^call fn=txn_offsets .* kind=abortable' "$d/run.probe" || fail "The broker did not refuse the offsets of the faulty call: $(grep '^call fn=txn_offsets' "$d/run.probe" | sed -n 2p)"
    [ "$STEP_STATUS" -eq 0 ] || fail "$(printf '%s\n%s\n%s' \
        "$(txn_cause "$d/run.probe" | grep . || echo "An abortable error is no reason to stop: abort the transaction, rewind to the committed offsets, and go on (TODO 3).")" \
        "After the broker refused the offsets (UNKNOWN_MEMBER_ID, abortable), the program exited $STEP_STATUS ($(status_meaning "$STEP_STATUS")); its stderr ends with: $(tail -n 3 "$d/run.err")" "$(hint_for $STEP)")"
    grep -q '^transaction aborted .*error=UNKNOWN_MEMBER_ID' "$d/run.out" || fail "$(printf '%s\n%s' \
        "$(txn_cause "$d/run.probe" | grep . || echo "After the abort, print it: step_txn_aborted(n, error) (TODO 3).")" "$(hint_for $STEP)")"
    expect_exactly_once "an abortable error in the 2nd transaction" "$d/run.probe"
    expect_offsets_at_end "$d/run.probe"
    again=$(events started "$d/run.out" | awk '{ n[$3]++ } END { for (k in n) if (n[k] > 1) print k }' | sort -V)
    note "the 2nd transaction aborted (UNKNOWN_MEMBER_ID), its batch done again: $(echo $again); each invoice once for read_committed"
}

@test "09: a zombie: a second instance with the same transactional.id fences the first, which says so and stops; no invoice twice" {
    local d=$BATS_TEST_TMPDIR a_pid st_a=0 st_b=0
    fresh_pipeline 40
    # The first instance is slow (300 ms an order): it is always inside a transaction.
    # Its life spans the second instance's whole run too: twice the usual bound.
    LD_PRELOAD=$PROBE_LIB WORKBOOK_PROBE=$d/a.probe timeout -k 2 $((2 * RUN_TIMEOUT)) "$WORKBOOK_BIN/$STEP" -b "$BROKER" -t "$TOPIC" -g "$GROUP" \
        "${SESSION_OPTS[@]}" --out "$OUT" --txn-id "$TXN_ID" -p 300 --crash-at 0 --idle-exit 4 >"$d/a.out" 2>"$d/a.err" 3>&- </dev/null &
    a_pid=$!; BACKGROUND_PIDS+=("$a_pid")
    local deadline=$((SECONDS + RUN_TIMEOUT))
    until grep -q '^processed ' "$d/a.out" 2>/dev/null; do
        kill -0 "$a_pid" 2>/dev/null || { wait "$a_pid" || st_a=$?; fail "$(printf '%s\n%s' "The first instance ended before it processed an order: exit $st_a ($(status_meaning "$st_a")); its stderr ends with: $(tail -n 3 "$d/a.err")" "$(hint_for $STEP)")"; }
        [ $SECONDS -lt $deadline ] || fail "The first instance processed no order in ${RUN_TIMEOUT}s; its stderr ends with: $(tail -n 3 "$d/a.err")"
        sleep 0.05
    done
    # The second instance: same transactional.id, same group, fast.
    run_txn "$d/b" -p 10 --crash-at 0 --idle-exit 3 --exit-at-end
    st_b=$STEP_STATUS
    wait "$a_pid" || st_a=$?
    [ "$st_b" -eq 0 ] || fail "$(printf 'The second instance exited %s (%s); its stderr ends with:\n%s\n%s' "$st_b" "$(status_meaning "$st_b")" "$(tail -n 4 "$d/b.err")" "$(hint_for $STEP)")"
    grep -qiE 'fenced|_FENCED|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH' "$d/a.err" ||
        [ "$st_a" -ne 0 ] || fail "$(printf '%s\n%s\n%s' "$(txn_cause "$d/a.probe" | grep . || echo "The first instance was never fenced: the second one, with the same transactional.id, must register it at start-up, which fences the older (TODO 1).")" \
        "The first instance exited $st_a ($(status_meaning "$st_a")); its stderr ends with: $(tail -n 3 "$d/a.err")" "$(hint_for $STEP)")"
    local why
    case $st_a in
    1) why= ;;
    0) why="The first instance carried on after the broker fenced it, until --idle-exit: a fatal error means stop, write nothing more, exit 1 (TODO 3)." ;;
    124|137) why="The first instance did not stop within $((2 * RUN_TIMEOUT))s though the broker fenced it: it hangs after the fatal error (exit $st_a, $(status_meaning "$st_a")). Stop at once: no more transactional calls, close, exit 1 (TODO 3)." ;;
    *) why="The first instance ended with exit $st_a ($(status_meaning "$st_a")) after the broker fenced it, not exit 1: a fatal error means stop cleanly and say why (TODO 3)." ;;
    esac
    [ -z "$why" ] || fail "$(printf '%s\n%s\n%s' "$why" \
        "It exited $st_a ($(status_meaning "$st_a")), having printed $(grep -c '^started ' "$d/a.out") started lines; its stderr ends with: $(tail -n 3 "$d/a.err")" "$(hint_for $STEP)")"
    grep -qiE 'fenc' "$d/a.err" || fail "$(printf 'The first instance stopped (exit 1) without saying it was fenced: print the fatal error (rd_kafka_fatal_error() says why) on stderr (TODO 3). Its stderr ends with:\n%s\n%s' "$(tail -n 3 "$d/a.err")" "$(hint_for $STEP)")"
    expect_exactly_once "a zombie fenced by a second instance" "$d"/a.probe "$d"/b.probe
    note "the first instance was fenced after $(grep -c '^processed ' "$d/a.out") orders and stopped (exit 1): $( (grep -E '^% ' "$d/a.err"; grep -iE 'fenc' "$d/a.err") | grep -iE 'fenc' | head -n 1 | cut -c1-110)"
}

@test "09: lag on a transactional topic: a reader that has read every invoice is 1 behind on each partition, the commit marker" {
    local d=$BATS_TEST_TMPDIR reader lags
    fresh_pipeline 15
    run_txn "$d/run" -p 10 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_exit 0 "at the end of the orders (--exit-at-end)" "$d/run"
    expect_offsets_at_end "$d/run.probe"
    # The program's own group: orders are not transactional, its lag is 0 (above).
    reader=$GROUP-reader
    run -0 timeout 60 "$TOOLS/invoices" -b "$BROKER" -t "$OUT" --commit-as "$reader"
    lags=$(lag_table "$reader" "$OUT" | awk '$2 != "-" { print $1, $4 }')
    [ -n "$lags" ] || fail "The invoices reader committed nothing: no invoice was written? $(txn_cause "$d/run.probe")"
    bad=$(awk '$2 != 1' <<<"$lags")
    [ -z "$bad" ] || fail "$(printf '%s\n%s\n%s' "$(txn_cause "$d/run.probe" | grep . || echo "Each partition of the invoices should end with a transaction's commit marker.")" \
        "A reader that read every invoice and committed the last one's offset + 1 has this lag per partition (partition lag): $(echo $bad); expected 1 on each: the commit marker takes the last offset, and no reader is ever handed it." "$(hint_for $STEP)")"
    timeout 10 "$TOOLS/forget" -b "$BROKER" -g "$reader" >/dev/null 2>&1 3>&- || true
    note "caught-up reader of the invoices: lag $(echo "$lags" | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }') (partition:lag): each partition ends with a commit marker"
}
