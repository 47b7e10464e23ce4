#!/usr/bin/env bash
# `make test`: everything that proves the workbook works, on a real broker.
#   1. the foundation: the broker's life cycle, the setup and observer tools;
#   2. every step check against the reference solutions (they must pass);
#   3. the self-check: every starter, every known-wrong solution and broken binaries
#      (one that hangs, crashes, prints nothing, or prints without consuming) must FAIL;
#   4. valgrind on the tools and solutions (scripts/memcheck.sh).
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
stop_broker() { [ "$started" = 1 ] && scripts/broker.sh down; }
trap stop_broker EXIT

status=0
t0=$SECONDS
echo "== 1/4 foundation: broker, topic, populate, lag, commits"
bats ${BATS_FLAGS:-} checks/foundation/broker.bats checks/foundation/tools.bats || status=1
echo "== 2/4 every step check against the reference solutions"
scripts/check.sh solutions || status=1
echo "== 3/4 self-check: starters, known-wrong solutions and broken binaries must fail their checks"
bats ${BATS_FLAGS:-} checks/foundation/selfcheck.bats || status=1
echo "== 4/4 memcheck: the tools and solutions under valgrind"
scripts/memcheck.sh || status=1
echo "make test: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
exit $status
