#!/usr/bin/env bash
# `make hint STEP=NN`: the next hint for a step, one more each time you ask.
#
# The hints are in steps/NN_name/HINTS.md, each under a "## Hint N" heading: questions
# first, then the ideas and settings by name, the exact librdkafka calls last. How many
# you have seen is kept in build/hints/NN; --reset (make hint STEP=NN RESET=1) starts
# again from the first hint.
#
# Usage: scripts/hint.sh STEP [--reset | --seen]    STEP: 01, 1 or 01_auto_commit
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

usage() {
    cat <<'EOF'
usage: scripts/hint.sh STEP [--reset | --seen]    (make hint STEP=NN [RESET=1])

Shows the next hint for STEP (01, 1 or 01_auto_commit), one more each time.
  --reset     start again: show hint 1
  --seen      show again the hints you have seen, without a new one
  -h, --help  this text
EOF
}
bad_usage() { echo "hint: $1" >&2; usage >&2; exit 2; }


want= mode=next
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --reset) mode=reset ;;
        --seen) mode=seen ;;
        -*) bad_usage "unknown option '$1'" ;;
        *) [ -z "$want" ] || bad_usage "one step at a time"; want=$1 ;;
    esac
    shift
done
[ -n "$want" ] || bad_usage "which step? For example: make hint STEP=01"
resolve_step hint "$want"
nn=${STEP_DIR%%_*}

hints_file=steps/$STEP_DIR/HINTS.md
[ -f "$hints_file" ] || { echo "hint: $hints_file is missing: this step has no hints" >&2; exit 1; }
total=$(grep -c -E '^## Hint [0-9]+' "$hints_file" || true)
[ "$total" -gt 0 ] || { echo "hint: $hints_file has no '## Hint N' sections" >&2; exit 1; }

state=build/hints/$nn
seen=0
[ -f "$state" ] && seen=$(cat "$state")
[[ $seen =~ ^[0-9]+$ ]] || seen=0
[ "$mode" = reset ] && seen=0

# Hint N's text, without the blank lines around it; code blocks lose their ``` fences
# and are indented instead, which reads better in a terminal.
hint_text() {
    awk -v want="$1" '
        /^## Hint [0-9]+/ { n++; next }
        n != want { next }
        /^```/ { code = !code; next }
        /^[ \t]*$/ { if (started) blanks++; next }
        { for (; blanks > 0; blanks--) print ""
          print (code ? "    " $0 : $0); started = 1 }' "$hints_file"
}
show() { # N
    printf 'Hint %d of %d for step %s\n\n' "$1" "$total" "$STEP_DIR"
    hint_text "$1"
    echo
}
again="Start again: \`make hint STEP=$nn RESET=1\`."
answer="Compare your file with the reference: \`make diff STEP=$nn\`, or read solutions/$STEP_DIR/."

if [ "$mode" = seen ]; then
    [ "$seen" -gt 0 ] || { echo "No hint seen yet for step $STEP_DIR: \`make hint STEP=$nn\` shows the first."; exit 0; }
    for ((i = 1; i <= seen && i <= total; i++)); do show "$i"; done
    exit 0
fi

if [ "$seen" -ge "$total" ]; then
    echo "No more hints for step $STEP_DIR: you have seen all $total."
    echo "$answer"
    echo "$again"
    exit 0
fi

n=$((seen + 1))
mkdir -p build/hints
echo "$n" >"$state"
[ "$mode" = reset ] && printf 'Starting again from the first hint.\n\n'
show "$n"
if [ "$n" -lt "$total" ]; then
    echo "More: \`make hint STEP=$nn\` (hint $((n + 1)) of $total). $again"
else
    echo "That was the last hint. $answer"
    echo "$again"
fi
