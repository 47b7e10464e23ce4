#!/usr/bin/env bash
# `make run STEP=NN`: your step program against the local broker, with the exercise's
# timings. Starts the broker if needed, creates TOPIC and fills it (once), then runs.
# Environment (from the Makefile): BROKER TOPIC PARTITIONS COUNT GROUP ARGS.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

[ -n "${1:-}" ] || { echo "usage: make run STEP=NN   (steps: $(echo $(workbook_steps)))" >&2; exit 2; }
resolve_step run "$1"
make -s "build/steps/$STEP_DIR" || exit 1
# Any Kafka that answers at BROKER will do; else start the workbook's.
build/tools/ping -b "$BROKER" -t 2000 >/dev/null 2>&1 || scripts/broker.sh up || exit 1
build/tools/topic -b "$BROKER" -t "$TOPIC" -p "$PARTITIONS" || exit 1
build/tools/populate -b "$BROKER" -t "$TOPIC" -n "$COUNT" || exit 1
# Step 09 writes its invoices to a topic of their own (its --out, default invoices).
if [ "${STEP_DIR%%_*}" = 09 ]; then build/tools/topic -b "$BROKER" -t invoices -p "$PARTITIONS" || exit 1; fi

# A crashed consumer stays in its group until its session times out (librdkafka's
# default: 45 s), and the rerun waits for that. 6 s, with a heartbeat well within it
# (librdkafka's default heartbeat, 3 s, must stay below the session), is the shortest
# any Kafka accepts by default. -X in ARGS comes later, so it wins.
SESSION=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=2000)
after="'make lag GROUP=...' and 'make commits GROUP=...'"
[ "${STEP_DIR%%_*}" != 09 ] || after="'make invoices', 'make commits GROUP=transactions-group TXN=1'"
echo "== running steps/$STEP_DIR (Ctrl+C to stop; then $after)"
status=0
# shellcheck disable=SC2086 # ARGS is a list of options
"build/steps/$STEP_DIR" -b "$BROKER" -t "$TOPIC" ${GROUP:+-g "$GROUP"} "${SESSION[@]}" ${ARGS:-} || status=$?
if [ "$status" = 3 ]; then
    echo "== that was the simulated crash (--crash-at, exit 3), as intended: 'make run STEP=${STEP_DIR%%_*} ARGS=--crash-at=0' runs again from the committed offsets"
    exit 0
fi
exit "$status"
