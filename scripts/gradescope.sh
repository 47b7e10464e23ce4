#!/usr/bin/env bash
# `make gradescope`: build/gradescope/autograder.zip, the autograder to upload to
# Gradescope ("Zip file upload"). At its root: setup.sh and run_autograder
# (scripts/gradescope/), gradescope.env (the settings below), and the workbook's files
# (checks, solutions, tools, scripts, Makefile, steps), which Gradescope puts in
# /autograder/source. The settings the instructor must raise: README.md, "Gradescope".
#
# Settings (make variables or the environment), written into gradescope.env:
#   GRADE_STEPS=02,03     only these steps (default: every step)
#   WEIGHTS=FILE          step weights, lines "NN WEIGHT" (default 1 each)
#   RUN_TIMEOUT=25        seconds for each run of a student's program inside a check
#   VISIBILITY=visible    the tests' visibility (visible, hidden, after_due_date, after_published)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
out=build/gradescope
stage=$out/stage
command -v zip >/dev/null || { echo "gradescope: needs zip (make deps)" >&2; exit 1; }
case "${VISIBILITY:-visible}" in visible|hidden|after_due_date|after_published) ;;
    *) echo "gradescope: VISIBILITY is visible, hidden, after_due_date or after_published" >&2; exit 2 ;; esac
[ -z "${WEIGHTS:-}" ] || [ -f "$WEIGHTS" ] || { echo "gradescope: no weights file $WEIGHTS" >&2; exit 2; }
[[ "${RUN_TIMEOUT:-25}" =~ ^[1-9][0-9]*$ ]] || { echo "gradescope: RUN_TIMEOUT is a number of seconds" >&2; exit 2; }
if [ -n "${GRADE_STEPS:-}" ]; then
    . scripts/lib.sh
    for s in ${GRADE_STEPS//,/ }; do resolve_step gradescope "$s" >/dev/null; done
fi

rm -rf "$stage" && mkdir -p "$stage"
# The workbook's own files: what git tracks (no build/, no .broker/, no grades).
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | grep -zv '^\.' | xargs -0 cp --parents -t "$stage" 2>/dev/null || true
else
    find . -path ./build -prune -o -path './.*' -prune -o -type f -print0 | xargs -0 cp --parents -t "$stage"
fi
cp scripts/gradescope/setup.sh scripts/gradescope/run_autograder "$stage/"
chmod 755 "$stage/setup.sh" "$stage/run_autograder"
{
    echo "# Written by make gradescope on $(date '+%Y-%m-%d %H:%M'): read by run_autograder."
    printf 'GRADE_STEPS=%q\n' "${GRADE_STEPS:-}"
    printf 'RUN_TIMEOUT=%q\n' "${RUN_TIMEOUT:-25}"
    printf 'GRADESCOPE_VISIBILITY=%q\n' "${VISIBILITY:-visible}"
    if [ -n "${WEIGHTS:-}" ]; then cp "$WEIGHTS" "$stage/gradescope-weights"; echo "GRADE_WEIGHTS=gradescope-weights"; fi
} >"$stage/gradescope.env"
rm -f "$out/autograder.zip"
(cd "$stage" && zip -qr -X ../autograder.zip .)
echo "gradescope: $out/autograder.zip ($(du -k "$out/autograder.zip" | cut -f1) KiB, $(zipinfo -1 "$out/autograder.zip" | grep -vc '/$') files)"
echo "gradescope: upload it as the assignment's autograder (Ubuntu 22.04 image); then raise its memory,"
echo "gradescope: CPUs and timeout as README.md says (section \"Grading on Gradescope\")."
