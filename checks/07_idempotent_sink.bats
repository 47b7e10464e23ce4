#!/usr/bin/env bats
# Step 07: idempotent sink, an exactly-once effect in SQLite. Judged from the database
# (sqlite3 CLI) after each kill -9 and at the end, and from the broker (each partition's
# log-end offset, build/tools/lag). A control run of step 02's strategy (the mutant
# checks/mutants/07_kafka_commit_no_key, built from the solution) measures the duplicates
# that the same kills cause without a shared transaction.

STEP=07_idempotent_sink
COUNT=80        # orders in the topic (3 partitions)
KILLS=6         # kill -9 at random points, then a run to the end
MORE_KILLS=6    # the control: more kills, if the first ones made no duplicate
WORK_MS=50      # -p of the killed runs

setup_file() {
    load test_helper/common
    workbook_setup_file
}

setup() {
    load test_helper/common
    DB=$BATS_TEST_TMPDIR/orders.db
}

teardown() {
    # STEP_PID is a subshell (start_killable): the program is its grandchild.
    [ -z "${STEP_PID:-}" ] || kill -KILL $(program_pid) "$STEP_PID" 2>/dev/null || true
    STEP_PID= workbook_teardown
}

# ------------------------------------------------------------------ judging (step 07)

# SQL on the test's database: one row per line, columns separated by |.
sql() { sqlite3 -batch "$DB" "$@"; }

# Each partition's log end on the broker: "partition log_end" (from lag's table).
log_ends() {
    "$TOOLS/lag" -b "$BROKER" -g "$GROUP" -t "$TOPIC" | awk -v t="$TOPIC" '$2 == t { print $3, $5 }' | sort -n
}

# The database's offsets: "partition next_offset".
db_offsets() { sql "SELECT partition, next_offset FROM offsets WHERE topic = '$TOPIC' ORDER BY partition" | tr '|' ' '; }

# After a kill -9 the database must be consistent by itself: on each partition, the next
# offset stored is the last recorded order's offset + 1. Prints one complaint per
# partition that is not (nothing when all are). RUN_OUT (the killed run's stdout) tells a
# finished order (a `processed` line) from one cut short by the kill.
# Usage: db_problems RUN_OUT
db_problems() {
    local out=$1
    sql "SELECT o.partition, MAX(o.offset), COALESCE(f.next_offset, '-') FROM orders o
         LEFT JOIN offsets f ON f.topic = '$TOPIC' AND f.partition = o.partition
         GROUP BY o.partition ORDER BY o.partition" |
    awk -F'|' -v out="$out" '
        BEGIN { while ((getline line < out) > 0) if (line ~ /^processed /) {
                    split(line, f, " "); split(f[2], pp, "="); split(f[3], oo, "="); done[pp[2] " " oo[2]] = 1 } }
        # One transaction and offset + 1 leave next = last + 1 on every partition. A kill
        # between two transactions leaves next = last on the partition being written,
        # and only there; next = last everywhere is the offset itself being stored.
        { p[NR] = $1; lastof[NR] = $2; nextof[NR] = $3; same += ($3 == $2) }
        END { for (i = 1; i <= NR; i++) judge(p[i], lastof[i], nextof[i]) }
        function judge(p, last, next_off) {
            if (next_off == "-")
                printf "partition %d: orders up to offset %d are in the database, but the table offsets has no row for it: nothing in the database says where to resume (TODO 1).\n", p, last
            else if (next_off == last && NR == 1 && !((p " " last) in done))
                # One partition, caught mid-write: both mistakes leave this state.
                printf "partition %d: the table offsets says %d, the offset of its last order: either the offset stored is the order'"'"'s own, not offset + 1 (the NEXT to read), or the order and its offset went in two transactions and the kill fell between them. Store offset + 1, in ONE transaction with the order (TODO 1).\n", p, next_off
            else if (next_off == last && ((p " " last) in done || (NR > 1 && same == NR)))
                printf "partition %d: its last order (offset %d) was processed, and the table offsets says %d: that is the order itself. Store the NEXT offset to read, offset + 1, or every rerun writes that order again.\n", p, last, next_off
            else if (next_off <= last)
                printf "partition %d: the order at offset %d is in the database, but the table offsets still says %d: the kill came after the order was written and before its offset was. Write both in ONE transaction (TODO 1).\n", p, last, next_off
            else if (next_off > last + 1)
                printf "partition %d: the table offsets says %d, but the orders stop at offset %d: an offset was stored before its order was written, and a rerun would skip that order. Write both in ONE transaction, after the work (TODO 1).\n", p, next_off, last
        }'
}

# A run that ended by itself during the kills (it should have been killed, or reached
# --idle-exit). Fails with what it said and, for an order written twice, why.
# Usage: ended_by_itself PREFIX WHAT   (STEP_STATUS set)
ended_by_itself() {
    local prefix=$1 what=$2 p o v why=""
    read -r p o v _ < <(events started "$prefix.out" | tail -n 1)
    if grep -q 'UNIQUE constraint failed' "$prefix.err"; then
        why=$(printf '%s\n' "It tried to write $v (partition $p, offset $o), which the database already had, and the primary key refused it." \
            "The table offsets said (partition: next offset): $(db_offsets | awk '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $1, $2 }')." \
            "The run started (partition: offset): $(events started "$prefix.out" | awk '!($1 in s) { s[$1] = 1; printf "%s%s: %s", (n++ ? ", " : ""), $1, $2 }')." \
            "Start each assigned partition at the next offset the database holds for it (TODO 2), not where Kafka's committed offsets say.")
    fi
    fail "$(printf '%s exited %s (%s) by itself.\n%s\nLast lines of its stderr:\n%s\n%s' "$what" "$STEP_STATUS" \
        "$(status_meaning "$STEP_STATUS")" "$why" "$(tail -n 4 "$prefix.err")" "$(hint_for $STEP)")"
}

# start_step, but with timeout(1) inside a subshell whose own stderr is discarded, so
# that a kill -9 of the program leaves no "Killed" notice in the test's output. STEP_PID
# is the subshell (it exits with the program's status, 137 after kill -9); the program is
# its grandchild: program_pid finds it.
start_killable() {
    local name=$1 prefix=$2; shift 2
    local bin=$WORKBOOK_BIN/$name
    [ -x "$bin" ] || fail "no program $bin: build it with 'make build'"
    (
        timeout -k 2 "$RUN_TIMEOUT" "$bin" -b "$BROKER" -t "$TOPIC" -g "$GROUP" "${SESSION_OPTS[@]}" "$@" \
            >"$prefix.out" 2>"$prefix.err" </dev/null
        st=$?; exit $st
    ) 2>/dev/null 3>&- &
    STEP_PID=$!
}
program_pid() { local t; t=$(pgrep -P "$STEP_PID") && pgrep -P "$t"; }

# Wait until PREFIX.out has N `processed` lines; returns 1 when the program ended first.
wait_processed() {
    local out=$1 n=$2 deadline=$((SECONDS + RUN_TIMEOUT))
    while [ "$(grep -c '^processed ' "$out" 2>/dev/null || true)" -lt "$n" ]; do
        kill -0 "$STEP_PID" 2>/dev/null || return 1
        [ $SECONDS -lt $deadline ] || fail "waited ${RUN_TIMEOUT}s for $n 'processed' lines in $out"
        sleep 0.05
    done
}

# Start the program, wait for 2 `processed` lines and a random 100-349 ms more, then
# kill -9 it (no close, no goodbye to the group). Run number I; JUDGE=1 checks the
# database after the kill (db_problems). Sets KILL_DELAYS (the delays, for the notes).
# Usage: kill_once I JUDGE
kill_once() {
    local i=$1 judge=$2 d=$BATS_TEST_TMPDIR delay problems
    member_opts
    start_killable $STEP "$d/run$i" -p "$WORK_MS" --crash-at 0 --db "$DB" "${MEMBER_OPTS[@]}"
    if ! wait_processed "$d/run$i.out" 2; then
        STEP_STATUS=0; wait "$STEP_PID" || STEP_STATUS=$?; STEP_PID=
        ended_by_itself "$d/run$i" "Run $i (before kill -9 number $i)"
    fi
    delay=$((RANDOM % 250 + 100))
    sleep "0.$delay"
    kill -KILL $(program_pid) 2>/dev/null || true
    STEP_STATUS=0; wait "$STEP_PID" || STEP_STATUS=$?; STEP_PID=
    KILL_DELAYS="$KILL_DELAYS ${delay}ms"
    if [ "$STEP_STATUS" -ne 137 ]; then
        ended_by_itself "$d/run$i" "Run $i (before kill -9 number $i)"
    fi
    [ "$judge" = 1 ] || return 0
    problems=$(db_problems "$d/run$i.out")
    [ -z "$problems" ] || fail "$(printf 'After kill -9 number %s (%s after its 2nd processed line) the database no longer matches itself:\n%s\n%s' \
        "$i" "${delay}ms" "$problems" "$(hint_for $STEP)")"
}

# The run to the end, after the kills: it must end by --idle-exit.
run_to_end() {
    member_opts
    run_step $STEP "$BATS_TEST_TMPDIR/final" -p 10 --crash-at 0 --idle-exit 2 --exit-at-end --db "$DB" "${MEMBER_OPTS[@]}"
    [ "$STEP_STATUS" -eq 0 ] || ended_by_itself "$BATS_TEST_TMPDIR/final" "The run to the end (after $1 kills)"
}

# Orders written more than once: "value count", one per line.
db_duplicates() { sql "SELECT value, COUNT(*) FROM orders GROUP BY value HAVING COUNT(*) > 1 ORDER BY value" | tr '|' ' '; }

@test "07: kill -9 at random points, then a run to the end: every order in the database exactly once, offsets at the log end" {
    local i twice lost rows ends
    fresh_topic $COUNT
    KILL_DELAYS=
    for i in $(seq 1 $KILLS); do kill_once "$i" 1; done
    run_to_end $KILLS

    rows=$(sql "SELECT COUNT(*) FROM orders")
    [ -n "$rows" ] || fail "The database $DB has no table orders. $(hint_for $STEP)"
    twice=$(db_duplicates)
    [ -z "$twice" ] || fail "$(printf 'Expected each order once in the database; written more than once (value count):\n%s\nWithout a primary key? The table orders keeps value as its PRIMARY KEY. %s' "$twice" "$(hint_for $STEP)")"
    lost=$(comm -23 <(seq 1 "$COUNT" | sed 's/^/Order-/' | sort) <(sql "SELECT value FROM orders" | sort -u))
    [ -z "$lost" ] || fail "Expected all $COUNT orders in the database after $KILLS kills and a run to the end; missing: $(echo $lost). An offset stored ahead of its order skips that order for good. $(hint_for $STEP)"
    [ "$rows" -eq "$COUNT" ] || fail "Expected $COUNT rows in the table orders; it has $rows. $(hint_for $STEP)"

    ends=$(log_ends)
    [ "$(db_offsets)" = "$ends" ] || fail "$(printf 'Expected the table offsets at the end of each partition (partition next_offset):\n%s\nIt holds:\n%s\n%s' \
        "$ends" "$(db_offsets)" "$(hint_for $STEP)")"
    note "$KILLS kills (after the 2nd processed line +$KILL_DELAYS), then a run to the end: $rows orders, each once; offsets at the log ends ($(log_ends | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $1, $2 }'))"
}

@test "07: the same kills with step 02's strategy (no shared transaction, no key) write orders twice" {
    local i=0 twice n_twice
    # The control is a fixed program, whatever is in steps/: the solution with the
    # patch of the mutant 07_kafka_commit_no_key (SQLite's library added to the link).
    run make -s -C "$ROOT" \
        build/mutants/07_kafka_commit_no_key
    [ "$status" -eq 0 ] || fail "Could not build the control program from solutions/$STEP and checks/mutants/07_kafka_commit_no_key.patch: $output"
    mkdir -p "$BATS_TEST_TMPDIR/control"
    ln -s "$ROOT/build/mutants/07_kafka_commit_no_key" "$BATS_TEST_TMPDIR/control/$STEP"
    WORKBOOK_BIN=$BATS_TEST_TMPDIR/control

    fresh_topic $COUNT
    KILL_DELAYS=
    for i in $(seq 1 $KILLS); do kill_once "$i" 0; done
    twice=$(db_duplicates)
    while [ -z "$twice" ] && [ "$i" -lt $((KILLS + MORE_KILLS)) ]; do
        i=$((i + 1)); kill_once "$i" 0; twice=$(db_duplicates)
    done
    run_to_end "$i"
    twice=$(db_duplicates)
    n_twice=$(printf '%s' "$twice" | grep -c . || true)
    [ "$n_twice" -gt 0 ] || fail "Expected step 02's strategy to write some order twice after $i kills; none was. (Each kill landed where the order and its Kafka commit agreed; delays:$KILL_DELAYS.)"
    note "step 02's strategy: $i kills (+$KILL_DELAYS), then a run to the end: $(sql "SELECT COUNT(*) FROM orders") rows for $COUNT orders; $n_twice written twice or more: $(echo $twice)"
}
