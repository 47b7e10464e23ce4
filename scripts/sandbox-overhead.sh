#!/usr/bin/env bash
# The sandbox's overhead per run (scripts/sandbox.sh): N runs (20) of /bin/true directly,
# in the sandbox without network (a build), and with the broker relayed in (a check's run).
#   KAFKA_PORT=19192 scripts/sandbox-overhead.sh
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-20} port=${KAFKA_PORT:-9092}
"$ROOT/scripts/sandbox.sh" check || exit 1
d=$(mktemp -d) && chmod 700 "$d" && mkdir -p "$d/scratch" "$d/net" "$d/dbs"
mode=user uid=""
if [ "$(id -u)" -eq 0 ]; then mode=root uid=$((1500000000 + 1999999)); chown "$uid" "$d/scratch"; fi
printf 'SB_MODE=%s\nSB_SCRATCH=%s\nSB_UID=%s\nSB_NET=%s\nSB_PORTS="%s"\nSB_DBS=%s\nSB_CPU=120\nSB_AS=4294967296\nSB_NPROC=256\nSB_FSIZE=16777216\nSB_NOFILE=256\n' \
    "$mode" "$d/scratch" "$uid" "$d/net" "$port" "$d/dbs" >"$d/conf"
socat UNIX-LISTEN:"$d/net/$port.sock",fork,mode=0666 TCP:127.0.0.1:"$port" & relay=$!
trap 'kill $relay 2>/dev/null; rm -rf "$d"' EXIT
sleep 0.3
per_run() { local s i; s=$(date +%s%N); for i in $(seq "$N"); do "$@" >/dev/null 2>&1; done; echo $(( ($(date +%s%N) - s) / N / 1000000 )); }
echo "per run, mean of $N ($mode mode):"
echo "  directly                          $(per_run /bin/true) ms"
echo "  sandbox, no network (a build)     $(per_run "$ROOT/scripts/sandbox.sh" exec "$d/conf" -- /bin/true) ms"
echo "  sandbox, broker relayed (a run)   $(per_run "$ROOT/scripts/sandbox.sh" exec "$d/conf" --net -- /bin/true) ms"
