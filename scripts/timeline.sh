#!/usr/bin/env bash
# `make timeline STEP=NN`: run a step with a crash, then a rerun, and draw what the broker
# recorded (build/tools/timeline): one lane per partition in the terminal, and the same
# picture as an SVG to open in a browser.
#
#   scripts/timeline.sh STEP [--solution] [--count N] [--crash-at N] [-p MS] [-X key=value]...
#
#   --solution     run the reference solution instead of your code (or TARGET=solutions)
#   --count N      orders on the fresh topic (default 27, over 3 partitions)
#   --crash-at N   run 1 crashes while processing its Nth message (default: the middle;
#                  step 01: 8, as in the exercise)
#   -p MS          processing time per message, or per batch in step 03 (default 250;
#                  step 01: 2000, as in the exercise)
#   -X key=value   a librdkafka setting for both runs, e.g. -X auto.commit.interval.ms=1000
#
# Through make the options go in ARGS: make timeline STEP=01 ARGS="--solution --crash-at 9".
# Each run uses a new topic and group, so runs never share leftovers. What it leaves:
#   build/timeline/NN_name.svg     the picture
#   build/timeline/NN_name/        run1.out/.err, rerun.out/.err, commits: the raw material
# (TIMELINE_DIR changes build/timeline.) Every program runs under `timeout`.
# Step 09 writes its invoices to a topic of its own (TOPIC-invoices), with the same
# --txn-id in both runs, under the probe (run1.probe, rerun.probe): the picture shows each
# transaction, and the invoices are read as read_committed and read_uncommitted readers.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
OUT_DIR=${TIMELINE_DIR:-$ROOT/build/timeline}
RUN_TIMEOUT=30       # seconds, plus the time run 1 needs to reach its crash (below)
# A crashed consumer stays in its group until its session times out (45 s by default):
# with 2 s the rerun gets its partitions 2 s after the crash. The broker allows it.
SESSION_OPTS=(-X session.timeout.ms=2000 -X heartbeat.interval.ms=400 -X fetch.wait.max.ms=50)

steps=$(workbook_steps)
usage_text() {
    echo "usage: make timeline STEP=NN [ARGS=\"--solution --count N --crash-at N -p MS -X key=value\"]"
    echo "       scripts/timeline.sh STEP [--solution] [--count N] [--crash-at N] [-p MS] [-X key=value]..."
    echo "the steps: $(echo $steps)"
}
usage() { # MESSAGE: the usage on stderr, exit 2
    [ $# -gt 0 ] && echo "timeline: $*" >&2
    usage_text >&2
    exit 2
}
number() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || usage "$1 wants a whole number from $3 to $4, not '$2'"; }

# ---------------------------------------------------------------- the command line

want=${1:-}; shift || true
case "$want" in -h|--help) usage_text; exit 0 ;; esac
[ -n "$want" ] || usage "which step? STEP=NN"
resolve_step timeline "$want"
step=$STEP_DIR

target=${TARGET:-steps}
[ "$target" = steps ] || [ "$target" = solutions ] || usage "TARGET is steps or solutions, not '$target'"
count=27 crash_at= process_ms=250 extra=()
# ARGS comes from make (make timeline ... ARGS="..."); the command line comes after it.
# shellcheck disable=SC2086
set -- ${ARGS:-} "$@"
while [ $# -gt 0 ]; do
    case "$1" in
        --solution|--solutions) target=solutions ;;
        --count)    [ $# -ge 2 ] || usage "--count wants a number"; number --count "$2" 3 10000; count=$2; shift ;;
        --crash-at) [ $# -ge 2 ] || usage "--crash-at wants a number"; crash_at=$2; shift ;;
        -p)         [ $# -ge 2 ] || usage "-p wants a number"; number -p "$2" 0 60000; process_ms=$2; shift ;;
        -X)         [ $# -ge 2 ] && [[ $2 == *=* ]] || usage "-X wants key=value"; extra+=(-X "$2"); shift ;;
        -h|--help)  usage_text; exit 0 ;;
        *)          usage "unknown option '$1'" ;;
    esac
    shift
done
# Step 01 shows the exercise's own story by default: 2 s per order against a 3 s timer,
# crash while processing order 8. The timer commits order 8's offset while it is in hand,
# so the rerun never sees it again: the loss the exercise asks about.
if [ "$step" = 01_auto_commit ] && [ -z "$crash_at" ] && [ "$process_ms" = 250 ]; then
    process_ms=2000 crash_at=8
    exercise_timing=1
fi
crash_at=${crash_at:-$((count / 2 + 1))}
number --crash-at "$crash_at" 1 "$count"
RUN_TIMEOUT=$((RUN_TIMEOUT + crash_at * process_ms / 1000))

# ---------------------------------------------------------------- getting ready

bin=build/$target/$step
who=$([ "$target" = steps ] && echo "your code, steps/$step" || echo "the reference, solutions/$step")
make -s tools || exit 1
make -s "$bin" || { echo "timeline: $target/$step does not compile (the compiler's message is above)" >&2; exit 1; }
if ! build/tools/ping -b "$BROKER" -t 2000 >/dev/null 2>&1; then
    echo "== no broker answers at $BROKER: starting one"
    scripts/broker.sh up || exit 1
fi

dir=$OUT_DIR/$step
svg=$OUT_DIR/$step.svg
mkdir -p "$dir" || exit 1
rm -f "$dir"/run1.* "$dir"/rerun.* "$dir/commits"
tag="$(echo "$want" | cut -c1-2)-$(date +%Y%m%d-%H%M%S)-$$"
topic="timeline-$tag"
group="timeline-$tag"
# Step 09: its output topic, one transactional.id for both runs (the rerun's producer
# then aborts what the crashed one left open), the probe for its transactional calls.
step_args=() commits_args=() probe_args=() txn=
if [ "$step" = 09_transactions ]; then
    txn=1 out="$topic-invoices" txn_id="$group-txn"
    step_args=(--out "$out" --txn-id "$txn_id")
    commits_args=(--txn)
    probe_args=(--probe1 "$dir/run1.probe" --probe2 "$dir/rerun.probe")
fi

# What an exit status says about how a run ended.
ended() {
    case "$1" in
        0) echo "ended normally" ;;
        1) echo "stopped on an error" ;;
        2) echo "rejected its options" ;;
        3) echo "crashed as planned" ;;
        124|137) echo "did not stop within ${RUN_TIMEOUT}s and was killed" ;;
        *) echo "ended with status $1" ;;
    esac
}

# Run the step program in the background under timeout, and show how far it got while
# it runs (on a terminal, the count updates in place). Sets RC.
# Usage: run_watched LABEL PREFIX [program args...]
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 130' INT TERM
run_watched() {
    local label=$1 prefix=$2 t0=$SECONDS; shift 2
    local probe=()
    [ -z "$txn" ] || probe=(LD_PRELOAD="$ROOT/build/tools/libprobe.so" WORKBOOK_PROBE="$prefix.probe")
    env ${probe[@]+"${probe[@]}"} timeout -k 2 "$RUN_TIMEOUT" "$bin" -b "$BROKER" -t "$topic" -g "$group" "${SESSION_OPTS[@]}" \
        ${step_args[@]+"${step_args[@]}"} ${extra[@]+"${extra[@]}"} "$@" >"$prefix.out" 2>"$prefix.err" </dev/null &
    pid=$!
    printf '   %s ' "$label"
    while kill -0 "$pid" 2>/dev/null; do
        [ -t 1 ] && printf '\r   %s %s processed ' "$label" "$(grep -c '^processed ' "$prefix.out")"
        sleep 0.3
    done
    RC=0
    wait "$pid" || RC=$?
    pid=
    [ -t 1 ] && printf '\r   %s ' "$label"
    printf '%s processed, %s (exit %s) in %s s\n' "$(grep -c '^processed ' "$prefix.out")" \
        "$(ended "$RC")" "$RC" "$((SECONDS - t0))"
}

# ---------------------------------------------------------------- the runs

echo "== timeline of $who"
[ -z "${exercise_timing:-}" ] || echo "   the exercise's timing: 2 s per order, auto-commit every 3 s, crash at order 8 (-p and --crash-at change it)"
echo "   topic $topic: $count orders over 3 partitions; group $group"
timeout 30 build/tools/topic -b "$BROKER" -t "$topic" -p 3 >/dev/null || exit 1
timeout 30 build/tools/populate -b "$BROKER" -t "$topic" -n "$count" >/dev/null || exit 1
if [ -n "$txn" ]; then
    echo "   invoices to topic $out (3 partitions); transactional.id $txn_id, the same for both runs"
    timeout 30 build/tools/topic -b "$BROKER" -t "$out" -p 3 >/dev/null || exit 1
fi

run_watched "run 1 (crashes at message $crash_at, $process_ms ms each):" "$dir/run1" \
    -p "$process_ms" --crash-at "$crash_at" --idle-exit 3
if [ "$RC" -ne 3 ]; then
    echo "   note: run 1 did not crash, so there is no crash to see. Its stderr ends with:"
    tail -n 4 "$dir/run1.err" | sed 's/^/     /'
fi
run_watched "rerun (waits ~2 s for the crashed member's session to end):" "$dir/rerun" \
    -p 20 --crash-at 0 --idle-exit 2
if [ "$RC" -ne 0 ]; then
    echo "   note: the rerun did not end normally. Its stderr ends with:"
    tail -n 4 "$dir/rerun.err" | sed 's/^/     /'
fi

printf "   the broker's record of commits: "
timeout 30 build/tools/commits -b "$BROKER" -g "$group" -t "$topic" ${commits_args[@]+"${commits_args[@]}"} >"$dir/commits" || exit 1
echo "$(wc -l <"$dir/commits") commits (make commits GROUP=$group${txn:+ TXN=1})"
# Where each partition's log ends (the lag tool's LOG-END-OFFSET column): orders that
# neither run reached are drawn too, as "not reached".
log_ends=()
while read -r p end; do log_ends+=(--log-end "$p=$end"); done < <(
    timeout 30 build/tools/lag -b "$BROKER" -g "$group" -t "$topic" 2>/dev/null |
        awk 'NR > 1 && $3 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ { print $3, $5 }')
echo

# ---------------------------------------------------------------- the picture

title="$target/$step ($([ "$target" = steps ] && echo "your code" || echo "the reference solution")), crash at message $crash_at"
build/tools/timeline --title "$title" ${log_ends[@]+"${log_ends[@]}"} ${probe_args[@]+"${probe_args[@]}"} \
    --svg "$svg" "$dir/run1.out" "$dir/rerun.out" "$dir/commits" || exit 1
if [ -n "$txn" ]; then
    # What a reader of the invoices sees: read_committed only what committed transactions
    # wrote; read_uncommitted also what the aborted ones (and the one left open) wrote.
    echo
    grep -q '^call fn=txn_begin .* err=NO_ERROR' "$dir/run1.probe" "$dir/rerun.probe" 2>/dev/null ||
        echo "No transaction was begun (the probe saw none): each invoice is visible as soon as it is written."
    echo "The invoices, as each kind of reader sees them (make invoices OUT=$out [ISOLATION=read_uncommitted]):"
    for iso in read_committed read_uncommitted; do
        timeout 60 build/tools/invoices -b "$BROKER" -t "$out" --isolation "$iso" --duplicates 2>&1 |
            awk '/^invoices: / { sub(/^invoices: [^ ]* /, ""); print "  " $0; next }
                 /^  / { next } { d = d (d ? ", " : "") $1 " x" $2 } END { if (d) print "    twice or more: " d }'
    done
fi
echo
echo "The picture as SVG: $svg"
echo "open it in a browser: file://$svg"
