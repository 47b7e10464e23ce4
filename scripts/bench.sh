#!/usr/bin/env bash
# `make bench`: the figures README.md reports, measured on this machine.
# It runs its own native broker on side ports with a throw-away data folder, so the
# workbook's broker is not touched.
#   - native broker cold start to ready: jar cache warm; jar cache cold (Maven's local
#     repository warm); and (BENCH_COLD_MAVEN=1) Maven's repository empty too
#   - the broker's resident memory once ready
#   - make populate: 100 orders, and 100,000
#   - reading the commit history of a group with 1,000 commits
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
make -s build
work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-bench.XXXXXX")
export KAFKA_MODE=native KAFKA_PORT=${BENCH_PORT:-28092} KAFKA_STATE_DIR=$work/state
B=127.0.0.1:$KAFKA_PORT
cleanup() { scripts/broker.sh down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

ms() { date +%s%3N; }
timed() { local t0; t0=$(ms); "$@" >/dev/null; echo $(( $(ms) - t0 )); }
fresh() { scripts/broker.sh down >/dev/null 2>&1 || true; rm -rf "$KAFKA_STATE_DIR"; }

rows=()
row() { rows+=("| $1 | $2 |"); printf '%-58s %s\n' "$1" "$2"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -n1)"

if [ "${BENCH_COLD_MAVEN:-0}" = 1 ]; then
    fresh
    t=$(MAVEN_OPTS="-Dmaven.repo.local=$work/m2" KAFKA_JARS_CACHE=$work/jars timed scripts/broker.sh up)
    row "broker start, nothing cached (download from Maven Central)" "$t ms"
fi
fresh
t=$(KAFKA_JARS_CACHE=$work/jars2 timed scripts/broker.sh up)
row "broker start, jar cache cold (Maven's ~/.m2 warm)" "$t ms"
fresh
for i in 1 2 3; do
    t=$(timed scripts/broker.sh up)
    row "broker start, jar cache warm, new data folder (run $i)" "$t ms"
    [ $i = 3 ] || fresh
done
scripts/broker.sh down >/dev/null
row "broker restart, jar cache warm, existing data" "$(timed scripts/broker.sh up) ms"
rss=$(ps -o rss= -p "$(cat "$KAFKA_STATE_DIR/kafka.pid")")
row "broker resident memory once ready (heap ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m})" "$((rss / 1024)) MiB"

build/tools/topic -b $B -t bench-small -p 3 >/dev/null
row "make populate, 100 orders" "$(timed build/tools/populate -b $B -t bench-small -n 100) ms"
build/tools/topic -b $B -t bench-big -p 3 >/dev/null
row "make populate, 100,000 orders" "$(timed build/tools/populate -b $B -t bench-big -n 100000) ms"

build/tools/topic -b $B -t bench-commits -p 3 >/dev/null
build/tools/populate -b $B -t bench-commits -n 1000 >/dev/null
build/solutions/02_manual_commit -b $B -t bench-commits -g bench-1000 -p 0 --crash-at 0 --idle-exit 1 >/dev/null 2>&1
n=$(build/tools/commits -b $B -g bench-1000 | wc -l)
[ "$n" -eq 1000 ] || { echo "bench: expected 1000 commits, found $n" >&2; exit 1; }
best=999999
for _ in 1 2 3; do t=$(timed build/tools/commits -b $B -g bench-1000); [ "$t" -lt "$best" ] && best=$t; done
row "make commits, a group with 1,000 commits (best of 3)" "$best ms"

echo
echo "As a Markdown table:"
echo "| measure | result |"
echo "|---|---|"
printf '%s\n' "${rows[@]}"
