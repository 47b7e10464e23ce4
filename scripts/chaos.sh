#!/usr/bin/env bash
# `make chaos STEP=NN [RUNS=20]`: a property test of a step's commits. The step consumes
# a topic of COUNT orders and is killed with kill -9 (no close, no goodbye, no last
# commit) at a random moment, RUNS times, each time rerun from where the group's commits
# say; a last run goes to the end. Whatever the moment of each kill, an at-least-once
# step must have processed every order: lost must be 0. Duplicates are the price of
# at-least-once (each kill may replay what was in hand); they are counted, not judged.
# Step 07 is counted from its database instead of its `processed` lines: its effect is
# the row, and a kill after the row's COMMIT and before the line leaves the order done,
# unprinted. There every order must be in the database exactly once: lost 0, twice 0.
# Step 09 is counted from its invoices, as a read_committed reader sees them
# (build/tools/invoices): every order invoiced exactly once, lost 0, twice 0; what a
# read_uncommitted reader sees twice (aborted transactions) is counted, not judged.
#
# Usage: scripts/chaos.sh STEP [RUNS]
# Environment: BROKER (127.0.0.1:$KAFKA_PORT), WORKBOOK_TARGET=steps|solutions (steps),
#   COUNT=6*RUNS orders (at least 30), PROCESS_MS=40 per work call, CHAOS_SEED (random), CHAOS_DIR,
#   CHAOS_BIN (a program to run instead of build/TARGET/STEP).
# Prints one line per run, then the tally; the last line is machine-readable:
#   chaos STEP=.. runs=.. kills=.. lost=.. duplicated=.. seconds=..
# Exit status: 0 when nothing was lost (steps 07 and 09: and nothing recorded twice), 1 otherwise (or when a run stopped on an error by
# itself: the next would meet it again; chaos stops there and says why), 2 on bad usage.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh

[ -n "${1:-}" ] || { echo "usage: make chaos STEP=NN [RUNS=20]" >&2; exit 2; }
resolve_step chaos "$1"
RUNS=${2:-20}
[[ $RUNS =~ ^[0-9]+$ ]] || { echo "chaos: RUNS must be a number, not '$RUNS'" >&2; exit 2; }
BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
TARGET=${WORKBOOK_TARGET:-steps}
COUNT=${COUNT:-$(( RUNS * 6 > 30 ? RUNS * 6 : 30 ))}
PROCESS_MS=${PROCESS_MS:-40}
[ "$PROCESS_MS" -le 999 ] || PROCESS_MS=999
SEED=${CHAOS_SEED:-$$$RANDOM}
RANDOM=$SEED
bin=${CHAOS_BIN:-build/$TARGET/$STEP_DIR}
[ -n "${CHAOS_BIN:-}" ] || make -s "$bin" || exit 1
make -s build/tools/topic build/tools/populate build/tools/ping build/tools/invoices || exit 1
build/tools/ping -b "$BROKER" -t 3000 >/dev/null 2>&1 ||
    { echo "chaos: no broker answers at $BROKER (make broker-up)" >&2; exit 1; }

tag=chaos-${STEP_DIR%%_*}-$$-$RANDOM
dir=${CHAOS_DIR:-build/chaos/$tag}
mkdir -p "$dir"
build/tools/topic -b "$BROKER" -t "$tag" -p 3 >/dev/null || exit 1
build/tools/populate -b "$BROKER" -t "$tag" -n "$COUNT" >/dev/null || exit 1
# A short session with its heartbeat, and one group.instance.id for every run (static
# membership): a rerun takes the killed member's place at once, instead of waiting out
# its session first.
opts=(-b "$BROKER" -t "$tag" -g "$tag" -p "$PROCESS_MS" --crash-at 0 --db "$dir/orders.db"
      -X session.timeout.ms=2000 -X heartbeat.interval.ms=400 -X fetch.wait.max.ms=50
      -X "group.instance.id=$tag-member")
# Step 09: its invoices in a topic of their own, one transactional.id for every run.
if [ "${STEP_DIR%%_*}" = 09 ]; then
    build/tools/topic -b "$BROKER" -t "$tag-invoices" -p 3 >/dev/null || exit 1
    opts+=(--out "$tag-invoices" --txn-id "$tag-instance")
fi
echo "chaos: $bin, $COUNT orders on $tag, $RUNS kills -9 (seed $SEED; files in $dir)"

t0=$SECONDS kills=0 runs=0 hung=0 done=0
while :; do
    runs=$((runs + 1))
    out=$dir/run$runs
    if [ "$kills" -ge "$RUNS" ] || [ "$done" = 1 ]; then
        # The last run: to the end.
        timeout -k 2 60 "$bin" "${opts[@]}" --idle-exit 2 --exit-at-end >"$out.out" 2>"$out.err" </dev/null 3>&-
        rc=$?
        [ $rc = 124 ] || [ $rc = 137 ] && hung=$((hung + 1))
        echo "  run $runs: to the end, exit $rc, processed $(grep -c '^processed ' "$out.out")"
        break
    fi
    "$bin" "${opts[@]}" --idle-exit 3 >"$out.out" 2>"$out.err" </dev/null 3>&- &
    pid=$!
    # The kill comes at a random moment of the work: once the K-th message of this run
    # has started (K random, 1 to 8), 0 to PROCESS_MS ms later: in the middle of a work
    # call, or of a commit, or between them.
    k=$((RANDOM % 8 + 1)) delay=$((RANDOM % (PROCESS_MS + 1)))
    deadline=$((SECONDS + 30))
    while n=$(grep -c "^started " "$out.out" 2>/dev/null); [ "${n:-0}" -lt "$k" ] && kill -0 "$pid" 2>/dev/null &&
          [ $SECONDS -lt $deadline ]; do
        sleep 0.01
    done
    sleep "$(printf '0.%03d' "$delay")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        echo "  run $runs: killed -9 ${delay} ms after message $k started ($(grep -c '^processed ' "$out.out") processed)"
    else
        wait "$pid"; rc=$?
        echo "  run $runs: ended by itself, exit $rc, processed $(grep -c '^processed ' "$out.out")"
        # Everything was processed before the kill came: the last run finds nothing.
        [ $rc = 0 ] && done=1
        # An error of its own (a refused write, a failed commit...): the next run would
        # most likely meet it again, over and over. Stop here and say why.
        if [ $rc != 0 ]; then
            echo "chaos: run $runs stopped on an error by itself (exit $rc) before the kill came; its stderr ends with:" >&2
            tail -n 4 "$out.err" | sed 's/^/  /' >&2
            echo "chaos: stopped after $runs runs and $kills kills -9: make check STEP=${STEP_DIR%%_*} first (files in $dir)" >&2
            exit 1
        fi
    fi
done

from="processed lines" exact=0
if [ "${STEP_DIR%%_*}" = 09 ]; then
    # The orders invoiced, as a read_committed reader sees them (see the top).
    from="the invoices, read_committed" exact=1
    invoices() { build/tools/invoices -b "$BROKER" -t "$tag-invoices" --isolation "$1" --list 2>"$dir/invoices.err" |
        awk -F'\t' 'NF == 4 { print $3 }' | sort; }
    invoices read_committed >"$dir/processed" ||
        { echo "chaos: cannot read the invoices: $(cat "$dir/invoices.err")" >&2; exit 1; }
    aborted=$(invoices read_uncommitted | uniq -d | wc -l)
elif [ "${STEP_DIR%%_*}" = 07 ]; then
    # The orders in the database (see the top): each row one order recorded.
    from="the database" exact=1
    sqlite3 -batch "$dir/orders.db" "SELECT value FROM orders" 2>"$dir/sqlite.err" | sort >"$dir/processed" ||
        { echo "chaos: cannot read the orders in $dir/orders.db: $(cat "$dir/sqlite.err")" >&2; exit 1; }
else
    awk '$1 == "processed" { for (i = 2; i <= NF; i++) if ($i ~ /^value=/) print substr($i, 7) }' \
        "$dir"/run*.out | sort >"$dir/processed"
fi
lost=$(comm -23 <(seq 1 "$COUNT" | sed 's/^/Order-/' | sort) <(uniq "$dir/processed") | wc -l)
duplicated=$(uniq -d "$dir/processed" | wc -l)
echo "chaos: $runs runs, $kills kills -9: lost $lost, processed twice or more $duplicated (of $COUNT orders, counted from $from)$([ $hung -gt 0 ] && echo ", $hung run(s) hung")"
[ -z "${aborted:-}" ] || echo "chaos: a read_uncommitted reader sees $aborted order(s) invoiced twice or more (in transactions: the invoices of the aborted ones)"
[ "$lost" -eq 0 ] || echo "chaos: never $(case $from in "the database") echo "recorded in the database" ;; "the invoices"*) echo "invoiced (read_committed)" ;; *) echo processed ;; esac): $(comm -23 <(seq 1 "$COUNT" | sed 's/^/Order-/' | sort) <(uniq "$dir/processed") | tr '\n' ' ')"
echo "chaos STEP=${STEP_DIR%%_*} runs=$runs kills=$kills lost=$lost duplicated=$duplicated seconds=$((SECONDS - t0))"
[ "$exact" = 0 ] || [ "$duplicated" -eq 0 ] || echo "chaos: $from: twice or more: $(uniq -d "$dir/processed" | tr '\n' ' ')"
[ "$lost" -eq 0 ] && [ "$hung" -eq 0 ] && { [ "$exact" = 0 ] || [ "$duplicated" -eq 0 ]; }
