#!/usr/bin/env bash
# `make diff STEP=NN`: your step file against the reference solution, as a unified diff.
#
# Lines starting with "-" are only in your file, lines starting with "+" only in the
# solution, which marks each of its changes with a "SOLUTION (TODO n)" comment. Colored
# on a terminal (NO_COLOR=1 turns that off). The note above the diff goes to stderr, so
# `make diff STEP=02 >mine.patch` saves just the diff.
# Exits 0 whether or not the files differ, 2 on errors.
#
# Usage: scripts/diff.sh STEP    STEP: 01, 1 or 01_auto_commit
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

usage() {
    cat <<'EOF'
usage: scripts/diff.sh STEP    (make diff STEP=NN)

Shows your steps/STEP/*.c against solutions/STEP/*.c as a unified diff
(STEP: 01, 1 or 01_auto_commit).
  -h, --help  this text
EOF
}
bad_usage() { echo "diff: $1" >&2; usage >&2; exit 2; }


want=
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -*) bad_usage "unknown option '$1'" ;;
        *) [ -z "$want" ] || bad_usage "one step at a time"; want=$1 ;;
    esac
    shift
done
[ -n "$want" ] || bad_usage "which step? For example: make diff STEP=02"
resolve_step diff "$want"
[ -d "solutions/$STEP_DIR" ] || { echo "diff: there is no solutions/$STEP_DIR/ to compare with" >&2; exit 2; }

# GNU diff colors its output itself; others (BSD diff) print it plain.
color=()
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && diff --color=never /dev/null /dev/null >/dev/null 2>&1; then
    color=(--color=always)
fi

# Every .c file of the step, in your folder or in the solution's.
files=$( (cd "steps/$STEP_DIR" && ls -- *.c 2>/dev/null; cd "$ROOT/solutions/$STEP_DIR" && ls -- *.c 2>/dev/null) | sort -u) || true
[ -n "$files" ] || { echo "diff: no .c files in steps/$STEP_DIR/ or solutions/$STEP_DIR/" >&2; exit 2; }

printf '%s\n' "Lines with - are only in your file, lines with + only in the reference solution;" \
    "the solution marks each of its changes with a \`SOLUTION (TODO n)\` comment." >&2
for f in $files; do
    mine=steps/$STEP_DIR/$f sol=solutions/$STEP_DIR/$f
    [ -f "$mine" ] || mine=/dev/null
    [ -f "$sol" ] || sol=/dev/null
    rc=0
    diff -u ${color[@]+"${color[@]}"} --label "your steps/$STEP_DIR/$f" --label "solution solutions/$STEP_DIR/$f" \
        "$mine" "$sol" || rc=$?
    case "$rc" in
        0) echo "Your steps/$STEP_DIR/$f is the same as the solution." ;;
        1) ;;   # they differ: that is what the diff shows
        *) echo "diff: could not compare $mine with $sol" >&2; exit 2 ;;
    esac
done
exit 0
