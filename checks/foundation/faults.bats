#!/usr/bin/env bats
# Faults a learner meets, and the broker's own faults, on a PRIVATE broker (its own port
# and data folder: the workbook's broker, and every test using it, is never touched):
#   - the broker killed (kill -9 of its JVM) and restarted while steps 02, 03, 05 and 06
#     consume: nothing is lost, and the outage is reported;
#   - 25 random kill -9 of steps 02, 03, 05, 07 and 09 across reruns (scripts/chaos.sh): 0 lost;
#   - every program ends cleanly: no broker, a broker that goes away before the close, a
#     session setting the broker refuses, a heartbeat that does not fit the session;
#   - the tools: topic's overall deadline, commits on an unknown group, lag on an old
#     librdkafka; make run and make's CFLAGS;
#   - docker-compose.yml renders the same settings as scripts/broker.env, on any port;
#   - a commit the broker refuses for one partition only is reported partition by partition.
# The reference solutions are the programs under test. The figures of the kills are
# written to build/faults.txt.

setup_file() {
    load ../test_helper/common
    make -s -C "$ROOT" build tools >/dev/null
    export KAFKA_MODE=native
    export KAFKA_PORT=${FAULTS_PORT:-$((19500 + RANDOM % 50 * 2))}
    export KAFKA_STATE_DIR="$BATS_FILE_TMPDIR/broker"
    export BROKER="127.0.0.1:$KAFKA_PORT"
    export WORKBOOK_TARGET=solutions WORKBOOK_BIN=$ROOT/build/solutions
    timeout 120 "$ROOT/scripts/broker.sh" up >/dev/null 3>&- || return 1
    : >"$ROOT/build/faults.txt"
}

teardown_file() {
    "$ROOT/scripts/broker.sh" down >/dev/null 2>&1 || true
}

setup() {
    load ../test_helper/common
    BROKER="127.0.0.1:$KAFKA_PORT"
}

# ------------------------------------------------------------------ helpers

jvm_pid() { cat "$KAFKA_STATE_DIR/kafka.pid"; }

# kill -9 the broker's JVM: no controlled shutdown, no goodbye to its clients.
kill_broker() {
    local pid
    pid=$(jvm_pid)
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

restart_broker() { run -0 timeout 120 "$ROOT/scripts/broker.sh" up; }

# How many lines of FILE start with WORD.
lines_of() { grep -c "^$1 " "$2" 2>/dev/null || true; }

# Wait up to SECS until FILE has N lines starting with WORD, or PID ended.
wait_lines_or_end() { # FILE WORD N PID SECS
    local deadline=$((SECONDS + $5))
    while [ "$(lines_of "$2" "$1")" -lt "$3" ] && kill -0 "$4" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

# Orders 1..COUNT never processed in the given outputs (several runs: not the analysis's
# never_processed, which sees two); and how many processed twice.
missing_in() { local c=$1; shift; missing_values "$c" <(events processed "$@"); }
twice() { events processed "$@" | awk '{ print $3 }' | sort | uniq -d | wc -l; }

# ------------------------------------------------------------------ the broker's faults

@test "faults: the broker is killed -9 and restarted while 02, 03, 05 and 06 consume: nothing lost, the outage reported" {
    local d=$BATS_TEST_TMPDIR s count=40 pids=() before=() i
    local steps=(02_manual_commit 03_batch_commit 05_store_after_processing 06_async_commit)
    for s in "${steps[@]}"; do
        run -0 timeout 30 "$TOOLS/topic" -b "$BROKER" -t "f-$s-$$" -p 3
        run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "f-$s-$$" -n "$count"
    done
    for s in "${steps[@]}"; do
        # socket.timeout.ms 10 s (default 60 s): a synchronous commit caught by the outage
        # gives up within the wait below, and the program carries on or stops on it.
        timeout -k 10 120 "$WORKBOOK_BIN/$s" -b "$BROKER" -t "f-$s-$$" -g "f-$s-$$" "${SESSION_OPTS[@]}" \
            -X socket.timeout.ms=10000 -p 150 --crash-at 0 >"$d/$s.out" 2>"$d/$s.err" </dev/null 3>&- &
        pids+=($!)
    done
    for i in "${!steps[@]}"; do
        wait_lines_or_end "$d/${steps[$i]}.out" processed 3 "${pids[$i]}" 30 ||
            fail "${steps[$i]} processed nothing in 30 s: $(tail -n 3 "$d/${steps[$i]}.err")"
    done
    kill_broker
    for i in "${!steps[@]}"; do before+=("$(lines_of processed "$d/${steps[$i]}.out")"); done
    sleep 1
    restart_broker
    # Each one carries on after the outage (or, step 02 and 03, stops on a failed commit).
    for i in "${!steps[@]}"; do
        wait_lines_or_end "$d/${steps[$i]}.out" processed $((before[i] + 3)) "${pids[$i]}" 60 ||
            fail "${steps[$i]} made no progress within 60 s of the broker's return: $(tail -n 5 "$d/${steps[$i]}.err")"
    done
    local lost_all=0 dup_all=0
    for i in "${!steps[@]}"; do
        s=${steps[$i]}
        kill -INT "${pids[$i]}" 2>/dev/null || true
        STEP_STATUS=0; wait "${pids[$i]}" || STEP_STATUS=$?
        [ "$STEP_STATUS" = 0 ] || [ "$STEP_STATUS" = 1 ] ||
            fail "$s exited $STEP_STATUS after the outage ($(status_meaning "$STEP_STATUS")): $(tail -n 5 "$d/$s.err")"
        # The outage is reported: the kit's line, librdkafka's, or a failed commit.
        grep -qE 'no broker answers|Connection refused|Disconnected|commit.* failed|Commit .*failed' "$d/$s.err" ||
            fail "$s said nothing about the broker's outage on stderr: $(tail -n 5 "$d/$s.err")"
        if [ "$STEP_STATUS" = 1 ]; then
            grep -qE '(Commit|commit).*(failed|_)' "$d/$s.err" ||
                fail "$s exited 1 without naming a failed commit: $(tail -n 5 "$d/$s.err")"
        fi
        TOPIC="f-$s-$$" GROUP="f-$s-$$" run_step "$s" "$d/$s-rerun" -p 10 --crash-at 0 --idle-exit 2
        expect_exit 0 "after --idle-exit" "$d/$s-rerun"
        lost=$(missing_in "$count" "$d/$s.out" "$d/$s-rerun.out")
        [ -z "$lost" ] || fail "$s lost orders across the broker's kill -9: $(echo $lost)"
        dup=$(twice "$d/$s.out" "$d/$s-rerun.out")
        lost_all=$((lost_all + 0)) dup_all=$((dup_all + dup))
        note "$s: exit $STEP_STATUS through the outage, then the rerun: lost 0, processed twice $dup"
    done
    echo "broker kill -9: steps ${#steps[@]} lost $lost_all duplicated $dup_all" >>"$ROOT/build/faults.txt"
}

@test "faults: a broker that dies before the close: the close is bounded and the lost commit reported" {
    local d=$BATS_TEST_TMPDIR
    fresh_topic 30
    # Step 05 commits nothing by itself: the close is where its last commit goes.
    start_step 05_store_after_processing "$d/run" -p 100 --crash-at 0 --idle-exit 3
    wait_for_lines "$d/run.out" processed 2
    kill_broker
    sleep 0.5
    t0=$SECONDS
    # Ctrl+C to the program itself, not through timeout(1): the test measures its own bound.
    kill -INT "$(pgrep -P "$STEP_PID")"
    STEP_STATUS=0; wait "$STEP_PID" || STEP_STATUS=$?
    [ $((SECONDS - t0)) -le 8 ] || fail "the close took $((SECONDS - t0)) s; its bound is 5 s"
    restart_broker
    # Either the close gave up waiting (the kit's line, exit 1), or librdkafka gave up
    # its last commit and said so (COMMITFAIL): never a silent end, never a hang.
    if grep -q 'did not close within 5 s' "$d/run.err"; then
        expect_exit 1 "when the close cannot reach the broker" "$d/run"
        run -0 grep -c 'did not close within' "$d/run.err"
        assert_output 1
    else
        grep -q 'COMMITFAIL' "$d/run.err" ||
            fail "the close ended (exit $STEP_STATUS) without a word on its lost commit: $(tail -n 4 "$d/run.err")"
        note "the close ended by itself, exit $STEP_STATUS, with its last commit reported failed"
    fi
}

@test "faults: 25 random kill -9 of steps 02, 03, 05, 07 and 09 across reruns: 0 lost; 07 and 09 nothing twice (scripts/chaos.sh)" {
    local d=$BATS_TEST_TMPDIR s pids=() kills=0 lost=0 dup=0 runs=0 line
    for s in 02 03 05 07 09; do
        COUNT=40 WORKBOOK_TARGET=solutions CHAOS_DIR="$d/chaos-$s" \
            timeout 170 "$ROOT/scripts/chaos.sh" "$s" 5 >"$d/chaos-$s.log" 2>&1 </dev/null 3>&- &
        pids+=($!)
    done
    for i in 0 1 2 3 4; do wait "${pids[$i]}" || true; done
    for s in 02 03 05 07 09; do
        line=$(grep '^chaos STEP=' "$d/chaos-$s.log") ||
            fail "chaos.sh for step $s gave no tally: $(tail -n 5 "$d/chaos-$s.log")"
        note "$line"
        echo "$line" >>"$ROOT/build/faults.txt"
        kills=$((kills + $(field "$line" kills))) lost=$((lost + $(field "$line" lost)))
        dup=$((dup + $(field "$line" duplicated))) runs=$((runs + $(field "$line" runs)))
        [ "$(field "$line" lost)" = 0 ] || fail "step $s lost orders to kill -9: $(grep 'chaos: never' "$d/chaos-$s.log")"
        ! grep -q 'hung' "$d/chaos-$s.log" || fail "a run of step $s hung: $(grep hung "$d/chaos-$s.log")"
        # Exactly once: 07's database and 09's invoices (read_committed) hold no order twice.
        [ "$s" != 07 ] && [ "$s" != 09 ] || [ "$(field "$line" duplicated)" = 0 ] ||
            fail "step $s recorded orders twice under kill -9: $(grep 'twice or more:' "$d/chaos-$s.log")"
    done
    [ "$kills" -eq 25 ] || fail "expected 25 kills -9 in all, made $kills (the orders ran out first?)"
    note "in all: $runs runs, $kills kills -9, lost $lost, processed twice $dup"
}

@test "faults: make chaos on a program that stops on an error by itself ends at once, says why, exits 1" {
    local d=$BATS_TEST_TMPDIR
    # Step 07 starting where Kafka's commits say, not where its database does: after the
    # first kill its rerun writes an order the database has, and the primary key refuses.
    make -s -C "$ROOT" build/mutants/07_kafka_offsets >/dev/null
    CHAOS_BIN=$ROOT/build/mutants/07_kafka_offsets COUNT=40 CHAOS_DIR="$d/chaos" \
        run -1 timeout 120 "$ROOT/scripts/chaos.sh" 07 20
    assert_output --partial "stopped on an error by itself (exit 1) before the kill came"
    assert_output --partial "UNIQUE constraint failed"
    assert_output --partial "make check STEP=07 first"
    # No run after the one that ended by itself (which one that is depends on where the
    # kills fell: a first run killed before it wrote an order leaves nothing to clash with).
    last=$(printf '%s\n' "$output" | sed -n 's/^ *run \([0-9]*\): ended by itself, exit 1.*/\1/p' | head -n1)
    [ -n "$last" ] || fail "no run ended by itself: $output"
    [ "$(ls "$d/chaos" | grep -c '\.out$')" -eq "$last" ] || fail "chaos went on after the error of run $last: $(ls "$d/chaos" | grep -c '\.out$') runs"
}

# ------------------------------------------------------------------ programs end cleanly

@test "faults: no broker at the address: every step ends within --idle-exit with one line and exit 1" {
    local d=$BATS_TEST_TMPDIR s port=$((KAFKA_PORT + 50)) pids=()
    for s in $(cd "$ROOT/solutions" && ls -d [0-9][0-9]_*); do
        timeout -k 2 20 "$WORKBOOK_BIN/$s" -b "127.0.0.1:$port" -t nothing -g nothing --idle-exit 3 \
            --db "$d/$s.db" >"$d/$s.out" 2>"$d/$s.err" </dev/null 3>&- &
        pids+=("$s:$!")
    done
    t0=$SECONDS
    for p in "${pids[@]}"; do
        s=${p%%:*}; STEP_STATUS=0; wait "${p#*:}" || STEP_STATUS=$?
        expect_exit 1 "with no broker" "$d/$s"
        if [ "${s%%_*}" = 09 ]; then
            # Step 09 registers its transactional producer first (init_transactions,
            # bounded by 10 s with --idle-exit): the kit says no broker answers, then the
            # program says the registration failed.
            run -0 grep -c 'no broker answers' "$d/$s.err"
            run -0 tail -n 1 "$d/$s.err"
            assert_output --partial "init_transactions failed"
            continue
        fi
        # Its own lines (librdkafka's log lines start with %3|, %4|...): the last one says it.
        run -0 tail -n 1 "$d/$s.err"
        assert_output --partial "no broker answers"
        run -0 grep -c 'no partition assigned' "$d/$s.err"
        assert_output 1
    done
    [ $((SECONDS - t0)) -le 15 ] || fail "the $(ls "$ROOT/solutions" | wc -l) programs took $((SECONDS - t0)) s to end; --idle-exit was 3 (step 09's start-up waits 10 s at most)"
}

@test "faults: a session the broker refuses ends the program (no loop), with exit 1" {
    fresh_topic 5
    run_step 02_manual_commit "$BATS_TEST_TMPDIR/run" -X session.timeout.ms=500 -X heartbeat.interval.ms=100 --idle-exit 3
    expect_exit 1 "when the broker refuses the session timeout" "$BATS_TEST_TMPDIR/run"
    run -0 grep -c 'INVALID_SESSION_TIMEOUT cannot heal' "$BATS_TEST_TMPDIR/run.err"
}

@test "faults: a session without a shorter heartbeat is refused at once, in one line" {
    fresh_topic 5
    run -2 timeout 10 "$WORKBOOK_BIN/01_auto_commit" -b "$BROKER" -t "$TOPIC" -g "$GROUP" -X session.timeout.ms=2000
    assert_output --partial "session.timeout.ms=2000 needs a shorter heartbeat.interval.ms (it is 3000)"
    assert_equal "${#lines[@]}" 1
}

# ------------------------------------------------------------------ tools and make

@test "faults: topic has an overall deadline against a broker that accepts but never answers" {
    # A listener that takes connections and says nothing (as a broker whose data folder
    # was deleted under it can).
    local port=$((KAFKA_PORT + 60))
    python3 -c 'import socket, time, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); c = []
while True: c.append(s.accept()[0])' "$port" </dev/null >/dev/null 2>&1 3>&- &
    silent=$!
    # The scenario: something listens there, and says nothing.
    for _ in $(seq 100); do
        (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$silent" 2>/dev/null || fail "the silent listener on port $port ended at once (python3 missing, or the port taken)"
        sleep 0.05
    done
    KIT_DEADLINE_S=2 run -1 timeout 20 "$TOOLS/topic" -b "127.0.0.1:$port" -t x
    kill "$silent" 2>/dev/null || fail "the silent listener on port $port ended during the test: the scenario did not hold"
    assert_output --partial "topic: no result within 2 s"
}

@test "faults: make commits on a group with no commit says so and fails; lag names the librdkafka it needs" {
    run -2 make -s -C "$ROOT" commits GROUP="no-such-group-$$" BROKER="$BROKER"
    assert_output --partial "no commit for group no-such-group-$$"
    # An old librdkafka (1.8, as Ubuntu 22.04 ships): the build says why it fails.
    mkdir -p "$BATS_TEST_TMPDIR/old/librdkafka"
    printf '#define RD_KAFKA_VERSION 0x010802ff\n' >"$BATS_TEST_TMPDIR/old/librdkafka/rdkafka.h"
    run ${CC:-cc} -fsyntax-only -I"$BATS_TEST_TMPDIR/old" -I"$ROOT/tools/kit" "$ROOT/tools/observers/lag.c"
    assert_failure
    assert_output --partial "needs librdkafka 2.0.0 or newer"
}

@test "faults: make run takes STEP=1 (for 01), gives a short session with its heartbeat, and ends the intended crash cleanly" {
    local t="f-run-$$-$RANDOM"
    # (Step 01's starter reads from the end of the topic: earliest, so that it has work.)
    run -0 timeout 60 make -s -C "$ROOT" run STEP=1 TOPIC="$t" GROUP="$t" COUNT=5 BROKER="$BROKER" \
        ARGS="--crash-at 2 -p 50 -X auto.offset.reset=earliest"
    assert_output --partial "simulated crash"
    refute_output --partial "Error 3"
    # The session make run gives is 6 s: a heartbeat of 7 s does not fit it.
    run -2 timeout 60 make -s -C "$ROOT" run STEP=2 TOPIC="$t" GROUP="$t" COUNT=5 BROKER="$BROKER" \
        ARGS="-X heartbeat.interval.ms=7000"
    assert_output --partial "session.timeout.ms=6000 needs a shorter heartbeat.interval.ms"
}

@test "faults: CFLAGS on make's command line keeps the project's own flags" {
    run -0 make -s -n -B -C "$ROOT" CFLAGS=-O0 build/tools/ping
    assert_output --partial "-O0"
    assert_output --partial "-Wall -Wextra -Werror"
}

@test "faults: librdkafka's headers in a folder of their own (Homebrew) build under -Werror" {
    # rdkafka.h as 2.3.0 and later have it: a const-qualified return type, which -Wextra
    # -Werror turns into an error inside the header when it comes through a plain -I.
    d=$BATS_TEST_TMPDIR
    mkdir -p "$d/include/librdkafka" "$d/pc" "$d/tree"
    { cat /usr/include/librdkafka/rdkafka.h; echo 'const int workbook_qualified_return(void);'; } \
        >"$d/include/librdkafka/rdkafka.h"
    printf '%s\n' "includedir=$d/include" 'Name: rdkafka' 'Description: librdkafka' 'Version: 2.3.0' \
        'Cflags: -I${includedir}' 'Libs: -lrdkafka' >"$d/pc/rdkafka.pc"
    # The scenario is real: through a plain -I, the header alone fails the build.
    printf '#include <librdkafka/rdkafka.h>\nint main(void) { return 0; }\n' >"$d/t.c"
    run ! cc -std=c11 -Wall -Wextra -Werror -I"$d/include" -c -o "$d/t.o" "$d/t.c"
    assert_output --partial "workbook_qualified_return"
    # A copy of the tree, so that the workbook's own build/ (in use by other tests) stays.
    cp -r "$ROOT/Makefile" "$ROOT/tools" "$ROOT/steps" "$ROOT/solutions" "$d/tree/"
    PKG_CONFIG_PATH=$d/pc run -0 make -C "$d/tree" build/tools/ping build/steps/01_auto_commit build/solutions/01_auto_commit
    assert_output --partial "-isystem$d/include"
}

# ------------------------------------------------------------------ Docker mode, without an engine

@test "faults: docker-compose.yml renders the settings of scripts/broker.env, on any KAFKA_PORT, with a healthcheck" {
    run -0 python3 "$ROOT/scripts/compose-check.py" "$ROOT" 19555
    note "$output"
    run -0 python3 "$ROOT/scripts/compose-check.py" "$ROOT" 9092
}

@test "faults: analyze --skew reads the broker's commit times on this machine's clock" {
    local d=$BATS_TEST_TMPDIR
    printf 'started partition=0 offset=0 value=Order-1 at=1000\nprocessed partition=0 offset=0 value=Order-1 at=2000\n' >"$d/run.out"
    printf '0 1 2500\n' >"$d/commits"
    # The broker's clock 1 s ahead: its 2500 is this machine's 1500, before processing ended.
    run -0 "$TOOLS/analyze" --skew 1000 "$d/run.out" "$d/commits"
    assert_output --partial "request n=0 by=unknown call=-1 fn=- async=0 phase=run1 at=1500"
    assert_output --partial "finding kind=before-processing"
    run -0 "$TOOLS/analyze" --skew 0 "$d/run.out" "$d/commits"
    refute_output --partial "finding kind=before-processing"
}

# A commit the broker refuses for one partition only: the probe gives partition 1's
# commit metadata larger than the broker takes, so the broker refuses that partition
# (OFFSET_METADATA_TOO_LARGE) and keeps the others. 3 orders a partition and batches of
# up to 15: the first batch holds all three partitions, so its one commit is refused in
# part. Every committed line must be in the broker's record, and the refused partition
# the only one reported failed.
# Usage: partial_failure STEP EXIT WHY
partial_failure() {
    local step=$1 want=$2 why=$3 d=$BATS_TEST_TMPDIR ok failed recorded
    fresh_topic 9
    WORKBOOK_FAULT=refuse-partition:1 run_step "$step" "$d/run" -n 15 -p 50 --crash-at 0 --idle-exit 3
    expect_exit "$want" "$why" "$d/run"
    broker_commits >"$d/commits"
    failed=$(awk '$1 == "commit-failed"' "$d/run.out")
    [ -n "$failed" ] || fail "no commit-failed line: $(tail -n 3 "$d/run.err")"
    [[ $failed == *"partition=1 "*"error=OFFSET_METADATA_TOO_LARGE"* ]] || fail "the refused partition is not the one reported: $failed"
    [[ $failed != *"partition=0 "* && $failed != *"partition=2 "* ]] || fail "a partition the broker kept was reported failed: $failed"
    ok=$(awk '$1 == "committed" { split($2, p, "="); split($3, o, "="); print p[2], o[2] }' "$d/run.out" | sort)
    recorded=$(awk '{ print $1, $2 }' "$d/commits" | sort)
    [ -n "$ok" ] || fail "no committed line at all: the partitions the broker kept must be reported"
    [ -z "$(comm -23 <(echo "$ok") <(echo "$recorded"))" ] || fail "committed lines the broker never recorded: $(comm -23 <(echo "$ok") <(echo "$recorded") | tr '\n' ' ')"
    [ -z "$(awk '$1 == 1' "$d/commits")" ] || fail "the broker recorded partition 1: the fault did not work"
    note "$step: reported $(echo "$failed" | wc -l) failed, $(echo "$ok" | wc -l) committed, all as the broker recorded"
}

@test "faults: a commit the broker refuses for one partition only (step 03): that one is reported failed, the others committed, as the broker recorded" {
    partial_failure 03_batch_commit 1 "after a commit the broker refused (partly)"
}

@test "faults: the same partial failure in step 08 (the kit's step_commit_report): reported as the broker recorded, and the program goes on" {
    partial_failure 08_lag 0 "after --idle-exit (step 08 goes on after a failed commit)"
}
