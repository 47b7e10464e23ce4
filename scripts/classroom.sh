#!/usr/bin/env bash
# `make classroom`: writes .github/workflows/classroom.yml, the GitHub Classroom autograding
# workflow, for the instructor to copy into the starter repository (this workbook with its
# starters). One job on ubuntu-24.04 (librdkafka 2.3.0 from apt; Java 17 and Maven are on
# the runner): the workbook's deps and the broker (native), then one
# classroom-resources/autograding-command-grader@v1 step per step (`make check STEP=NN`),
# then classroom-resources/autograding-grading-reporter@v1.
# The command grader passes only PATH and HOME (and a few others) to its command, so every
# setting is written on the command line itself: KAFKA_PORT, KAFKA_MODE, RUN_TIMEOUT.
#
# Settings: GRADE_STEPS=02,03 (default: every step), WEIGHTS=FILE (lines "NN POINTS",
# default 1 each), CLASSROOM_PORT (9092), RUN_TIMEOUT (25), CLASSROOM_TIMEOUT (minutes
# per step, 10), OUT (default .github/workflows/classroom.yml).
# `scripts/classroom.sh --commands` prints each step's name and command, tab-separated
# (the tests run them as the action does).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
port=${CLASSROOM_PORT:-9092} run_timeout=${RUN_TIMEOUT:-25} minutes=${CLASSROOM_TIMEOUT:-10}
for v in "$port" "$run_timeout" "$minutes"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "classroom: CLASSROOM_PORT, RUN_TIMEOUT and CLASSROOM_TIMEOUT are numbers" >&2; exit 2; }
done
[ -z "${WEIGHTS:-}" ] || [ -f "$WEIGHTS" ] || { echo "classroom: no weights file $WEIGHTS" >&2; exit 2; }
steps=()
if [ -z "${GRADE_STEPS:-}" ]; then steps=($(workbook_steps))
else for s in ${GRADE_STEPS//,/ }; do resolve_step classroom "$s"; steps+=("$STEP_DIR"); done; fi
points() { # STEP
    local k w
    [ -n "${WEIGHTS:-}" ] && while read -r k w _; do
        [ "${k%%_*}" = "${1%%_*}" ] && [[ "$w" =~ ^[0-9]+$ ]] && { echo "$w"; return; }
    done <"$WEIGHTS"
    echo 1
}
command_of() { # STEP: the command, every setting on its line
    printf 'KAFKA_PORT=%s KAFKA_MODE=native RUN_TIMEOUT=%s make -s check STEP=%s' "$port" "$run_timeout" "${1%%_*}"
}
if [ "${1:-}" = --commands ]; then
    for s in "${steps[@]}"; do printf '%s\t%s\n' "$s" "$(command_of "$s")"; done
    exit 0
fi
out=${OUT:-.github/workflows/classroom.yml}
mkdir -p "$(dirname "$out")"
id_of() { printf 'step%s' "$1" | tr -c 'A-Za-z0-9_\n' '_'; }   # ids start with a letter
{
    echo "# GitHub Classroom autograding, written by \`make classroom\` ($(date '+%Y-%m-%d')) from the workbook's"
    echo "# steps: copy it into the starter repository as .github/workflows/classroom.yml."
    echo "# Each grader gets only PATH and HOME: the settings are on each command line."
    echo "name: Autograding Tests"
    echo "'on': [push, repository_dispatch]"
    echo "permissions:"
    echo "  checks: write"
    echo "  actions: read"
    echo "  contents: read"
    echo "jobs:"
    echo "  run-autograding-tests:"
    echo "    runs-on: ubuntu-24.04"
    echo "    if: github.actor != 'github-classroom[bot]'"
    echo "    steps:"
    echo "    - name: Checkout code"
    echo "      uses: actions/checkout@v4"
    echo "    - name: The workbook's dependencies, the build and the broker"
    echo "      run: |"
    echo "        sudo scripts/install-deps.sh"
    echo "        make -s tools"
    echo "        KAFKA_PORT=$port KAFKA_MODE=native make broker-up"
    for s in "${steps[@]}"; do
        echo "    - name: $s"
        echo "      id: $(id_of "$s")"
        echo "      uses: classroom-resources/autograding-command-grader@v1"
        echo "      with:"
        echo "        test-name: $s"
        echo "        setup-command: ''"
        echo "        command: $(command_of "$s")"
        echo "        timeout: $minutes"
        echo "        max-score: $(points "$s")"
    done
    echo "    - name: Autograding Reporter"
    echo "      uses: classroom-resources/autograding-grading-reporter@v1"
    echo "      env:"
    for s in "${steps[@]}"; do
        echo "        $(id_of "$s" | tr a-z A-Z)_RESULTS: \"\${{steps.$(id_of "$s").outputs.result}}\""
    done
    echo "      with:"
    printf '        runners: %s\n' "$(for s in "${steps[@]}"; do id_of "$s"; echo; done | paste -sd, -)"
} >"$out"
echo "classroom: $out (${#steps[@]} graders): copy it into the starter repository, same path"
