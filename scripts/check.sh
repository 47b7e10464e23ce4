#!/usr/bin/env bash
# Runs the step checks: scripts/check.sh steps|solutions [NN ...]
#   steps      your code in steps/ (what `make check` runs)
#   solutions  the reference solutions (what `make check-solutions` runs)
# Each step is built first; a step that does not compile fails with the compiler's message
# and the other steps are still checked. Starts the broker when it is not up.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
target=${1:-steps}; shift || true
case "$target" in steps|solutions) ;; *) echo "usage: scripts/check.sh steps|solutions [NN ...]" >&2; exit 2 ;; esac

all=$(cd steps && ls -d [0-9][0-9]_*/ | tr -d /)
selected=()
if [ $# -eq 0 ] || [ -z "${1:-}" ]; then
    selected=($all)
else
    for want in "$@"; do
        match=$(printf '%s\n' $all | grep -E "^${want}(_|$)" || true)
        [ -n "$match" ] || { echo "check: no step '$want'; the steps are: $(echo $all)" >&2; exit 2; }
        selected+=("$match")
    done
fi

make -s tools || exit 1
scripts/broker.sh up >/dev/null || exit 1

failed=()
for step in "${selected[@]}"; do
    echo "== $step ($target/$step)"
    if ! make -s "build/$target/$step" 2>"build/$step.$target.compile.log"; then
        cat "build/$step.$target.compile.log" >&2
        echo "not ok: $target/$step does not compile (the compiler's message is above)"
        failed+=("$step"); continue
    fi
    WORKBOOK_TARGET=$target bats ${BATS_FLAGS:-} "checks/$step.bats" || failed+=("$step")
done

echo
if [ ${#failed[@]} -eq 0 ]; then
    echo "All checks passed: ${selected[*]}"
else
    echo "Failing: ${failed[*]}"
    [ "$target" = steps ] && echo "Read the first failure above; each step's README.md explains the idea, and solutions/ has the answer once you have tried."
    exit 1
fi
