#!/usr/bin/env bash
# Runs the step checks: scripts/check.sh steps|solutions [NN ...]
#   steps      your code in steps/ (what `make check` runs)
#   solutions  the reference solutions (what `make check-solutions` runs)
# Each step is built first; a step that does not compile fails with the compiler's message
# and the other steps are still checked. Starts the broker when it is not up.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
target=${1:-steps}; shift || true
case "$target" in steps|solutions) ;; *) echo "usage: scripts/check.sh steps|solutions [NN ...]" >&2; exit 2 ;; esac

selected=()
if [ $# -eq 0 ] || [ -z "${1:-}" ]; then
    selected=($(workbook_steps))
else
    for want in "$@"; do
        resolve_step check "$want"
        selected+=("$STEP_DIR")
    done
fi

make -s tools || exit 1
# Any broker that answers will do (a copy of the workbook shares the one already running).
build/tools/ping -b "127.0.0.1:${KAFKA_PORT:-9092}" -t 2000 >/dev/null 2>&1 || scripts/broker.sh up >/dev/null || exit 1
# Ctrl+C: stop here, with every program a check started (tests run side by side, each
# program under its own `timeout`), and record nothing for a check that was cut short.
export WORKBOOK_RUN="check-$$-$RANDOM"
trap 'echo; echo "check: interrupted"; kill_tree $$; kill_marked "$WORKBOOK_RUN"; exit 130' INT TERM

# Each step's result is kept in build/results/TARGET/STEP.result (the TAP report in
# STEP/report.tap, a compiler's message in STEP.log), with a hash
# of the sources it was judged on: `make status` reads them instead of rerunning checks.
results=build/results/$target
mkdir -p "$results"
# The first reason a check gave: the first comment line after a "not ok" that is not
# bats' own location line or the failed command.
first_reason() {
    awk '/^not ok/ { on = 1; next }
         on && /^# / && !/^# \(/ && !/^#   [`(]/ && !/^#  (from|in) / && !/: line [0-9]+: / { sub(/^# +/, ""); print; exit }' "$1"
}
record() { # STEP STATUS REASON   (hash: the sources as they were when the check began)
    printf 'status=%s\nsource=%s\nreason=%s\nat=%s\n' "$2" "$hash" "$3" "$(date '+%Y-%m-%d %H:%M:%S')" \
        >"$results/$1.result"
}

# A step's tests run side by side (each has its own topic and group, and mostly waits on
# the broker or on simulated work): bats --jobs, which needs GNU parallel. CHECK_JOBS=1
# runs them one after the other.
jobs_for() { # STEP -> the bats options for its tests
    local n
    n=$(grep -c '^@test ' "checks/$1.bats")
    [ "${CHECK_JOBS:-$n}" -lt "$n" ] && n=$CHECK_JOBS
    if [ "$n" -gt 1 ] && command -v parallel >/dev/null 2>&1; then echo "--jobs $n"; fi
}

failed=()
for step in "${selected[@]}"; do
    n_tests=$(grep -c '^@test ' "checks/$step.bats")
    jobs=$(jobs_for "$step")
    echo "== $step ($target/$step): $n_tests tests${jobs:+, side by side}"
    # Their names as they start (side by side, they all start now); each ends below.
    [ -z "$jobs" ] || sed -n 's/^@test "\(.*\)" {$/  ..    \1/p' "checks/$step.bats"
    hash=$(source_hash "$target" "$step")
    if ! make -s "build/$target/$step" 2>"$results/$step.log"; then
        cat "$results/$step.log" >&2
        echo "not ok: $target/$step does not compile (the compiler's message is above)"
        record "$step" compile-error "$(grep -m1 'error' "$results/$step.log" || echo 'does not compile')"
        failed+=("$step"); continue
    fi
    rm -rf "${results:?}/$step" && mkdir -p "$results/$step"
    # On screen: each test as it ends, its reason, its timeline (scripts/bats-report); in
    # build/results: the full TAP record and the same results as JSON.
    # In the background, and waited for: a Ctrl+C then reaches the trap above at once.
    WORKBOOK_TARGET=$target WORKBOOK_JSON=$results/$step.json WORKBOOK_FULL_RECORD=$results/$step/report.tap \
        bats ${BATS_FLAGS:-} $jobs --timing --formatter "$ROOT/scripts/bats-report" \
            --report-formatter tap -o "$results/$step" "checks/$step.bats" &
    rc=0
    wait $! || rc=$?
    if [ "$rc" -eq 0 ]; then
        record "$step" pass ""
    else
        record "$step" fail "$(first_reason "$results/$step/report.tap")"
        failed+=("$step")
    fi
done

echo
if [ ${#failed[@]} -eq 0 ]; then
    echo "All checks passed: ${selected[*]}"
else
    echo "Failing: ${failed[*]}"
    [ "$target" = steps ] && echo "Read the first failure above; each step's README.md explains the idea, and solutions/ has the answer once you have tried."
    exit 1
fi
