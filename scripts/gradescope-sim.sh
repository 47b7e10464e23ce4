#!/usr/bin/env bash
# scripts/gradescope-sim.sh CLASS_DIR: run_autograder as Gradescope runs it, on a class, in
# a fresh Ubuntu root laid out like Gradescope's image (/autograder/source from
# autograder.zip, setup.sh run once in it, then per submission /autograder/submission,
# /autograder/submission_metadata.json and /autograder/results), each submission in a
# throwaway copy of the image (bubblewrap).
# Then `make grade` on the same class here, and the two sets of verdicts side by side.
#
# CLASS_DIR: one folder per student (its name the student's). Needs root, debootstrap and
# bubblewrap. The image's network is this machine's: the broker of
# each run_autograder listens on KAFKA_PORT (default 9092), which must be free (no broker
# of this workbook's up there); `make grade` then starts one there and leaves it up.
# SUITE (default noble: Ubuntu 24.04; jammy, Gradescope's default, builds librdkafka 2.0.2
# and installs bats 1.11, from GitHub or, where GitHub cannot be reached, from their other
# pinned sources: Debian's archive and the npm registry). SETUP_DOWNLOADS=DIR and
# LIBRDKAFKA_SRC=DIR (setup.sh's) are bound into the root read-only and passed on.
# Kept in build/gradescope-sim/: base-SUITE/ (debootstrap, once per suite), image/ (after
# setup.sh; made again when autograder.zip or SUITE changed), out/STUDENT/results.json,
# out/times.tsv (each run_autograder's time and memory peak), out/make-grade/, logs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'gradescope-sim: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
class=${1:-}
[ -d "$class" ] || { echo "usage: scripts/gradescope-sim.sh CLASS_DIR" >&2; exit 2; }
class=$(cd "$class" && pwd)
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap; bwrap binding /dev)"
suite=${SUITE:-noble} mirror=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
port=${KAFKA_PORT:-9092}
jars=${KAFKA_JARS_CACHE:-$HOME/.cache/kafka-commit-workbook}
dir=$ROOT/build/gradescope-sim
zip=$ROOT/build/gradescope/autograder.zip
mkdir -p "$dir"
[ -f "$zip" ] || (cd "$ROOT" && make -s gradescope >&2)
ls "$jars"/kafka-*/libs/kafka_2.13-*.jar >/dev/null 2>&1 || die "no Kafka jars in $jars (make broker-up once)"

# One root per suite (base-noble, base-jammy), so that switching SUITE never reuses another's.
base=$dir/base-$suite
if [ ! -f "$base/.complete" ]; then
    say "making an Ubuntu $suite root with debootstrap (once)"
    rm -rf "$base"
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$base" "$mirror" /usr/share/debootstrap/scripts/gutsy \
        >"$dir/debootstrap-$suite.log" 2>&1 || { tail -n 20 "$dir/debootstrap-$suite.log" >&2; die "debootstrap failed"; }
    touch "$base/.complete"
fi
# Runs CMD as root inside ROOT_DIR (the network and the jars cache this machine's).
inside() { # ROOT_DIR CMD...
    local r=$1; shift
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
        KAFKA_PORT="$port" "${SIM_ENV[@]}" \
        bwrap --bind "$r" / --proc /proc --dev /dev --perms 1777 --tmpfs /tmp --tmpfs /run \
            --bind "$jars" /opt/kafka-commit-workbook/jars "${SIM_BIND[@]}" --chdir /autograder --die-with-parent "$@"
}
SIM_ENV=() SIM_BIND=()
zip_hash="$suite $(sha256sum "$zip" | cut -c1-16)"
if [ "$(cat "$dir/image/.zip" 2>/dev/null)" != "$zip_hash" ]; then
    say "the image: the root, autograder.zip in /autograder/source, then setup.sh (log: $dir/setup.log)"
    rm -rf "$dir/image"
    cp -a "$base" "$dir/image"
    cp /etc/resolv.conf "$dir/image/etc/resolv.conf"
    # As in Ubuntu's own images (Gradescope's base): main and universe, and the updates.
    rm -f "$dir/image/etc/apt/sources.list.d/ubuntu.sources"
    printf 'deb %s %s main universe\ndeb %s %s-updates main universe\n' "$mirror" "$suite" "$mirror" "$suite" >"$dir/image/etc/apt/sources.list"
    mkdir -p "$dir/image/autograder/source" "$dir/image/autograder/results" "$dir/image/opt/kafka-commit-workbook/jars"
    (cd "$dir/image/autograder/source" && unzip -q "$zip")
    cp "$dir/image/autograder/source/run_autograder" "$dir/image/autograder/run_autograder"
    t=$SECONDS
    # This machine's SETUP_DOWNLOADS and LIBRDKAFKA_SRC, bound read-only into the root.
    if [ -n "${SETUP_DOWNLOADS:-}" ]; then
        SIM_ENV+=(SETUP_DOWNLOADS=/opt/setup-downloads) SIM_BIND+=(--ro-bind "$(cd "$SETUP_DOWNLOADS" && pwd)" /opt/setup-downloads)
    fi
    # The image's network is this machine's, and so is its trust in HTTPS: where this
    # machine's network re-signs HTTPS (a proxy with a CA of its own), setup.sh's downloads
    # need this machine's CA bundle (SIM_CA_BUNDLE, default CURL_CA_BUNDLE or SSL_CERT_FILE).
    ca=${SIM_CA_BUNDLE:-${CURL_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
    if [ -n "$ca" ] && [ -f "$ca" ]; then
        SIM_ENV+=(CURL_CA_BUNDLE=/opt/host-ca.crt) SIM_BIND+=(--ro-bind "$ca" /opt/host-ca.crt)
    fi
    if [ -n "${LIBRDKAFKA_SRC:-}" ]; then
        SIM_ENV+=(LIBRDKAFKA_SRC=/opt/librdkafka-src) SIM_BIND+=(--ro-bind "$(cd "$LIBRDKAFKA_SRC" && pwd)" /opt/librdkafka-src)
    fi
    inside "$dir/image" bash -c 'cd /autograder/source && apt-get update -qq && bash ./setup.sh' >"$dir/setup.log" 2>&1 ||
        { tail -n 30 "$dir/setup.log" >&2; die "setup.sh failed (log: $dir/setup.log)"; }
    say "setup.sh took $((SECONDS - t)) s"
    echo "$zip_hash" >"$dir/image/.zip"
fi

# The resident memory of PID and every process under it, summed, sampled every 0.5 s until
# PID ends: "PEAK_MIB JAVA_MIB REST_MIB": the peak, the JVMs' share (the broker) in that
# sample, and the peak of all but the JVMs (the grader, bats, the programs) on its own.
peak_rss() { # PID
    local pid=$1 peak=0 java=0 rest=0 now st
    while st=$(ps -o stat= -p "$pid") && [ "${st:0:1}" != Z ]; do   # (not reaped yet: a zombie)
        now=$(ps -e -o pid=,ppid=,rss=,comm= | awk -v root="$pid" '
            { up[$1] = $2; rss[$1] = $3; cmd[$1] = $4 }
            END { for (p in up) { q = p; while (q != "" && q != 0 && q != root) q = up[q]
                      if (q == root) { t += rss[p]; if (cmd[p] == "java") j += rss[p] } }
                  print t + 0, j + 0 }')
        [ "${now% *}" -le "$peak" ] || { peak=${now% *}; java=${now#* }; }
        [ $((${now% *} - ${now#* })) -le "$rest" ] || rest=$((${now% *} - ${now#* }))
        sleep 0.5
    done
    echo "$((peak / 1024)) $((java / 1024)) $((rest / 1024))"
}

# Each submission in a throwaway copy of the image.
rm -rf "$dir/out" && mkdir -p "$dir/out"
printf 'student\ttime_s\tpeak_mib\tbroker_mib\trest_peak_mib\tscore\tsteps\n' >"$dir/out/times.tsv"
for sub in "$class"/*/; do
    name=$(basename "$sub")
    mkdir -p "$dir/out/$name"
    printf '{"users": [{"name": "%s", "email": "student@example.com"}]}\n' "$name" >"$dir/out/$name/metadata.json"
    rm -rf "$dir/run" && cp -a "$dir/image" "$dir/run"
    t=$SECONDS
    status=0
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb KAFKA_PORT="$port" \
        bwrap --bind "$dir/run" / --proc /proc --dev /dev --perms 1777 --tmpfs /tmp --tmpfs /run \
            --bind "$jars" /opt/kafka-commit-workbook/jars \
            --ro-bind "$sub" /autograder/submission --ro-bind "$dir/out/$name/metadata.json" /autograder/submission_metadata.json \
            --bind "$dir/out/$name" /autograder/results --chdir /autograder --die-with-parent \
            /autograder/run_autograder >"$dir/out/$name/stdout" 2>&1 </dev/null &
    pid=$!
    mem=$(peak_rss "$pid")
    wait "$pid" || status=$?
    secs=$((SECONDS - t))
    [ -f "$dir/out/$name/results.json" ] || die "$name: run_autograder (exit $status) wrote no results.json: $(tail -n 5 "$dir/out/$name/stdout")"
    python3 - "$dir/out/$name/results.json" "$name" "$secs" $mem >>"$dir/out/times.tsv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
steps = [t for t in r["tests"] if "max_score" in t]
print("%s\t%s\t%s\t%s\t%s\t%s\t%s" % (sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], r["score"],
                               " ".join("%s=%s" % (t["name"][:2], t["status"]) for t in steps)))
PY
    say "$name: $(tail -n 1 "$dir/out/times.tsv" | cut -f2-)"
done
rm -rf "$dir/run"

# make grade on the same class, here, and the verdicts side by side.
say "make grade on the same class (bubblewrap sandbox, this machine)"
(cd "$ROOT" && KAFKA_PORT=$port scripts/grade.sh -o "$dir/out/make-grade" "$class" >"$dir/make-grade.log" 2>&1) ||
    { tail -n 5 "$dir/make-grade.log" >&2; die "make grade failed"; }
python3 - "$dir/out" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
grade = {}
with open(os.path.join(out, "make-grade", "grades.csv"), newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        grade[(row["student"], row["step"])] = row["result"]
same = diff = 0
for name in sorted(os.listdir(out)):
    p = os.path.join(out, name, "results.json")
    if not os.path.isfile(p):
        continue
    r = json.load(open(p, encoding="utf-8"))
    for t in r["tests"]:
        if "max_score" not in t:
            continue
        g = grade.get((name, t["name"]), "?")
        ok = (t["status"] == "passed") == (g == "pass")
        same += ok; diff += not ok
        if not ok:
            print("DIFFERS: %s %s: run_autograder %s, make grade %s" % (name, t["name"], t["status"], g))
print("verdicts: %d equal, %d differ" % (same, diff))
sys.exit(1 if diff else 0)
PY
python3 "$ROOT/checks/foundation/fixtures/gradescope_fields.py" "$dir"/out/*/results.json
column -t -s $'\t' "$dir/out/times.tsv"
