#!/usr/bin/env bash
# `make test`: everything that proves the workbook works, on a real broker.
#   1. the foundation: the broker's life cycle, the setup and observer tools;
#   2. every step check against the reference solutions (they must pass);
#   3. the self-check: every starter, every known-wrong solution and broken binaries
#      (one that hangs, crashes, prints nothing, or prints without consuming) must FAIL;
#   4. the learner and instructor tools: status, hint, diff, watch, timeline, compare,
#      what a check prints;
#   5. valgrind on the tools and solutions (scripts/memcheck.sh);
#   6. the fault suite (checks/foundation/faults.bats): the broker killed -9 under
#      consumers, 20 random kill -9 of steps, programs that must end cleanly. It kills
#      and restarts a PRIVATE broker of its own;
#   7. grading (checks/foundation/grade*.bats): the sandbox, intake, caps, exports.
# The checks mostly wait (on simulated work, on the broker), so three lanes run side by
# side: lane A is 1, 2 and 5, lane B is 3 and 4, lane C is 6 and 7. B's and C's output is
# printed when they end.
# Starts the broker if it is not up, and stops it again at the end if it started it.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

make -s build || exit 1
started=0
if ! scripts/broker.sh ping >/dev/null 2>&1; then
    scripts/broker.sh up || exit 1
    started=1
fi
lane_b_pid= lane_c_pid=
cleanup() {
    [ -z "$lane_b_pid" ] || kill -- -"$lane_b_pid" 2>/dev/null || true
    [ -z "$lane_c_pid" ] || kill -- -"$lane_c_pid" 2>/dev/null || true
    [ "$started" = 1 ] && scripts/broker.sh down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A failing test shows the output of its last `run` too (the tests' own messages say the rest).
export BATS_FLAGS=${BATS_FLAGS:---print-output-on-failure}
t0=$SECONDS
mkdir -p build
lane_b_log=build/test-lane-b.log
# Lane B in its own process group, so that an interrupted `make test` stops all of it.
# bash makes a background job ignore SIGINT, and a script cannot trap a signal ignored
# since its start; perl gives lane B the usual SIGINT back, which the tests of `make watch`
# (stopped with Ctrl+C) need.
setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "test: cannot run bash: $!\n"' bash -c '
    status=0
    echo "== 3. self-check: starters, known-wrong solutions and broken binaries must fail their checks"
    # Each self-check test runs one check and mostly waits: several at a time.
    bats ${BATS_FLAGS:-} $(command -v parallel >/dev/null && echo --jobs 6) checks/foundation/selfcheck.bats || status=1
    echo "== 4. learner and instructor tools"
    tools=$(ls checks/foundation/*.bats | grep -v -e /broker.bats -e /tools.bats -e /selfcheck.bats -e /faults.bats -e /grade)
    bats ${BATS_FLAGS:-} $tools || status=1
    echo "(lane B took $SECONDS s)"
    exit $status' >"$lane_b_log" 2>&1 </dev/null 3>&- &
lane_b_pid=$!
lane_c_log=build/test-lane-c.log
setsid bash -c 'status=0
    echo "== 6. faults: the broker killed under consumers, steps killed at random, clean ends"
    t=$SECONDS; bats ${BATS_FLAGS:-} checks/foundation/faults.bats || status=1
    echo "(the fault suite took $((SECONDS - t)) s; its figures: build/faults.txt)"
    echo "== 7. grading: the sandbox, intake, caps, tripwires, exports"
    t=$SECONDS; bats ${BATS_FLAGS:-} checks/foundation/grade*.bats || status=1
    echo "(grading took $((SECONDS - t)) s; lane C $SECONDS s)"
    exit $status' \
    >"$lane_c_log" 2>&1 </dev/null 3>&- &
lane_c_pid=$!

status=0
echo "== 1. foundation: broker, topic, populate, lag, commits"
bats ${BATS_FLAGS:-} checks/foundation/broker.bats checks/foundation/tools.bats || status=1
echo "== 2. every step check against the reference solutions"
scripts/check.sh solutions || status=1
echo "== 5. memcheck: the tools and solutions under valgrind"
scripts/memcheck.sh || status=1
echo "(lane A took $((SECONDS - t0)) s)"

echo "== (lane B: self-check and tools; running since the start, output follows)"
wait "$lane_b_pid" || status=1
lane_b_pid=
cat "$lane_b_log"
echo "== (lane C: the fault suite and grading; output follows)"
wait "$lane_c_pid" || status=1
lane_c_pid=
cat "$lane_c_log"
echo "make test: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
exit $status
