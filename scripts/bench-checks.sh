#!/usr/bin/env bash
# `make bench-checks`: how long `make check STEP=NN` takes on the reference solutions, with
# the broker warm. Each step's check runs RUNS times (default 5); prints min, median and max
# per step, and writes the table to build/bench-checks.md. A figure to report, not a test:
# it never fails on a slow run, only on a failing check.
# Usage: scripts/bench-checks.sh [NN ...]     (RUNS=5)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
runs=${RUNS:-5}
steps=()
if [ $# -eq 0 ]; then steps=($(workbook_steps)); else for s in "$@"; do resolve_step bench-checks "$s"; steps+=("$STEP_DIR"); done; fi

make -s build >/dev/null || exit 1
build/tools/ping -b "127.0.0.1:${KAFKA_PORT:-9092}" -t 2000 >/dev/null 2>&1 || scripts/broker.sh up >/dev/null || exit 1
scripts/check.sh solutions "${steps[0]%%_*}" >/dev/null 2>&1 # warm up: the first group on a new broker is slow

out=build/bench-checks.md
{
    echo "| step | runs | min (s) | median (s) | max (s) |"
    echo "| --- | --- | --- | --- | --- |"
} >"$out"
status=0
printf '%-28s %5s %8s %8s %8s\n' step runs min median max
for step in "${steps[@]}"; do
    times=()
    for ((i = 1; i <= runs; i++)); do
        t0=$(date +%s%3N)
        scripts/check.sh solutions "${step%%_*}" >/dev/null 2>&1 || { echo "bench-checks: $step failed on run $i" >&2; status=1; }
        times+=($(( $(date +%s%3N) - t0 )))
    done
    read -r min med max < <(printf '%s\n' "${times[@]}" | sort -n |
        awk '{ v[NR] = $1 } END { printf "%.1f %.1f %.1f\n", v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }')
    printf '%-28s %5s %8s %8s %8s\n' "$step" "$runs" "$min" "$med" "$max"
    echo "| $step | $runs | $min | $med | $max |" >>"$out"
done
echo "bench-checks: table in $out"
exit $status
