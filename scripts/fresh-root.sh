#!/usr/bin/env bash
# `make fresh-root SUITE=trixie`: the whole CI run (`.ci/run`) on a machine that has never
# seen the workbook: a new Debian root made with debootstrap from Debian's package registry,
# a clean clone of this repository's HEAD inside it, run under bubblewrap as its own `/`.
# What a newcomer's machine is missing, the project's own scripts must install there.
#
#   scripts/fresh-root.sh SUITE [DIR]     SUITE: bookworm (Debian 12), trixie (Debian 13), ...
#
# DIR (default build/fresh-root/SUITE) keeps the untouched root (DIR/base, made once) and
# the run's copy (DIR/run, made anew each time), and the log (DIR/run.log).
# Kafka's jars come from this machine's cache (KAFKA_JARS_CACHE), bound into the root: Maven
# inside such a root cannot reach Maven Central on every machine (it lacks the host's TLS
# set-up). Everything else comes from Debian's packages, through the root's own apt-get.
# Needs root (debootstrap, and bwrap binding /dev), debootstrap and bubblewrap: it installs
# the last two with apt-get when they are missing. Prints the time, tests and skips.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'fresh-root: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

suite=${1:-}
[ -n "$suite" ] || { echo "usage: scripts/fresh-root.sh SUITE [DIR]   (SUITE: bookworm, trixie, ...)" >&2; exit 2; }
[[ $suite =~ ^[a-z]+$ ]] || die "SUITE is a Debian code name (bookworm, trixie), not '$suite'"
dir=${2:-$ROOT/build/fresh-root/$suite}
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap makes device files; bwrap binds /dev)"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
jars=${KAFKA_JARS_CACHE:-$HOME/.cache/kafka-commit-workbook}

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v bwrap >/dev/null || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The jars are fetched once on this machine (a broker start does it).
if ! ls "$jars"/kafka-*/libs/kafka_2.13-*.jar >/dev/null 2>&1; then
    say "no Kafka jars cached in $jars yet: fetching them with a broker start here"
    (cd "$ROOT" && make -s build/tools/ping && scripts/broker.sh up && scripts/broker.sh down) >&2
fi

mkdir -p "$dir"
if [ ! -f "$dir/base/.complete" ]; then
    say "making a $suite root with debootstrap from $mirror (once; kept in $dir/base)"
    rm -rf "$dir/base"
    t=$SECONDS
    debootstrap --variant=minbase --include=ca-certificates,git "$suite" "$dir/base" "$mirror" \
        >"$dir/debootstrap.log" 2>&1 || { tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
    touch "$dir/base/.complete"
    say "root made in $((SECONDS - t)) s"
fi

# Each run starts from the untouched root: nothing a previous run installed stays.
say "copying the root for this run"
rm -rf "$dir/run"
cp -a "$dir/base" "$dir/run"
cp /etc/resolv.conf "$dir/run/etc/resolv.conf"
mkdir -p "$dir/run/root/.cache/kafka-commit-workbook" "$dir/run/work"
git clone -q "$ROOT" "$dir/run/work/workbook"

# The root shares this machine's network (apt-get needs it), so its broker takes ports of
# its own: a broker already on 9092 here must neither be used nor be in the way.
port=
for _ in $(seq 50); do
    p=$((24000 + RANDOM % 2000 * 2))
    if ! ss -ltn | awk '{print $4}' | grep -qE ":($p|$((p + 1)))\$"; then port=$p; break; fi
done
[ -n "$port" ] || die "found no free pair of ports for the root's broker"
say "running .ci/run inside it, its broker on port $port (log: $dir/run.log)"
t=$SECONDS
status=0
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
    KAFKA_PORT="$port" \
    bwrap --bind "$dir/run" / --proc /proc --dev /dev --perms 1777 --tmpfs /tmp --tmpfs /run \
        --bind "$jars" /root/.cache/kafka-commit-workbook \
        --chdir /work/workbook --die-with-parent \
        bash .ci/run >"$dir/run.log" 2>&1 </dev/null || status=$?
secs=$((SECONDS - t))
tests=$(grep -cE '^(ok|not ok) ' "$dir/run.log" || true)
failed=$(grep -cE '^not ok ' "$dir/run.log" || true)
skipped=$(grep -cE '^ok .* # skip' "$dir/run.log" || true)
printf '%s: .ci/run %s in %d s; %s tests, %s failed, %s skipped (log: %s)\n' \
    "$suite" "$([ $status = 0 ] && echo passed || echo "FAILED (exit $status)")" "$secs" \
    "$tests" "$failed" "$skipped" "$dir/run.log"
grep -E '^not ok |^ok .* # skip' "$dir/run.log" | head -n 40 || true
exit $status
