#!/usr/bin/env bash
# `make status`: where you are in the workbook. One line per step, then the next step to do:
#
#   01_auto_commit    done            its check passed on the file as it is now
#   02_manual_commit  failing: ...    its check failed: the first reason it gave
#   03_batch_commit   not started     the file is still the starter as shipped
#
# A verdict comes from the last `make check` of the step (build/results/steps/STEP.result),
# as long as nothing it was judged on has changed since. Otherwise the step's check runs
# now, its output hidden (about 20 s a step); --no-run reports without running anything.
#
# "Not started" does not need git: steps/.starters.sha256 lists the sha256 of every starter
# file as shipped, and a step is not started while its .c files are exactly those.
# Maintainers: after editing a starter, refresh that list with --refresh-manifest.
#
# Usage: scripts/status.sh [--no-run] [--next] [--refresh-manifest] [-h]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

MANIFEST=steps/.starters.sha256
RESULTS=build/results/steps

usage() {
    cat <<'EOF'
usage: scripts/status.sh [--no-run] [--next] [--refresh-manifest]   (make status)

One line per step: done, failing (and the first reason), or not started; then the next
step to do. A step changed since its last `make check` is checked now (about 20 s).

  --no-run            never run a check: report what the last checks recorded
  --next              print only the name of the next step to do (nothing when all are
                      done); implies --no-run
  --refresh-manifest  maintainers: record the starters in steps/ as shipped, in
                      steps/.starters.sha256 (run it on untouched starters only)
  -h, --help          this text
EOF
}
bad_usage() { echo "status: $1" >&2; usage >&2; exit 2; }

run_checks=1
only_next=0
refresh=0
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --no-run) run_checks=0 ;;
        --next) only_next=1; run_checks=0 ;;
        --refresh-manifest) refresh=1 ;;
        *) bad_usage "unknown option '$1'" ;;
    esac
    shift
done

steps=$(workbook_steps)
[ -n "$steps" ] || { echo "status: no steps/NN_name/ folders in $ROOT" >&2; exit 1; }

# ------------------------------------------------------------------ "not started"

# A file's sha256, carriage returns left out (the same starter checked out on Windows).
file_sha() { tr -d '\r' <"$1" | sha256sum | cut -d' ' -f1; }

# The manifest's lines for the files steps/STEP/*.c as they are now: "sha256  path".
starter_lines() {
    local f
    for f in "steps/$1"/*.c; do
        [ -e "$f" ] && printf '%s  %s\n' "$(file_sha "$f")" "$f"
    done
    return 0
}

if [ "$refresh" = 1 ]; then
    # A solved file is no starter: refuse rather than record it as one.
    for f in steps/*/*.c; do
        if ! grep -q 'TODO' "$f" || grep -q 'SOLUTION (TODO' "$f"; then
            echo "status: $f does not look like a starter (no TODO left, or a SOLUTION mark): not refreshing $MANIFEST" >&2
            exit 1
        fi
    done
    {
        echo "# The starters as shipped: sha256 of each file (carriage returns removed). \`make status\`"
        echo "# calls a step \"not started\" while its .c files are exactly these. After editing a"
        echo "# starter, refresh this file: scripts/status.sh --refresh-manifest"
        for step in $steps; do starter_lines "$step"; done
    } >"$MANIFEST"
    echo "status: wrote $MANIFEST ($(grep -vc '^#' "$MANIFEST") starter files)"
    exit 0
fi

have_manifest=1
if [ ! -f "$MANIFEST" ]; then
    have_manifest=0
    [ "$only_next" = 1 ] || echo "status: $MANIFEST is missing, so untouched starters cannot be told apart (scripts/status.sh --refresh-manifest rebuilds it)" >&2
fi

# True while steps/STEP/ holds exactly the starter files the manifest lists, unchanged.
untouched() {
    local listed
    [ "$have_manifest" = 1 ] || return 1
    listed=$(awk -v dir="steps/$1/" '!/^#/ && index($2, dir) == 1' "$MANIFEST")
    [ -n "$listed" ] && [ "$listed" = "$(starter_lines "$1")" ]
}

# ------------------------------------------------------------------ check results

field() { sed -n "s/^$2=//p" "$1" | head -n1; }   # FILE KEY

# True when the step's recorded result was judged on the sources as they are now.
current_result() {
    [ -f "$RESULTS/$1.result" ] && [ "$(field "$RESULTS/$1.result" source)" = "$(source_hash steps "$1")" ]
}

# Run the step's check now, its output hidden; a progress line on stderr meanwhile.
check_now() {
    local step=$1 log
    log=$(mktemp)
    if [ -t 2 ]; then printf 'checking %s… (a check takes about 20 s)' "$step" >&2
    else printf 'checking %s…\n' "$step" >&2; fi
    scripts/check.sh steps "${step%%_*}" >"$log" 2>&1 </dev/null || true
    [ -t 2 ] && printf '\r\033[K' >&2
    CHECK_LAST_LINE=$(grep . "$log" | tail -n1 || true)
    rm -f "$log"
}

# The verdict on one step: sets STATE (done, failing, not-started, changed, unchecked or
# error) and DETAIL (the reason, for failing and error).
verdict() {
    local step=$1 result=$RESULTS/$1.result
    STATE= DETAIL=
    if untouched "$step"; then STATE=not-started; return; fi
    if ! current_result "$step"; then
        if [ "$run_checks" = 0 ]; then
            if [ -f "$result" ]; then STATE=changed; else STATE=unchecked; fi
            return
        fi
        check_now "$step"
        if ! current_result "$step"; then
            STATE=error DETAIL="its check could not run: ${CHECK_LAST_LINE:-no output}"
            return
        fi
    fi
    case "$(field "$result" status)" in
        pass) STATE=done ;;
        fail) STATE=failing DETAIL=$(field "$result" reason) ;;
        compile-error) STATE=failing DETAIL="does not compile: $(field "$result" reason)" ;;
        *) STATE=error DETAIL="$result says status=$(field "$result" status)" ;;
    esac
}

if [ "$only_next" = 1 ]; then
    for step in $steps; do
        verdict "$step"
        [ "$STATE" = done ] || { echo "$step"; exit 0; }
    done
    exit 0
fi

# ------------------------------------------------------------------ the report

# Lines are cut to the terminal's width, or to 150 characters when not on a terminal.
if [ -t 1 ]; then
    max_line=$(tput cols 2>/dev/null || echo 80)
    [ -z "${NO_COLOR:-}" ] && color=1 || color=0
else
    max_line=150 color=0
fi
paint() { # COLOR_CODE TEXT
    if [ "$color" = 1 ]; then printf '\033[%sm%s\033[0m' "$1" "$2"; else printf '%s' "$2"; fi
}
width=0
for step in $steps; do [ ${#step} -le $width ] || width=${#step}; done
width=$((width + 2))
fit() { # TEXT ROOM: TEXT cut to ROOM characters, with … where it was cut
    set -- "$1" "$(($2 < 20 ? 20 : $2))"
    if [ ${#1} -le "$2" ]; then printf '%s' "$1"; else printf '%s…' "${1:0:$(($2 - 1))}"; fi
}

next= next_state= n_steps=0
for step in $steps; do
    verdict "$step"
    n_steps=$((n_steps + 1))
    case "$STATE" in
        done)        text=$(paint 32 done) ;;
        failing)     text=$(paint 31 "failing: $(fit "${DETAIL:-see make check STEP=${step%%_*}}" $((max_line - width - 9)))") ;;
        not-started) text="not started" ;;
        changed)     text=$(paint 33 "changed since last check") ;;
        unchecked)   text=$(paint 33 "not checked yet") ;;
        error)       text=$(paint 31 "unknown: $(fit "$DETAIL" $((max_line - width - 9)))") ;;
    esac
    printf '%-*s%s\n' "$width" "$step" "$text"
    if [ -z "$next" ] && [ "$STATE" != done ]; then next=$step next_state=$STATE; fi
done

if [ -z "$next" ]; then
    echo "All $n_steps steps are done. Next: \`make compare\` runs the strategies side by side: what each loses, replays and costs."
    exit 0
fi
nn=${next%%_*}
case "$next_state" in
    not-started) what="read steps/$next/README.md; \`make hint STEP=$nn\` for a hint, \`make check STEP=$nn\` to check." ;;
    failing)     what="\`make check STEP=$nn\` shows the whole failure; \`make hint STEP=$nn\` for a hint." ;;
    error)       what="\`make check STEP=$nn\` shows why its check could not run." ;;
    *)           what="\`make check STEP=$nn\` to check it (or \`make status\` without --no-run); \`make hint STEP=$nn\` for a hint." ;;
esac
echo "Next: step $nn — $what"
