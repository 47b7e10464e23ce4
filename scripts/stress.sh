#!/usr/bin/env bash
# `make stress`: do the checks ever fail honest work on a busy machine?
#
# Starts CPU burners (BURN busy loops per core, default 2; killed on exit, Ctrl+C and
# TERM), then, with the burners running:
#   - ROUNDS rounds (default 20) of `make check-solutions` (every step's check on the
#     reference solutions) and of the correct alternatives (checks/alternatives/*.patch,
#     through selfcheck.bats' "... passes" tests);
#   - the grading suite once: a class of STUDENTS submissions (default 4), each the
#     reference solutions of every step, graded by scripts/grade.sh with JOBS (default 4)
#     at once, in its sandbox. Every step of every submission must pass.
# Everything it runs is honest work, so every failure is a false failure: each is listed
# (round, what, the check's first reason), then a tally and the total time. The logs of
# the failures are kept (their folder is printed). Exit status: 0 when nothing failed,
# 1 otherwise.
#
# Usage: scripts/stress.sh        (ROUNDS=20 BURN=2 STUDENTS=4 JOBS=4 NO_GRADE=1 NO_ALT=1)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

ROUNDS=${ROUNDS:-20} BURN=${BURN:-2} STUDENTS=${STUDENTS:-4} JOBS=${JOBS:-4}
for v in ROUNDS BURN STUDENTS JOBS; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "stress: $v must be a number, not '${!v}'" >&2; exit 2; }
done
export KAFKA_PORT=${KAFKA_PORT:-9092}

say() { printf 'stress: %s\n' "$*"; }
ms_now() { date +%s%3N; }
t_start=$(ms_now)
work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-stress.XXXXXX")
mkdir -p "$work/logs"
: >"$work/failures"

# ---------------------------------------------------------------- the burners
burners=()
start_burners() {
    local i n=$(( BURN * $(nproc) ))
    for ((i = 0; i < n; i++)); do
        ( trap - INT TERM; while :; do :; done ) &
        burners+=($!)
    done
    say "$n CPU burners ($BURN busy loops per core, $(nproc) cores): pids ${burners[*]}"
}
stop_burners() {
    [ ${#burners[@]} -gt 0 ] || return 0
    kill "${burners[@]}" 2>/dev/null
    wait "${burners[@]}" 2>/dev/null
    burners=()
}
finish() {
    stop_burners
    if [ -s "$work/failures" ]; then say "logs of the failures kept in $work/logs"; rm -rf "$work/class" "$work/grades"
    else rm -rf "$work"; fi
}
trap finish EXIT
trap 'echo; say "interrupted"; stop_burners; kill_tree $$; exit 130' INT TERM
# Each long run goes in the background and is waited for: a signal then reaches the trap
# above at once, not only when the run ends. (The output goes to LOG from the run itself,
# not from this function: the trap's own message must reach the screen.)
bg_wait() { local log=$1; shift; "$@" >"$log" 2>&1 3>&- & wait $!; }

# One false failure: WHAT (round N, the check), REASON (its first reason, one line).
false_failure() {
    printf '%s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\n\t' '  ' | cut -c1-300)" >>"$work/failures"
    say "FALSE FAILURE: $1: $2"
}

# ---------------------------------------------------------------- set-up
make -s build || { echo "stress: the build failed" >&2; exit 1; }
build/tools/ping -b "127.0.0.1:$KAFKA_PORT" -t 2000 >/dev/null 2>&1 || scripts/broker.sh up >/dev/null ||
    { echo "stress: no broker, and none could be started" >&2; exit 1; }
alts=$(grep -c '^@test .*passes" ' checks/foundation/selfcheck.bats || true)
[ "${NO_ALT:-0}" = 1 ] && alts=0
start_burners

# ---------------------------------------------------------------- the rounds
n_checks=0 n_alts=0
for ((r = 1; r <= ROUNDS; r++)); do
    t0=$(ms_now)
    rm -rf build/results/solutions
    bg_wait "$work/logs/round$r-check-solutions.log" scripts/check.sh solutions
    for res in build/results/solutions/*.result; do
        [ -e "$res" ] || continue
        step=$(basename "$res" .result)
        n_checks=$((n_checks + 1))
        status=$(sed -n 's/^status=//p' "$res")
        [ "$status" = pass ] && continue
        false_failure "round $r, check-solutions $step" "$status: $(sed -n 's/^reason=//p' "$res")"
        cp -r "build/results/solutions/$step" "$work/logs/round$r-$step" 2>/dev/null
    done
    if [ "$alts" -gt 0 ]; then
        bg_wait "$work/logs/round$r-alternatives.tap" bats --formatter tap $(command -v parallel >/dev/null && echo --jobs 4) --filter 'passes$' checks/foundation/selfcheck.bats
        n_alts=$((n_alts + $(grep -cE '^(ok|not ok) ' "$work/logs/round$r-alternatives.tap" || true)))
        awk '/^not ok/ { if (name != "") print name "\t" reason; name = $0; sub(/^not ok [0-9]+ /, "", name); reason = ""; next }
             /^ok / { if (name != "") print name "\t" reason; name = ""; next }
             name != "" && reason == "" && /^# / && !/^# \(/ && !/^#   [`(]/ && !/: line [0-9]+:/ && !/^#  +(from|in) / { reason = $0; sub(/^# +/, "", reason) }
             END { if (name != "") print name "\t" reason }' "$work/logs/round$r-alternatives.tap" |
        while IFS=$'\t' read -r name reason; do
            false_failure "round $r, $name" "${reason:-see $work/logs/round$r-alternatives.tap}"
        done
    fi
    say "round $r of $ROUNDS: $(( ($(ms_now) - t0) / 1000 )) s; false failures so far: $(grep -c . "$work/failures" || true)"
done

# ---------------------------------------------------------------- the grading suite
n_graded=0
if [ "${NO_GRADE:-0}" != 1 ] && [ "$STUDENTS" -gt 0 ]; then
    steps=($(workbook_steps))
    for ((i = 1; i <= STUDENTS; i++)); do
        for step in "${steps[@]}"; do
            mkdir -p "$work/class/student-$i/steps/$step"
            cp solutions/"$step"/*.[ch] "$work/class/student-$i/steps/$step/"
        done
    done
    t0=$(ms_now)
    say "grading: $STUDENTS submissions of the reference solutions (${#steps[@]} steps each), JOBS=$JOBS"
    rc=0
    bg_wait "$work/logs/grade.log" scripts/grade.sh -j "$JOBS" -o "$work/grades" "$work/class" || rc=$?
    if [ "$rc" -ne 0 ] || [ ! -f "$work/grades/grades.csv" ]; then
        false_failure "grading" "scripts/grade.sh exited $rc: $(tail -n 3 "$work/logs/grade.log")"
    else
        while IFS=$'\t' read -r who step result reason; do
            n_graded=$((n_graded + 1))
            [ "$result" = pass ] || false_failure "grading, $who, $step" "$result: $reason"
        done < <(python3 -c '
import csv, sys
for row in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")):
    print("\t".join(row[k].replace("\t", " ").replace("\n", " ") for k in ("student", "step", "result", "reason")))' \
            "$work/grades/grades.csv")
        [ "$n_graded" -eq $(( STUDENTS * ${#steps[@]} )) ] ||
            false_failure "grading" "grades.csv has $n_graded rows, not $(( STUDENTS * ${#steps[@]} )) ($STUDENTS students x ${#steps[@]} steps)"
        cp "$work/grades/summary.md" "$work/logs/grade-summary.md" 2>/dev/null
    fi
    say "grading: $(( ($(ms_now) - t0) / 1000 )) s"
fi
stop_burners

# ---------------------------------------------------------------- the report
n_false=$(grep -c . "$work/failures" || true)
total=$(( ($(ms_now) - t_start) / 1000 ))
echo
echo "Stress: $ROUNDS round(s) under $(( BURN * $(nproc) )) CPU burners, $(printf '%d min %02d s' $((total / 60)) $((total % 60))) in all"
printf '  %-44s %6s %6s\n' "" runs false
printf '  %-44s %6d %6d\n' "make check-solutions (a step's check)" "$n_checks" "$(grep -c '^round [0-9]*, check-solutions ' "$work/failures" || true)"
printf '  %-44s %6d %6d\n' "alternatives (selfcheck ... passes)" "$n_alts" "$(grep -c '^round [0-9]*, selfcheck' "$work/failures" || true)"
printf '  %-44s %6d %6d\n' "grading, JOBS=$JOBS (a submission's step)" "$n_graded" "$(grep -c '^grading' "$work/failures" || true)"
echo "False failures: $n_false"
[ "$n_false" -eq 0 ] || { sed 's/\t/: /; s/^/  - /' "$work/failures"; exit 1; }
exit 0
