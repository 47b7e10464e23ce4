# Shared by every check: load it inside setup_file/setup with `load test_helper/common`
# (or `load ../test_helper/common` from checks/foundation/). This half sets up and runs
# the programs under test; it loads judge.bash, the half that judges what they did.
#
# A check judges what the broker recorded (build/tools/commits) together with what the
# program printed. Programs print, one line per event (at= is epoch milliseconds):
#   started partition=P offset=O value=V at=MS
#   processed partition=P offset=O value=V at=MS
#   committed partition=P offset=NEXT at=MS

# The workbook's top folder: the first folder up from this test file that has the Makefile.
ROOT=$(cd "$BATS_TEST_DIRNAME" && while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done; pwd)

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
TOOLS=$ROOT/build/tools
# Which programs the step checks run: your code (steps, the default), the reference
# solutions, or any folder of binaries named like the steps (WORKBOOK_BIN).
WORKBOOK_TARGET=${WORKBOOK_TARGET:-steps}
WORKBOOK_BIN=${WORKBOOK_BIN:-$ROOT/build/$WORKBOOK_TARGET}
# Every run of a program under test is bounded by this (seconds).
RUN_TIMEOUT=${RUN_TIMEOUT:-25}
# A crashed consumer stays in its group until its session times out: keep it short so
# the rerun does not wait long. The broker allows it (group.min.session.timeout.ms).
# fetch.wait.max.ms=50: a rerun's first fetch no longer waits up to 500 ms (the default)
# behind long-poll fetches already queued on the connection.
SESSION_OPTS=(-X session.timeout.ms=2000 -X heartbeat.interval.ms=400 -X fetch.wait.max.ms=50)
# Runs that follow a crash or a kill -9 of the same consumer (the crash run and its rerun,
# step 07's kills) also pass member_opts: a group.instance.id, the same for each run of a
# test (static membership, KIP-345). A rerun then takes over the dead member's place and
# partitions at once, instead of waiting out its session first. The commits and where the
# rerun starts are the same: only the wait goes. Sets MEMBER_OPTS.
member_opts() { MEMBER_OPTS=(-X "group.instance.id=${GROUP}-member"); }
# Loaded into every program under test: writes down its commit calls and settings in
# PREFIX.probe (tools/probe/probe.c), so that a failure can name who committed and how.
PROBE_LIB=$TOOLS/libprobe.so

# Build the tools and start the broker when none answers. (Any Kafka that answers at
# BROKER is used as it is: a grading run from a copy of the workbook shares the
# instructor's broker.)
workbook_setup_file() {
    make -s -C "$ROOT" tools >/dev/null || return 1
    "$TOOLS/ping" -b "$BROKER" -t 2000 >/dev/null 2>&1 || "$ROOT/scripts/broker.sh" up >/dev/null || return 1
    measure_clock_skew
}

# The broker's clock against this machine's (build/tools/clock: one message whose time
# the broker stamps on append). On one machine the two agree to a few ms, within the
# measure's own error (its round trip); a broker in a VM (Docker Desktop, colima) can be
# seconds off. Only a gap larger than the error, and than 100 ms, is taken into account:
# exported as CLOCK_SKEW_MS for analyze_runs and the timelines. Measured once per check
# file; CLOCK_SKEW_MS set beforehand is used as it is.
measure_clock_skew() {
    [ -z "${CLOCK_SKEW_MS:-}" ] || return 0
    local line skew rtt
    line=$(timeout 20 "$TOOLS/clock" -b "$BROKER" 2>/dev/null) || { export CLOCK_SKEW_MS=0; return 0; }
    skew=$(printf '%s\n' "$line" | sed -n 's/.*skew_ms=\(-\{0,1\}[0-9]*\).*/\1/p')
    rtt=$(printf '%s\n' "$line" | sed -n 's/.*round_trip_ms=\([0-9]*\).*/\1/p')
    [ -n "$skew" ] && [ -n "$rtt" ] || { export CLOCK_SKEW_MS=0; return 0; }
    [ "$rtt" -lt 100 ] && rtt=100
    if [ "${skew#-}" -gt "$rtt" ]; then export CLOCK_SKEW_MS=$skew; else export CLOCK_SKEW_MS=0; fi
}

# A free pair of ports (PORT and PORT+1, a broker's client and controller ports) for a
# private broker: an even port from 20000 to 29998, below the ephemeral range, that
# nothing listens on. Random, so that checks running at once (two copies of the
# workbook, a grading run) do not pick the same.
free_port_pair() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 5000 * 2))
        ss -Hltn "sport = :$p or sport = :$((p + 1))" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
    done
    return 1
}

# A fresh topic and group for this test: its name says which test made it.
# Usage: fresh_topic COUNT [PARTITIONS]  -> sets TOPIC and GROUP
fresh_topic() {
    local count=$1 partitions=${2:-3} tag
    tag="$(basename "$BATS_TEST_FILENAME" .bats | tr -c 'a-zA-Z0-9\n' '-')${BATS_TEST_NUMBER}-$$-$RANDOM"
    TOPIC="t-$tag"
    GROUP="g-$tag"
    FRESH_COUNT=$count FRESH_TOPIC=$TOPIC FRESH_GROUP=$GROUP
    run -0 timeout 30 "$TOOLS/topic" -b "$BROKER" -t "$TOPIC" -p "$partitions"
    [ "$count" -eq 0 ] || run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n "$count"
}

# Each check's teardown. What a test started in the background and may leave behind when
# it fails: the program under test (STEP_PID) and anything in BACKGROUND_PIDS. A test that
# passed also deletes the topic and group it made (build/tools/forget), so that they do
# not pile up on the broker; a failed test's stay, for make commits and make lag.
workbook_teardown() {
    local pid
    for pid in ${STEP_PID:-} "${BACKGROUND_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ "${BATS_TEST_COMPLETED:-}" = 1 ] && [ -n "${FRESH_TOPIC:-}" ]; then
        forget_fresh
    fi
}

# Delete the topic and group fresh_topic made last (build/tools/forget); never fails.
forget_fresh() {
    timeout 10 "$TOOLS/forget" -b "$BROKER" -t "$FRESH_TOPIC" -g "$FRESH_GROUP" >/dev/null 2>&1 3>&- || true
}

BACKGROUND_PIDS=()

now_ms() { date +%s%3N; }

# Grading only (scripts/grade.sh sets WORKBOOK_HANG_MARKER to a file of its own): once a
# program of this step hung, the step's later runs fail at once instead of each waiting
# out RUN_TIMEOUT again. Unset (make check), nothing changes.
hang_fail_fast() {
    [ -n "${WORKBOOK_HANG_MARKER:-}" ] && [ -s "$WORKBOOK_HANG_MARKER" ] || return 0
    fail "$(printf 'Not run: an earlier test of this step hung, so this one fails at once.\n%s' "$(cat "$WORKBOOK_HANG_MARKER")")"
}
hang_mark() { [ -z "${WORKBOOK_HANG_MARKER:-}" ] || printf '%s\n' "$1" >"$WORKBOOK_HANG_MARKER"; }

# Run the program under test in the foreground, bounded by RUN_TIMEOUT.
# Usage: run_step NAME OUT_PREFIX [args...]; sets STEP_STATUS; output in PREFIX.out/.err
run_step() {
    local name=$1 prefix=$2; shift 2
    local bin=$WORKBOOK_BIN/$name
    [ -x "$bin" ] || fail "no program $bin: build it with 'make build' (or 'make check STEP=${name%%_*}')"
    hang_fail_fast   # grading only
    STEP_STATUS=0
    rm -f "$prefix.probe"
    LD_PRELOAD=$PROBE_LIB WORKBOOK_PROBE=$prefix.probe \
    timeout -k 2 "$RUN_TIMEOUT" "$bin" -b "$BROKER" -t "$TOPIC" -g "$GROUP" "${SESSION_OPTS[@]}" "$@" \
        >"$prefix.out" 2>"$prefix.err" 3>&- </dev/null || STEP_STATUS=$?
    if [ "$STEP_STATUS" -eq 124 ] || [ "$STEP_STATUS" -eq 137 ]; then
        hang_mark "$name did not end within ${RUN_TIMEOUT}s (it hangs)."   # grading only
        fail "$(printf '%s did not end within %ss (it should stop after --idle-exit): it hangs.\nLast lines of its stderr:\n%s' \
            "$name" "$RUN_TIMEOUT" "$(tail -n 5 "$prefix.err")")"
    fi
}

# Start it in the background instead (for Ctrl+C tests); sets STEP_PID. timeout(1) passes
# on the test's Ctrl+C (SIGINT) and then applies its -k: 10 s, so that a program which
# finishes the work in hand and closes after Ctrl+C is not killed doing so.
start_step() {
    local name=$1 prefix=$2; shift 2
    local bin=$WORKBOOK_BIN/$name
    [ -x "$bin" ] || fail "no program $bin: build it with 'make build'"
    hang_fail_fast   # grading only
    rm -f "$prefix.probe"
    LD_PRELOAD=$PROBE_LIB WORKBOOK_PROBE=$prefix.probe \
    timeout -k 10 "$RUN_TIMEOUT" "$bin" -b "$BROKER" -t "$TOPIC" -g "$GROUP" "${SESSION_OPTS[@]}" "$@" \
        >"$prefix.out" 2>"$prefix.err" 3>&- </dev/null &
    STEP_PID=$!
}

# start_step, for a program to kill -9 (steps 07 and 09): timeout(1) runs inside a
# subshell whose own stderr is discarded, so that a kill -9 of the program leaves no
# "Killed" notice in the test's output. The probe writes PREFIX.probe. STEP_PID
# is the subshell (it exits with the program's status, 137 after kill -9); the program is
# its grandchild: program_pid finds it.
start_killable() {
    local name=$1 prefix=$2; shift 2
    local bin=$WORKBOOK_BIN/$name
    [ -x "$bin" ] || fail "no program $bin: build it with 'make build'"
    rm -f "$prefix.probe"
    (
        LD_PRELOAD=$PROBE_LIB WORKBOOK_PROBE=$prefix.probe timeout -k 2 "$RUN_TIMEOUT" "$bin" -b "$BROKER" -t "$TOPIC" -g "$GROUP" "${SESSION_OPTS[@]}" "$@" \
            >"$prefix.out" 2>"$prefix.err" </dev/null
        st=$?; exit $st
    ) 2>/dev/null 3>&- &
    STEP_PID=$!
}
program_pid() { local t; t=$(pgrep -P "$STEP_PID") && pgrep -P "$t"; }

# Under load a kill can come late and a run take more orders than planned, until none
# were left for the next run: when fewer than MIN of the COUNT orders are left to do (DONE
# are done), write 20 more (Order-COUNT+1 on, populate --first) and count them in COUNT.
# Usage: top_up_orders DONE MIN   (steps 07 and 09's kills)
top_up_orders() {
    [ $((COUNT - ${1:-0})) -lt "$2" ] || return 0
    run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n 20 --first $((COUNT + 1)) --force
    COUNT=$((COUNT + 20))
}

# A random 100-349 ms more, then kill -9 the program of start_killable and wait for it.
# Sets STEP_STATUS (137: the kill landed), KILL_DELAY, and adds it to KILL_DELAYS.
kill_after_random_delay() {
    KILL_DELAY=$((RANDOM % 250 + 100))
    sleep "0.$KILL_DELAY"
    kill -KILL $(program_pid) 2>/dev/null || true
    STEP_STATUS=0; wait "$STEP_PID" || STEP_STATUS=$?; STEP_PID=
    KILL_DELAYS="$KILL_DELAYS ${KILL_DELAY}ms"
}

# Wait until PREFIX.out has N `processed` lines; returns 1 when the program ended first,
# 2 when RUN_TIMEOUT passed. (No fail in here: called as a condition, bats' fail only
# returns, and the loop would go on saying it, once every 50 ms.)
wait_processed() {
    local out=$1 n=$2 deadline=$((SECONDS + RUN_TIMEOUT))
    local seen
    while seen=$(grep -c '^processed ' "$out" 2>/dev/null || true); [ "${seen:-0}" -lt "$n" ]; do
        kill -0 "$STEP_PID" 2>/dev/null || return 1
        [ $SECONDS -lt $deadline ] || return 2
        sleep 0.05
    done
}

# Wait (up to RUN_TIMEOUT) until FILE (a program's stderr) has a line matching the
# extended regular expression RE.
wait_for_stderr() {
    local file=$1 re=$2 deadline=$((SECONDS + RUN_TIMEOUT))
    until grep -Eq -- "$re" "$file" 2>/dev/null; do
        if [ -n "${STEP_PID:-}" ] && ! kill -0 "$STEP_PID" 2>/dev/null; then
            fail "the program ended before it printed a line like '$re'; its stderr ends with: $(tail -n 3 "$file")"
        fi
        [ $SECONDS -lt $deadline ] || fail "waited ${RUN_TIMEOUT}s for a line like '$re'; its stderr ends with: $(tail -n 3 "$file")"
        sleep 0.05
    done
}

# Wait (up to RUN_TIMEOUT) until FILE has at least N lines starting with WORD.
wait_for_lines() {
    local file=$1 word=$2 n=$3 deadline=$((SECONDS + RUN_TIMEOUT)) seen
    # The background program's output file may not exist yet: count 0 until it does.
    while seen=$(grep -c "^$word " "$file" 2>/dev/null || true); [ "${seen:-0}" -lt "$n" ]; do
        if [ -n "${STEP_PID:-}" ] && ! kill -0 "$STEP_PID" 2>/dev/null; then
            fail "the program ended before it printed $n '$word' lines (it printed $(grep -c "^$word " "$file")); its stderr ends with: $(tail -n 3 "${file%.out}.err")"
        fi
        [ $SECONDS -lt $deadline ] || fail "waited ${RUN_TIMEOUT}s for $n '$word' lines, saw $(grep -c "^$word " "$file")"
        sleep 0.05
    done
}

# Send SIGINT (Ctrl+C) to the background program and wait for it; sets STEP_STATUS.
interrupt_step() {
    kill -INT "$STEP_PID" 2>/dev/null || true
    STEP_STATUS=0
    wait "$STEP_PID" || STEP_STATUS=$?
    STEP_PID=
}

# Every commit the broker recorded for GROUP on TOPIC: "partition offset commit_ms".
broker_commits() {
    "$TOOLS/commits" -b "$BROKER" -g "$GROUP" -t "$TOPIC" | awk -F'\t' '{print $2, $3, $4}'
}

# "partition offset value at" for every line of kind WORD in the given output files.
events() {
    local word=$1; shift
    awk -v w="$word" '$1 == w {
        p = o = v = a = "";
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=");
            if (kv[1] == "partition") p = kv[2]; else if (kv[1] == "offset") o = kv[2];
            else if (kv[1] == "value") v = kv[2]; else if (kv[1] == "at") a = kv[2];
        }
        print p, o, v, a }' "$@"
}


# The crash-and-rerun scenario of every step: run with --crash-at N (it must crash: exit 3,
# no close), rerun to the end, analyze both runs (analyze_runs: the facts in
# $BATS_TEST_TMPDIR/facts), draw the commit timeline, and require that the rerun resumed
# exactly at the committed offsets.
# Usage: crash_and_rerun STEP N [args for the crash run...]
# Leaves in $BATS_TEST_TMPDIR: crash.out, rerun.out, commits1 (the broker's record after the
# crash), commits (after the rerun), facts (the analysis of both runs).
crash_and_rerun() {
    local step=$1 n=$2 d=$BATS_TEST_TMPDIR problems; shift 2
    member_opts
    run_step "$step" "$d/crash" "$@" --crash-at "$n" --idle-exit 3 "${MEMBER_OPTS[@]}"
    expect_some_processed "$d/crash.out"
    expect_exit 3 "from the simulated crash at message $n" "$d/crash"
    broker_commits >"$d/commits1"

    run_step "$step" "$d/rerun" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end "${MEMBER_OPTS[@]}"
    analyze_runs "${FRESH_COUNT:-0}" "$d/crash" "$d/rerun"
    show_timeline "$d/crash.out" "$d/rerun.out" "$d/commits"
    expect_exit 0 "at the end of the topic (--exit-at-end)" "$d/rerun"

    problems=$(facts finding kind=rerun-start | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "partition %s: the rerun started at offset %s, but the broker had offset %s committed\n", v["partition"], v["started"], v["committed"] }')
    [ -z "$problems" ] || fail "$(printf 'After the crash the rerun must resume exactly at the committed offsets:\n%s\n%s' "$problems" "$(hint_for "$step")")"
}

# The orders (values) of the analysis whose fact lines match: orders_where 'started1 > 0 && processed2 > 0'
orders_where() {
    facts order | awk "{ for (i = 2; i <= NF; i++) { split(\$i, kv, \"=\"); v[kv[1]] = kv[2] }
        started1 = v[\"started1\"] + 0; processed1 = v[\"processed1\"] + 0
        started2 = v[\"started2\"] + 0; processed2 = v[\"processed2\"] + 0
        if ($1) print v[\"value\"] }"
}

# The orders never processed by either run (with analyze_runs' COUNT).
never_processed() { facts never | sed 's/.*value=//'; }

# A second member joins the group while the first is collecting a batch: a trickle of
# orders (one every 20 ms, under the 100 ms a batch waits for the next) keeps the first
# member's batch open, so the rebalance comes while it holds messages. Partitions it
# loses then go to the newcomer, which reads them from the committed offset. Nothing
# crashes: every order must be processed exactly once, and the broker must end with
# each partition's end offset committed. On a busy machine the batch may have ended
# just before the rebalance (nothing in hand, nothing proven): the probe tells
# (in_hand_at_revoke), and the scenario is run again, up to 3 times.
# Findings of the analysis (kinds) are named first, when there are any: they are the
# cause (auto-commit left on commits the messages in hand).
# Usage: rebalance_mid_batch STEP UNIT [finding kinds...]
#   (a.out/a.err: the first member, b.*: the second)
rebalance_mid_batch() {
    local step=$1 unit=$2 d=$BATS_TEST_TMPDIR count=30 attempt twice missing p want got behind=; shift 2
    for attempt in 1 2 3; do
        rebalance_attempt "$step" "$count"
        IN_HAND=$(in_hand_at_revoke "$d/a")
        [ "$IN_HAND" -gt 0 ] && break
        note "try $attempt: the rebalance came while the first member held no message; again"
        forget_fresh
    done
    [ "$IN_HAND" -gt 0 ] || fail "In 3 tries the rebalance never came while the first member held messages, so this test proved nothing (a busy machine stretches the trickle of orders): run the check again."

    analyze_runs "$count" "$d/a" "$d/b"
    expect_own_commits "$step" "$unit"
    [ $# -eq 0 ] || fail_on_findings "$step" "$@"

    DROPPED=$(sed -n 's/.*rebalance during the batch: \([0-9]*\).*/\1/p' "$d/a.err" | head -n 1)
    events processed "$d/a.out" >"$d/a.processed"
    events processed "$d/b.out" >"$d/b.processed"
    twice=$(repeated_values "$d/a.processed" "$d/b.processed")
    [ -z "$twice" ] || fail "$(printf '%s\n%s\n%s' \
        "Processed twice although nothing crashed: $(echo $(sort -V <<<"$twice") | cut -c1-200)." \
        "A second member joined while the first was collecting a batch. The rebalance revoked partitions whose messages the first held; their new owner read them again from the committed offset, and the first processed them too. A batch in hand when a rebalance comes must be dropped, not processed (see fetch_batch and its comment)." \
        "$(hint_for "$step")")"
    missing=$(missing_values "$count" "$d/a.processed" "$d/b.processed")
    [ -z "$missing" ] || fail "Never processed by either member: $(echo $missing | cut -c1-200). $(hint_for "$step")"

    # The broker's record: each partition ends at its end offset (the orders sent to it).
    broker_commits >"$d/commits"
    for p in 0 1 2; do
        want=$(grep -c " partition=$p\$" "$d/trickle.out" || true)
        got=$(awk -v p="$p" '$1 == p { o = $2 } END { print (o == "" ? "none" : o) }' "$d/commits")
        [ "$got" != none ] || fail "$(printf '%s\n%s' "The broker recorded no commit for partition $p, which received $want orders: every processed batch must be committed." "$(hint_for "$step")")"
        [ "$got" -eq "$want" ] || behind+="partition $p: $got, not $want; "
    done
    [ -z "$behind" ] || fail "$(printf '%s\n%s\n%s' \
        "The broker's last commits do not cover what was processed: ${behind%; }." \
        "A member committed offsets of a partition after the rebalance had given it to the other member, over the new owner's commits (or a batch's commit is missing). Commit only what you own: drop the batch in hand when a rebalance comes." \
        "$(hint_for "$step")")"
}

# One run of the scenario of rebalance_mid_batch, on a fresh topic and group.
rebalance_attempt() {
    local step=$1 count=$2 d=$BATS_TEST_TMPDIR a_pid
    fresh_topic 0
    FRESH_COUNT=$count
    start_step "$step" "$d/a" -n 1000 -p 1 --crash-at 0 --idle-exit 2
    a_pid=$STEP_PID
    BACKGROUND_PIDS+=("$a_pid")
    wait_for_stderr "$d/a.err" 'assigned'
    timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n "$count" -e 20 >"$d/trickle.out" 2>"$d/trickle.err" 3>&- &
    BACKGROUND_PIDS+=($!)
    wait_for_lines "$d/trickle.out" sent 10
    start_step "$step" "$d/b" -n 1000 -p 1 --crash-at 0 --idle-exit 2
    STEP_STATUS=0
    wait "$STEP_PID" || STEP_STATUS=$?
    STEP_PID=
    expect_exit 0 "after --idle-exit (the member that joined)" "$d/b"
    STEP_STATUS=0
    wait "$a_pid" || STEP_STATUS=$?
    expect_exit 0 "after --idle-exit (the member that was collecting a batch)" "$d/a"
    wait "${BACKGROUND_PIDS[-1]}" || fail "the trickle of orders failed: $(tail -n 2 "$d/trickle.err")"
    BACKGROUND_PIDS=()
}

# How many messages the program of PREFIX had been handed, and had not started, when its
# partitions were first revoked after it got some: the probe's assign line says when,
# and which offsets it had been handed by then; its started lines say which it had begun.
in_hand_at_revoke() {
    awk 'FNR == NR {
            if (t == "" && $1 == "assign" && ($2 == "fn=incremental_unassign" || index($0, " partitions=none ")) &&
                index($0, " delivered=-") == 0) {
                for (i = 2; i <= NF; i++) {
                    if ($i ~ /^at=/) t = substr($i, 4) + 0
                    if ($i ~ /^delivered=/) dl = substr($i, 11)
                }
            }
            next
         }
         $1 == "started" {
             for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
             if (t != "" && v["at"] + 0 < t && (!(v["partition"] in max) || v["offset"] + 0 > max[v["partition"]]))
                 max[v["partition"]] = v["offset"] + 0
         }
         END {
             if (t == "") { print 0; exit }
             n = split(dl, parts, ","); sum = 0
             for (k = 1; k <= n; k++) {
                 split(parts[k], po, ":")
                 sum += po[2] - ((po[1] in max) ? max[po[1]] : -1)
             }
             print sum
         }' "$1.probe" "$1.out"
}

# After a clean stop (Ctrl+C) of the run in stop.out: rerun to the end, then no order may
# be processed twice and none may be missing.
# Usage: rerun_after_stop STEP COUNT WHY   (WHY: what the program must do, for a failure)
rerun_after_stop() {
    local step=$1 count=$2 why=$3 d=$BATS_TEST_TMPDIR twice lost
    run_step "$step" "$d/rerun" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_exit 0 "at the end of the topic (--exit-at-end)" "$d/rerun"
    analyze_runs "$count" "$d/stop" "$d/rerun"
    twice=$(orders_where 'processed1 > 0 && processed2 > 0')
    [ -z "$twice" ] || fail "Expected no duplicates after Ctrl+C; processed twice: $(echo $twice). $why $(hint_for "$step")"
    lost=$(never_processed)
    [ -z "$lost" ] || fail "Expected every order processed once; never processed: $(echo $lost). $(hint_for "$step")"
}

# Say something in the test's output even when it passes (TAP comment on fd 3).
note() { printf '# %s\n' "$@" >&3; }

# Where to look when a check fails.
hint_for() { printf 'Hint: steps/%s/README.md, then make hint STEP=%s (one hint more each time).' "$1" "${1%%_*}"; }

# ------------------------------------------------------------------ judging

# What an exit status says about how the program ended.
status_meaning() {
    case "$1" in
        0) echo "it ended normally" ;;
        1) echo "it stopped on an error" ;;
        2) echo "it rejected its options" ;;
        3) echo "it crashed (the simulated crash exits 3)" ;;
        124|137) echo "it did not stop in time and was killed" ;;
        # The grader's limits (scripts/sandbox.sh): named, never called a crash.
        152) echo "it was killed by SIGXCPU (signal 24): it used up the CPU-time limit the grader sets, not a crash" ;;
        153) echo "it was killed by SIGXFSZ (signal 25): it wrote a file past the file-size limit the grader sets, not a crash" ;;
        1[2-9][0-9]) echo "it was killed by signal $(( $1 - 128 )): a real crash" ;;
    esac
}

# Assert the program ended the way a test expects; otherwise say what it did instead.
# Usage: expect_exit WANT WHAT   (WHAT: "after --idle-exit", "after Ctrl+C", ...)
expect_exit() {
    local want=$1 what=$2 prefix=$3
    [ "$STEP_STATUS" -eq "$want" ] && return 0
    local why
    why=$(status_meaning "$STEP_STATUS")
    fail "$(printf 'Expected exit status %s %s; it exited %s%s.\nLast lines of its stderr:\n%s' \
        "$want" "$what" "$STEP_STATUS" "${why:+ ($why)}" "$(tail -n 6 "$prefix.err")")"
}

# Fail when the run processed nothing, with the usual reason.
expect_some_processed() {
    local out=$1 n
    n=$(grep -c '^processed ' "$out" || true)
    [ "$n" -gt 0 ] && return 0
    [ "${STEP_STATUS:-0}" -eq 0 ] || [ "${STEP_STATUS:-0}" -eq 3 ] || fail "$(printf '%s\n' \
        "Expected the consumer to process the orders of its topic; it processed none and exited $STEP_STATUS: $(status_meaning "$STEP_STATUS")." \
        "Its stderr ends with:" "$(tail -n 4 "${out%.out}.err")")"
    fail "$(printf '%s\n' \
        "Expected the consumer to process the orders of its topic; it processed none." \
        "A new group (no committed offset) starts where auto.offset.reset says, and librdkafka's default is 'latest': the end of the topic, after every order. Set it to 'earliest'." \
        "Its stderr ends with:" "$(tail -n 4 "${out%.out}.err")")"
}

# The values (Order-N) listed in a file of events, sorted, one per line.
values() { awk '{print $3}' "$@" | sort; }

# Values that appear more than once across the given event files.
repeated_values() { awk '{print $3}' "$@" | sort | uniq -d; }

# Orders 1..COUNT that appear in none of the given event files.
missing_values() {
    local count=$1; shift
    comm -23 <(seq 1 "$count" | sed 's/^/Order-/' | sort) <(values "$@" | uniq)
}

# The judging half: the facts of the analysis and the expectations built on them.
. "${BASH_SOURCE[0]%/*}/judge.bash"
