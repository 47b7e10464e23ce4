#!/usr/bin/env bash
# `make watch [STEP=NN]`: rebuild and recheck a step each time you save its .c file.
#
# Without STEP it watches the next step to do: the first one not done by the results of
# the last checks (see `make status`), or the first step once all are done. Each save
# starts a cycle: a timestamped header, then `scripts/check.sh steps NN`, which builds
# first (so compiler errors show) and then runs the check, then a one-line verdict. A save
# during a check starts another cycle as soon as that check ends.
#
# inotifywait (package inotify-tools) wakes it up at once when it is installed. Without
# it, or with --poll or WATCH_POLL=1, it looks at the files' time and size every second.
# Ctrl+C stops it, and the check it is running too: nothing is left running.
#
# Usage: scripts/watch.sh [STEP] [--once | --max-cycles N] [--poll] [--clear]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

usage() {
    cat <<'EOF'
usage: scripts/watch.sh [STEP] [--once | --max-cycles N] [--poll] [--clear]
       (make watch [STEP=NN])

Rebuilds and rechecks STEP (01, 1 or 01_auto_commit; default: the next step to do)
each time one of its .c files is saved. Ctrl+C stops it.
  --once          stop after one check cycle, with the check's exit status
  --max-cycles N  stop after N check cycles, with the last check's exit status
  --poll          look at the files every second instead of using inotifywait
                  (also WATCH_POLL=1; the default when inotifywait is missing)
  --clear         clear the terminal before each cycle
  -h, --help      this text
EOF
}
bad_usage() { echo "watch: $1" >&2; usage >&2; exit 2; }


want= max_cycles=0 clear=0
case "${WATCH_POLL:-0}" in 0|"") poll=0 ;; *) poll=1 ;; esac
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --once) max_cycles=1 ;;
        --max-cycles|--max-cycles=*)
            if [ "$1" = --max-cycles ]; then n=${2:-}; shift || true; else n=${1#*=}; fi
            [[ $n =~ ^[1-9][0-9]*$ ]] || bad_usage "--max-cycles needs a number of cycles, for example --max-cycles 3"
            max_cycles=$n ;;
        --poll) poll=1 ;;
        --clear) clear=1 ;;
        -*) bad_usage "unknown option '$1'" ;;
        "") ;;   # `make watch` without STEP passes an empty one
        *) [ -z "$want" ] || bad_usage "one step at a time"; want=$1 ;;
    esac
    shift
done

if [ -n "$want" ]; then
    resolve_step watch "$want"
else
    STEP_DIR=$(scripts/status.sh --next 2>/dev/null || true)
    [ -n "$STEP_DIR" ] || STEP_DIR=$(workbook_steps | head -n1)
    echo "watch: no STEP given: watching the next step to do, $STEP_DIR (\`make watch STEP=NN\` for another)."
fi
nn=${STEP_DIR%%_*}
result=build/results/steps/$STEP_DIR.result
ls "steps/$STEP_DIR"/*.c >/dev/null 2>&1 || { echo "watch: steps/$STEP_DIR/ has no .c file to watch" >&2; exit 1; }

if [ "$poll" = 0 ] && ! command -v inotifywait >/dev/null 2>&1; then
    poll=1
    echo "watch: inotifywait is not installed (package inotify-tools): polling every second instead" >&2
fi

# ------------------------------------------------------------------ processes

# What runs in the background now: its pid (or empty), and whether it is a check.
job= checking=0 cycle_start= check_signal=TERM

# Every process started under PID, however deep. The check runs make, bats, and the
# step's program under `timeout`, which puts itself in a process group of its own: a
# process group would miss it, the parent links do not.
descendants() {
    ps -e -o pid= -o ppid= | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END {
            todo = root
            while (todo != "") {
                n = split(todo, now, " "); todo = ""
                for (i = 1; i <= n; i++) {
                    m = split(kids[now[i]], k, " ")
                    for (j = 1; j <= m; j++) { print k[j]; todo = todo " " k[j] }
                }
            }
        }'
}

# Those of the given pids that still run (a zombie has finished: it only waits to be
# reaped).
alive() {
    [ $# -gt 0 ] || return 0
    { ps -o pid= -o stat= -p "$(echo "$@" | tr ' ' ,)" 2>/dev/null || true; } | awk '$2 !~ /^Z/ { print $1 }'
}

# Stop the background job and everything it started. A check gets SIGINT, as Ctrl+C on
# `make check` would give it: bats ends its test and cleans up, and the step's program
# finishes the message in hand and leaves its group. The wait for a save gets SIGTERM.
# Whatever still runs 5 s later gets SIGKILL.
stop_job() {
    local pids left p i signal=TERM
    [ -n "$job" ] || return 0
    [ "$checking" = 0 ] || signal=$check_signal
    pids="$job $(descendants "$job")"
    kill -"$signal" $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        left=$(alive $pids)
        [ -n "$left" ] || break
        # Whatever they started meanwhile goes too.
        pids="$left $(for p in $left; do descendants "$p"; done)"
        sleep 0.1
    done
    left=$(alive $pids)
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    wait "$job" 2>/dev/null || true
    job= checking=0
}

result_time() { stat -c '%.9Y' "$result" 2>/dev/null || stat -f '%Fm' "$result" 2>/dev/null || true; }

stopped() {
    trap '' INT TERM HUP   # a second Ctrl+C must not cut the clean-up short
    if [ "$checking" = 1 ]; then
        printf '\nwatch: stopping the check in progress...' >&2
        stop_job
        # An interrupted check still records a verdict ("fail"): that one judged nothing.
        [ "$(result_time)" = "$cycle_start" ] || rm -f "$result"
    fi
    stop_job
    printf '\nwatch: stopped.\n'
    exit 0
}
trap stopped INT TERM HUP
trap stop_job EXIT

# ------------------------------------------------------------------ saves

# One line per .c file of the step: its name, modification time and size. Saving a file
# changes its time even when the text is the same, so a save without edits rechecks too.
snapshot() {
    local f
    for f in "steps/$STEP_DIR"/*.c; do
        [ -e "$f" ] || continue
        stat -c '%n %.9Y %s' "$f" 2>/dev/null || stat -f '%N %Fm %z' "$f" 2>/dev/null || true
    done
}

# Return once the snapshot differs from $last.
wait_for_save() {
    local rc
    while [ "$(snapshot)" = "$last" ]; do
        if [ "$poll" = 1 ]; then
            sleep 1 &
        else
            # Woken by any change in the folder (editors also write swap and backup files
            # there: the snapshot decides). -t 2: a save that lands just before the watch
            # is set up is still seen within 2 s.
            inotifywait -qq -t 2 -e close_write -e moved_to -e create -e delete -e attrib \
                "steps/$STEP_DIR" &
        fi
        job=$!
        rc=0
        wait "$job" || rc=$?
        job=
        if [ "$poll" = 0 ] && [ "$rc" = 1 ]; then
            echo "watch: inotifywait failed: polling every second instead" >&2
            poll=1
        fi
    done
    sleep 0.3   # an editor may write a file in several goes: let it finish
}

# ------------------------------------------------------------------ checks

field() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1; }   # FILE KEY

# One cycle: header, build and check (scripts/check.sh), verdict. Returns the check's status.
run_cycle() { # CHANGED_FILES
    local rc=0
    [ "$clear" = 1 ] && [ -t 1 ] && printf '\033[2J\033[H'
    printf '\n==== %s  %s saved: rebuilding and checking step %s\n' "$(date +%H:%M:%S)" "$1" "$STEP_DIR"
    cycle_start=$(result_time)
    # In the background, so that Ctrl+C reaches this script at once. But bash makes a
    # background job ignore SIGINT: perl gives the check back the usual Ctrl+C, which
    # bats answers by stopping its test and cleaning up.
    if command -v perl >/dev/null 2>&1; then
        perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "watch: cannot run $ARGV[0]: $!\n"' \
            scripts/check.sh steps "$nn" </dev/null &
        check_signal=INT
    else
        scripts/check.sh steps "$nn" </dev/null &
        check_signal=TERM
    fi
    job=$! checking=1
    wait "$job" || rc=$?
    job= checking=0
    if [ "$(result_time)" = "$cycle_start" ]; then
        echo "==== watch: the check of step $nn could not run (exit status $rc): see above."
    else
        case "$(field "$result" status)" in
            pass) echo "==== watch: step $nn passes its check. \`make status\` shows what comes next." ;;
            compile-error) echo "==== watch: step $nn does not compile: $(field "$result" reason)" ;;
            *) echo "==== watch: step $nn fails its check: $(field "$result" reason)" ;;
        esac
    fi
    return "$rc"
}

last=$(snapshot)   # before saying so: a save right after the message counts
if [ "$poll" = 1 ]; then how="polling every second"; else how="inotify"; fi
echo "watch: watching steps/$STEP_DIR/*.c with $how."
echo "watch: each save rebuilds and rechecks step $nn; Ctrl+C stops."
cycles=0
while :; do
    wait_for_save
    now=$(snapshot)
    changed=$( (comm -13 <(echo "$last") <(echo "$now"); comm -23 <(echo "$last") <(echo "$now")) |
        awk '{ sub(/.*\//, "", $1); print $1 }' | sort -u | paste -sd, - | sed 's/,/, /g')
    last=$now
    cycles=$((cycles + 1))
    status=0
    run_cycle "${changed:-a file}" || status=$?
    if [ "$max_cycles" -gt 0 ] && [ "$cycles" -ge "$max_cycles" ]; then
        exit "$status"
    fi
    echo "watch: waiting for the next save of steps/$STEP_DIR/*.c (Ctrl+C stops)."
done
