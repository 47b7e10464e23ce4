#!/usr/bin/env bash
# `make compare`: every commit strategy side by side, measured on the broker.
#
# The exercise's comparison table says High / Low / Best; this puts numbers in their place.
# Each strategy's reference solution (build/solutions/NN_*) runs the same scenarios, on
# its own fresh topic and group:
#   crash "slow": 60 orders, -p 2000, crash while processing the 2nd order, then a rerun.
#                 2 s of work per call against a 3 s auto-commit timer: the timer fires
#                 while the crashed order is in hand (the exercise's own timing).
#   crash "fast": 60 orders, -p 200, crash while processing the 28th order, then a rerun.
#                 Many orders per timer period: a crash replays all done since the last one.
#   throughput:   20,000 orders, -p 0, until 1 s idle or SPEED_SECS (10 s) have passed,
#                 whichever comes first (then Ctrl+C: the program stops cleanly):
#                 messages per second, commits sent. Sized by time, not by count, so that
#                 a slow strategy on a busy machine is measured, not timed out.
# Step 09 (transactions) writes invoices to a topic of its own (TOPIC-invoices), with one
# --txn-id for its crash run and rerun; its row counts what a read_committed reader of the
# invoices sees (build/tools/invoices): orders with no invoice (lost), orders invoiced
# twice (duplicated; a read_uncommitted reader's count in brackets), and the transactions
# committed in the throughput run.
# The crash runs use 2 s sessions (-X session.timeout.ms=2000) so that the rerun does not
# wait for the dead member, and run them all at once (they mostly sleep); the throughput
# runs go one after the other so that each has the machine to itself.
#
# From the programs' output, the probe and the broker's record of commits, one analysis
# (build/tools/analyze, as the checks use it)
# computes, per strategy: orders lost, orders delivered again (and processed twice),
# commit requests and offsets, and messages per second. It prints the table, writes it
# with the details and how it was measured to build/compare.md, and exits 1 if a run
# failed unexpectedly (a crash run that did not crash, a rerun or throughput run that did
# not end cleanly or did not process every order).
#
# Usage: scripts/compare.sh [--quick] [-o FILE] [--keep]
#   --quick   a smaller throughput run (3,000 orders, at most 5 s), for the tests
#   -o FILE   where to write the Markdown (default build/compare.md)
#   --keep    keep the raw outputs (their folder is printed)
set -uo pipefail
[ "${BASH_VERSINFO[0]}" -ge 4 ] || { echo "compare: needs bash 4 or newer (this is $BASH_VERSION)" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
caller=$PWD
cd "$ROOT"

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^--keep/p' "$0" | sed -n '1,4p'; }
out_md=$ROOT/build/compare.md
quick=0 keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --keep) keep=1 ;;
        -o) [ $# -ge 2 ] || { usage >&2; exit 2; }; out_md=$2; shift
            case "$out_md" in /*) ;; *) out_md=$caller/$out_md ;; esac ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
# Every step that is a commit strategy (08 monitors lag; it commits as 03 does).
declare -A NAME=([01_auto_commit]="Auto-commit" [02_manual_commit]="Per-message commit"
                 [03_batch_commit]="Batch commit" [04_at_most_once]="Commit before processing"
                 [05_store_after_processing]="Store after processing, auto-commit"
                 [06_async_commit]="Async batch commit" [07_idempotent_sink]="Offsets in the sink (SQLite)"
                 [09_transactions]="Exactly once: transactions")
# The exercise's "Use case" column for its three, kept as it is; the others' from their steps.
declare -A USE=([01_auto_commit]="Non-critical data, idempotent processing"
                [02_manual_commit]="Critical data, small volume"
                [03_batch_commit]="High throughput requirements"
                [04_at_most_once]="Loss acceptable, duplicates not (alerts, notifications)"
                [05_store_after_processing]="librdkafka's own at-least-once idiom"
                [06_async_commit]="High throughput, commit failures reported"
                [07_idempotent_sink]="Exactly-once effect in a database"
                [09_transactions]="Topic to topic, exactly once (Kafka transactions)")
STRATS=()
for s in 01_auto_commit 02_manual_commit 03_batch_commit 04_at_most_once 05_store_after_processing \
         06_async_commit 07_idempotent_sink 09_transactions; do
    [ -d "solutions/$s" ] && STRATS+=("$s")
done
COUNT=60                                   # orders in each crash scenario
SCENARIOS=(slow fast)
declare -A PMS=([slow]=2000 [fast]=200)     # -p of the crash run
declare -A CRASH=([slow]=2 [fast]=28)       # --crash-at of the crash run
BIG=20000; [ "$quick" = 1 ] && BIG=3000     # orders in the throughput run
SPEED_SECS=10; [ "$quick" = 1 ] && SPEED_SECS=5   # at most this long each (then Ctrl+C)
RUN_LIMIT=60                                # no single run may take longer (seconds)
SESSION_OPTS=(-X session.timeout.ms=2000 -X heartbeat.interval.ms=400)
t_start=$(date +%s%3N)

say() { printf 'compare: %s\n' "$*"; }
ms_now() { date +%s%3N; }
# A failure's text as one table cell: one line, no column separator.
oneline() { tr '|\n' '/ ' | sed 's/  */ /g; s/ $//'; }
commas() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) } print s o }'; }

make -s build/tools/ping build/tools/topic build/tools/populate build/tools/commits \
    build/tools/analyze build/tools/libprobe.so build/tools/invoices \
    "${STRATS[@]/#/build/solutions/}" || { echo "compare: the build failed" >&2; exit 1; }
if ! build/tools/ping -b "$BROKER" -t 2000 >/dev/null 2>&1; then
    say "no broker answers at $BROKER: starting one (scripts/broker.sh up)"
    scripts/broker.sh up >/dev/null || { echo "compare: could not start the broker" >&2; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-compare.XXXXXX")
. scripts/lib.sh   # kill_tree: everything this script starts, with its children
kill_children() { kill_tree $$; }
cleanup() { if [ "$keep" = 1 ]; then say "raw outputs kept in $work"; else rm -rf "$work"; fi; }
trap 'echo; say "interrupted"; kill_children; cleanup; exit 130' INT TERM
trap cleanup EXIT

tag="cmp-$(date +%H%M%S)-$$-$RANDOM"

# Step 09 writes invoices: STRAT TOPIC GROUP creates TOPIC-invoices (3 partitions) and
# sets TXN_ARGS (its --out and one --txn-id for every run on TOPIC) and TXN_COMMITS
# (commits --txn: the records of aborted transactions are not counted). Other steps: none.
txn_setup() {
    TXN_ARGS=() TXN_COMMITS=()
    [ "$1" = 09_transactions ] || return 0
    TXN_ARGS=(--out "$2-invoices" --txn-id "$3-txn") TXN_COMMITS=(--txn)
    timeout 30 build/tools/topic -b "$BROKER" -t "$2-invoices" -p 3 >/dev/null
}

# ---------------------------------------------------------------- one crash scenario
# crash_case STRAT SCENARIO: topic, crash run, rerun; writes $dir/result (key=value
# lines) or $dir/failed (why).
crash_case() {
    local s=$1 sc=$2 dir=$work/$1.$2 topic group rc t0 t1
    mkdir -p "$dir"
    topic="t-$tag-${s%%_*}-$sc" group="g-$tag-${s%%_*}-$sc"
    bad() { printf '%s' "$*" | oneline >"$dir/failed"; say "[$sc] ${NAME[$s]}: FAILED: $(cat "$dir/failed")"; }
    if ! timeout 30 build/tools/topic -b "$BROKER" -t "$topic" -p 3 >/dev/null 2>"$dir/setup.err" ||
       ! timeout 30 build/tools/populate -b "$BROKER" -t "$topic" -n "$COUNT" >/dev/null 2>>"$dir/setup.err" ||
       ! txn_setup "$s" "$topic" "$group" 2>>"$dir/setup.err"; then
        bad "could not create and fill $topic: $(tail -n 2 "$dir/setup.err")"; return
    fi
    run_bin() { # PREFIX ARGS...   (the probe writes down each run's commit calls)
        local prefix=$1; shift
        LD_PRELOAD=$ROOT/build/tools/libprobe.so WORKBOOK_PROBE=$dir/$prefix.probe \
        timeout -k 2 "$RUN_LIMIT" "build/solutions/$s" -b "$BROKER" -t "$topic" -g "$group" \
            --db "$dir/orders.db" ${TXN_ARGS[@]+"${TXN_ARGS[@]}"} "${SESSION_OPTS[@]}" "$@" >"$dir/$prefix.out" 2>"$dir/$prefix.err" </dev/null
    }
    t0=$(ms_now); rc=0
    run_bin crash -p "${PMS[$sc]}" --crash-at "${CRASH[$sc]}" || rc=$?
    t1=$(ms_now)
    [ "$rc" -eq 3 ] || { bad "the crash run exited $rc, not 3 (the simulated crash): $(tail -n 2 "$dir/crash.err")"; return; }
    build/tools/commits -b "$BROKER" -g "$group" -t "$topic" ${TXN_COMMITS[@]+"${TXN_COMMITS[@]}"} >"$dir/commits1" 2>"$dir/commits.err" ||
        { bad "could not read the commits: $(tail -n 1 "$dir/commits.err")"; return; }
    say "[$sc] ${NAME[$s]}: crashed at order ${CRASH[$sc]} after $(( (t1 - t0) / 100 ))00 ms, $(grep -c '^processed ' "$dir/crash.out") processed, $(wc -l <"$dir/commits1") offsets committed; rerun"
    rc=0
    run_bin rerun -p 0 --crash-at 0 --idle-exit 2 || rc=$?
    [ "$rc" -eq 0 ] || { bad "the rerun exited $rc, not 0: $(tail -n 2 "$dir/rerun.err")"; return; }
    build/tools/commits -b "$BROKER" -g "$group" -t "$topic" ${TXN_COMMITS[@]+"${TXN_COMMITS[@]}"} >"$dir/commits2" 2>"$dir/commits.err" ||
        { bad "could not read the commits: $(tail -n 1 "$dir/commits.err")"; return; }
    # Step 09: right after the crash, this group's records written after another
    # transaction still open (the crashed one, or the other scenario's) read as open.
    # Now every one is decided: what had counted at the crash is what was written by
    # then (the crashed transaction's records read aborted, as they end).
    [ -z "${TXN_COMMITS[*]:-}" ] || awk -F'\t' -v t1="$t1" '$4 <= t1' "$dir/commits2" >"$dir/commits1"
    measure_crash "$s" "$dir" >"$dir/result"
    [ "$s" != 09_transactions ] || measure_invoices "$topic-invoices" "$dir" >>"$dir/result"
    say "[$sc] ${NAME[$s]}: $(tr '\n' ' ' <"$dir/result")"
}

count() { grep -c . "$@" || true; }
# One analysis for the checks and for this table (build/tools/analyze): orders lost (never
# processed), delivered again, processed twice, and each commit request the broker
# recorded, by the program (its calls, seen by the probe) or by librdkafka on its own.
fact() { awk -v k="$1" -v kind="$2" '$1 == kind { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$3"; }
requests_in() { awk -v ph="$1" '$1 == "request" && index($0, " phase=" ph " ")' "$2" | count; }
offsets_in() { awk -v ph="$1" '$1 == "request" && index($0, " phase=" ph " ") { sub(/.* parts=/, ""); n += split($0, a, ",") } END { print n + 0 }' "$2"; }

measure_crash() { # STRAT DIR -> key=value lines
    local s=$1 d=$2 replayed in_hand
    build/tools/analyze --count "$COUNT" --probe1 "$d/crash.probe" --probe2 "$d/rerun.probe" \
        "$d/crash.out" "$d/rerun.out" "$d/commits2" >"$d/facts" || { echo "warning=${NAME[$s]}: the analysis failed"; return; }
    replayed=$(fact replayed summary "$d/facts") in_hand=$(fact replayed_in_hand summary "$d/facts")
    # (The sink resumes where its database says, not at Kafka's committed offsets.)
    [ "$s" != 07_idempotent_sink ] && grep -q '^finding kind=rerun-start' "$d/facts" &&
        echo "warning=${NAME[$s]}: the rerun did not resume exactly at the offsets the broker had committed ($(grep -m1 '^finding kind=rerun-start' "$d/facts" | cut -d' ' -f3-))"
    echo "processed_before=$(fact processed1 summary "$d/facts")"
    echo "crash_requests=$(requests_in run1 "$d/facts")"
    echo "crash_offsets=$(offsets_in run1 "$d/facts")"
    echo "rerun_requests=$(requests_in rerun "$d/facts")"
    echo "rerun_offsets=$(offsets_in rerun "$d/facts")"
    echo "lost=$(grep -c '^never ' "$d/facts")"
    echo "lost_values=$(sed -n 's/^never value=//p' "$d/facts" | tr '\n' ' ' | sed 's/ $//')"
    echo "again=$replayed"
    echo "twice=$((replayed - in_hand))"
}

# Step 09: the invoices in TOPIC as readers see them -> key=value lines: orders of COUNT
# with no invoice a read_committed reader sees (lost), orders it sees invoiced twice or
# more, and the same for a read_uncommitted reader (also what aborted transactions wrote).
measure_invoices() { # TOPIC DIR
    local iso
    for iso in read_committed read_uncommitted; do
        timeout 60 build/tools/invoices -b "$BROKER" -t "$1" --isolation "$iso" --list >"$2/invoices.$iso.all" 2>"$2/invoices.err" ||
            { echo "warning=${NAME[09_transactions]}: could not read the invoices ($iso): $(tail -n 1 "$2/invoices.err")"; return; }
        grep -v '^invoices: \|^  ' "$2/invoices.$iso.all" >"$2/invoices.$iso" || true
    done
    echo "inv_lost=$(comm -23 <(seq 1 "$COUNT" | sed 's/^/Order-/' | sort) <(cut -f3 "$2/invoices.read_committed" | sort -u) | grep -c . || true)"
    echo "inv_twice=$(cut -f3 "$2/invoices.read_committed" | sort | uniq -d | grep -c . || true)"
    echo "inv_twice_uncommitted=$(cut -f3 "$2/invoices.read_uncommitted" | sort | uniq -d | grep -c . || true)"
    echo "txns=$(cat "$2/crash.out" "$2/rerun.out" | grep -c '^transaction committed ' || true)"
}

# ---------------------------------------------------------------- the throughput run
speed_case() { # STRAT
    local s=$1 dir=$work/$1.speed topic group rc t0 t1
    mkdir -p "$dir"
    topic="t-$tag-${s%%_*}-speed" group="g-$tag-${s%%_*}-speed"
    bad() { printf '%s' "$*" | oneline >"$dir/failed"; say "[throughput] ${NAME[$s]}: FAILED: $(cat "$dir/failed")"; }
    txn_setup "$s" "$topic" "$group" 2>/dev/null || { bad "could not create $topic-invoices"; return; }
    rc=0 t0=$(ms_now)
    # Until the topic is read (1 s idle) or SPEED_SECS have passed: then SIGINT, as Ctrl+C,
    # and the program finishes the work in hand, commits and closes (exit 0). Only a
    # program still running 20 s later is killed.
    LD_PRELOAD=$ROOT/build/tools/libprobe.so WORKBOOK_PROBE=$dir/run.probe \
    timeout --preserve-status -s INT -k 20 "$SPEED_SECS" "build/solutions/$s" -b "$BROKER" -t "$topic" -g "$group" \
        --db "$dir/orders.db" ${TXN_ARGS[@]+"${TXN_ARGS[@]}"} -p 0 --crash-at 0 --idle-exit 1 >"$dir/run.out" 2>"$dir/run.err" </dev/null || rc=$?
    t1=$(ms_now)
    [ "$rc" -eq 0 ] || { bad "exited $rc$([ "$rc" -eq 137 ] && echo " (still running 20 s after Ctrl+C: killed)"): $(tail -n 2 "$dir/run.err")"; return; }
    build/tools/commits -b "$BROKER" -g "$group" -t "$topic" ${TXN_COMMITS[@]+"${TXN_COMMITS[@]}"} >"$dir/commits" 2>"$dir/commits.err" ||
        { bad "could not read the commits: $(tail -n 1 "$dir/commits.err")"; return; }
    awk '$1 == "started" && !f { split($NF, a, "="); f = a[2] }
         $1 == "processed" { n++; split($NF, a, "="); l = a[2] }
         END { ms = l - f; if (ms < 1) ms = 1
               printf "msgs=%d\nms=%d\nrate=%d\n", n, ms, n * 1000 / ms }' "$dir/run.out" >"$dir/result"
    # shellcheck disable=SC1090
    . "$dir/result"
    # Ended by itself (1 s idle) before the time was up: it must have read every order.
    [ "$msgs" -gt 0 ] || { bad "processed none of $BIG orders in ${SPEED_SECS} s"; return; }
    [ $((t1 - t0)) -ge $((SPEED_SECS * 1000)) ] || [ "$msgs" -eq "$BIG" ] ||
        { bad "processed $msgs of $BIG orders, then stopped by itself"; return; }
    # Tens of thousands of orders are more than the analysis is built for (it sets every
    # record against every message): here the requests are counted directly, the program's
    # from its commit calls (the probe), librdkafka's own from their timestamps.
    n=$(grep -cE '^call fn=(commit(_message|_queue)?|txn_offsets) ' "$dir/run.probe" || true)
    [ "$n" -gt 0 ] || n=$(awk -F'\t' '{ print $4 }' "$dir/commits" | sort -u | grep -c . || true)
    echo "requests=$n" >>"$dir/result"
    # (Step 09: only the records of committed transactions count; and its transactions.)
    echo "offsets=$(awk -F'\t' 'NF < 5 || $5 == "kept"' "$dir/commits" | grep -c . || true)" >>"$dir/result"
    [ "$s" != 09_transactions ] || echo "txns=$(grep -c '^transaction committed ' "$dir/run.out" || true)" >>"$dir/result"
    say "[throughput] ${NAME[$s]}: $(tr '\n' ' ' <"$dir/result")"
}

# ---------------------------------------------------------------- run everything
say "broker $BROKER; raw outputs in $work"
say "crash scenarios ($(( ${#STRATS[@]} * ${#SCENARIOS[@]} )) at once): $COUNT orders each;$(for sc in "${SCENARIOS[@]}"; do printf ' %s: -p %s, crash at order %s;' "$sc" "${PMS[$sc]}" "${CRASH[$sc]}"; done) then a rerun (-p 0, --idle-exit 2)"
# First the throughput topics (a few hundred ms each), so that filling them does not
# disturb the crash runs' timing.
for s in "${STRATS[@]}"; do
    topic="t-$tag-${s%%_*}-speed"
    { timeout 30 build/tools/topic -b "$BROKER" -t "$topic" -p 3 >/dev/null &&
      timeout 60 build/tools/populate -b "$BROKER" -t "$topic" -n "$BIG" >/dev/null 2>&1; } ||
        { mkdir -p "$work/$s.speed"; echo "could not create and fill $topic" >"$work/$s.speed/failed"; } &
done
wait
pids=()
for sc in "${SCENARIOS[@]}"; do
    for s in "${STRATS[@]}"; do crash_case "$s" "$sc" & pids+=($!); done
done
wait "${pids[@]}"
say "throughput: up to $(commas "$BIG") orders or $SPEED_SECS s each, -p 0, one strategy after the other"
for s in "${STRATS[@]}"; do
    [ -e "$work/$s.speed/failed" ] || speed_case "$s"
done

# ---------------------------------------------------------------- the table
failed=0
get() { # DIR KEY
    [ -f "$1/result" ] || { echo "?"; return; }
    sed -n "s/^$2=//p" "$1/result" | head -n 1
}
cell_loss() { local s=$1 sc out=""
    for sc in "${SCENARIOS[@]}"; do
        local d=$work/$s.$sc v; v=$(get "$d" lost)
        [ "$s" != 09_transactions ] || v=$(get "$d" inv_lost)   # no committed invoice (⁵)
        [ -e "$d/failed" ] && v="failed"
        out+="${out:+ · }$sc $v"
    done; echo "$out"; }
cell_dup() { local s=$1 sc out=""
    for sc in "${SCENARIOS[@]}"; do
        local d=$work/$s.$sc v; v="$(get "$d" again) ($(get "$d" twice) twice)"
        # Step 09: invoices a read_committed reader sees twice (⁵); read_uncommitted's.
        [ "$s" != 09_transactions ] || v="$(get "$d" inv_twice) ($(get "$d" inv_twice_uncommitted) uncommitted)"
        [ -e "$d/failed" ] && v="failed"
        out+="${out:+ · }$sc $v"
    done; echo "$out"; }
cell_commits() { local d=$work/$1.speed
    [ -e "$d/failed" ] || [ ! -f "$d/result" ] && { echo "failed"; return; }
    [ "$1" != 09_transactions ] || { echo "$(commas "$(get "$d" txns)") transactions for $(commas "$(get "$d" msgs)") msgs"; return; }
    echo "$(commas "$(get "$d" requests)") for $(commas "$(get "$d" msgs)") msgs"; }
cell_rate() { local d=$work/$1.speed
    [ -e "$d/failed" ] || [ ! -f "$d/result" ] && { echo "failed"; return; }
    echo "$(commas "$(get "$d" rate)") msg/s"; }

rows=()
rows+=("Strategy|Message loss ¹|Duplicates ²|Commits ³|Throughput ⁴|Use case")
rows+=("---|---|---|---|---|---")
for s in "${STRATS[@]}"; do
    rows+=("${NAME[$s]}$([ "$s" != 09_transactions ] || echo " ⁵")|$(cell_loss "$s")|$(cell_dup "$s")|$(cell_commits "$s")|$(cell_rate "$s")|${USE[$s]}")
done
# Markdown with padded columns, so that it reads as a table in a terminal too.
# (Widths in characters: UTF-8 continuation bytes do not count. LC_ALL=C makes every awk
# count bytes, so that the subtraction is right in gawk and mawk alike.)
table() { printf '%s\n' "$@" | LC_ALL=C awk -F'|' '
    function width(s,   t) { t = s; return length(s) - gsub(/[\200-\277]/, "", t) }
    { n = NF; for (i = 1; i <= NF; i++) { c[NR, i] = $i; l = width($i); if (l > w[i]) w[i] = l } }
    END { for (r = 1; r <= NR; r++) { line = "|"
            for (i = 1; i <= n; i++) {
                v = c[r, i]; fill = (v == "---") ? "-" : " "; if (v == "---") v = ""
                pad = ""; for (k = width(v); k < w[i]; k++) pad = pad fill
                line = line (fill == "-" ? "-" : " ") v pad (fill == "-" ? "-" : " ") "|" }
            print line } }'; }

details=("Strategy|Crash|processed before the crash|committed before the crash: requests (offsets)|lost|delivered again (processed twice)|rerun commits: requests (offsets)")
details+=("---|---|---|---|---|---|---")
for sc in "${SCENARIOS[@]}"; do
    for s in "${STRATS[@]}"; do
        d=$work/$s.$sc
        if [ -e "$d/failed" ]; then details+=("${NAME[$s]}|$sc|failed: $(oneline <"$d/failed")| | | | "); continue; fi
        lv=$(get "$d" lost_values)
        details+=("${NAME[$s]}|$sc: -p ${PMS[$sc]}, crash at order ${CRASH[$sc]}|$(get "$d" processed_before)|$(get "$d" crash_requests) ($(get "$d" crash_offsets))|$(get "$d" lost)${lv:+ ($lv)}|$(get "$d" again) ($(get "$d" twice))|$(get "$d" rerun_requests) ($(get "$d" rerun_offsets))")
    done
done
speed=("Strategy|orders|first started → last processed|messages per second|commit requests|offsets committed")
speed+=("---|---|---|---|---|---")
for s in "${STRATS[@]}"; do
    d=$work/$s.speed
    if [ -e "$d/failed" ]; then speed+=("${NAME[$s]}|failed: $(oneline <"$d/failed")| | | | "); continue; fi
    speed+=("${NAME[$s]}|$(commas "$(get "$d" msgs)")|$(commas "$(get "$d" ms)") ms|$(commas "$(get "$d" rate)")|$(commas "$(get "$d" requests)")|$(commas "$(get "$d" offsets)")")
done

warnings=$(cat "$work"/*/result 2>/dev/null | sed -n 's/^warning=//p' | sort -u)
for f in "$work"/*/failed; do [ -e "$f" ] && failed=1; done
elapsed=$(( ($(ms_now) - t_start) / 1000 ))

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)
rdk=$(pkg-config --modversion rdkafka 2>/dev/null || echo '?')
kver=$(scripts/broker.sh status 2>/dev/null | sed -n 's/^version: *//p' | head -n 1)
mode=$(scripts/broker.sh status 2>/dev/null | sed -n 's/^mode: *//p' | head -n 1)

footnotes() {
    cat <<EOF
¹ Orders (of $COUNT) that neither the crash run nor the rerun processed, in the two crash
  scenarios: **slow** (-p ${PMS[slow]}, crash while processing order ${CRASH[slow]}) and **fast**
  (-p ${PMS[fast]}, crash while processing order ${CRASH[fast]}).
² Orders the crash run had started (delivered) that the rerun delivered again; in brackets,
  how many of them the crash run had fully processed, i.e. processed twice.
³ Commit requests in the throughput run: the program's commit calls (the probe sees each
  one) or, for librdkafka's own commits (auto-commit's timer, close), the broker's records
  grouped by their timestamp. Auto-commit commits by the clock and at
  close, not by volume. The sink keeps its offsets in its database and commits none to
  Kafka. The offsets the broker recorded are in the details.
⁴ Orders processed per second in the throughput run (-p 0; up to $(commas "$BIG") orders or
  $SPEED_SECS s, whichever first), from the first \`started\` line to the last \`processed\` line.
EOF
    [[ " ${STRATS[*]} " == *" 09_transactions "* ]] || return 0
    cat <<EOF
⁵ Transactions (step 09) write an invoice per order to another topic, in one transaction
  with the batch's offsets: this row counts invoices, as a read_committed reader of that
  topic sees them (build/tools/invoices) after the crash run and the rerun. Loss: orders
  with no invoice. Duplicates: orders invoiced more than once; in brackets, the same for a
  read_uncommitted reader, which also sees what aborted transactions wrote (the one the
  crash left open). Its processing is repeated as batch commit's is (the batch in hand at
  the crash is done again: see the details). Commits: the transactions committed in the
  throughput run, one per batch of up to 5, each with its batch's offsets.
EOF
}

{
    echo "# The commit strategies, measured"
    echo
    table "${rows[@]}"
    echo
    footnotes
    echo
    echo "## Details"
    echo
    echo "Crash scenarios: the crash run, then a rerun in the same group (-p 0, --idle-exit 2)."
    echo
    table "${details[@]}"
    echo
    echo "Throughput runs: -p 0, --idle-exit 1 or Ctrl+C after $SPEED_SECS s, one after the other."
    echo
    table "${speed[@]}"
    echo
    echo "## How it was measured"
    echo
    cat <<EOF
\`make compare\` (scripts/compare.sh$([ "$quick" = 1 ] && echo ' --quick')) on $(date '+%Y-%m-%d %H:%M'): $(nproc) cores ($cpu), $mem,
librdkafka $rdk, ${kver:-Kafka} (${mode:-?} mode) at $BROKER, the reference solutions
(build/solutions/). Each strategy ran on its own fresh topic of 3 partitions (order *i* on
partition (*i*−1) mod 3) and its own group, with 2 s sessions
(-X session.timeout.ms=2000 -X heartbeat.interval.ms=400). The crash scenarios ran at
the same time (they mostly sleep); the throughput runs ran one after the other. -p is the
simulated work per work call: one message for auto-commit and per-message commit, a whole
batch of up to 5 for batch commit, one order for transactions. The lost and duplicated orders come from the programs'
\`started\`/\`processed\` lines, and were checked against the broker's record of commits
(build/tools/commits): the rerun must resume at the committed offsets (a mismatch, or a
program whose \`committed\` lines differ from the broker's record, is listed under
Warnings). Auto-commit's numbers depend on where the crash falls against its 3 s timer: a
timer commit while an order is in hand commits that order before it is done (lost if the
crash comes then: **slow**); the orders done since the last timer commit are replayed
(**fast**). One crash shows one or the other, never both. The whole run took $elapsed s.
EOF
    if [ -n "$warnings" ]; then echo; echo "Warnings:"; echo "$warnings" | sed 's/^/- /'; fi
} >"$work/compare.md"

echo
sed -n '3,/^$/p' "$work/compare.md" | sed '$d'
echo
footnotes
echo
table "${speed[@]}"
[ -z "$warnings" ] || { echo; echo "Warnings:"; echo "$warnings" | sed 's/^/- /'; }
mkdir -p "$(dirname "$out_md")" && cp "$work/compare.md" "$out_md"
echo
say "written to $out_md ($elapsed s)"
[ "$elapsed" -le 120 ] || say "warning: the run took longer than 2 minutes"
if [ "$failed" = 1 ]; then
    say "FAILED: a run did not go as expected (see above)"
    for f in "$work"/*/failed; do [ -e "$f" ] && echo "  $(basename "$(dirname "$f")"): $(cat "$f")"; done
    exit 1
fi
exit 0
