# Loaded by common.bash (never on its own): the judging half of the checks' helpers.
# The timeline picture, the scenarios of a refused commit, the facts of the one analysis
# (build/tools/analyze) and the expectations built on them: findings, timers, batches,
# and what each finding means for a learner.

# ------------------------------------------------------------------ the picture

# Draw the commit timeline of a crash test (build/tools/timeline): in the test's output
# as TAP comments on fd 3, so it shows whether the test passes or fails, and as an SVG
# in build/timeline/checks/NAME.svg. It only shows; it never fails a test.
# Usage: show_timeline RUN1.out RERUN.out COMMITS   (COMMITS: what broker_commits printed)
show_timeline() {
    local run1=$1 rerun=$2 commits=$3 name dir svg picture lines
    [ -x "$TOOLS/timeline" ] || { note "(no timeline: build it with 'make tools')"; return 0; }
    # The file's name: the test's description, in whole words, up to 60 characters.
    name=$(printf '%s' "$BATS_TEST_DESCRIPTION" | tr -cs 'a-zA-Z0-9' '-' |
        awk -F- '{ for (i = 1; i <= NF; i++) if ($i != "" && length(s) + length($i) < 60) s = s (s == "" ? "" : "-") $i; else if ($i != "") break; print s }')
    dir=$ROOT/build/timeline/checks
    svg=$dir/$name.svg
    mkdir -p "$dir" 2>/dev/null || svg=$BATS_TEST_TMPDIR/$name.svg
    # Written aside, then moved: checks of several copies may draw at the same time.
    if picture=$("$TOOLS/timeline" --color never --skew "${CLOCK_SKEW_MS:-0}" --title "$BATS_TEST_DESCRIPTION" \
            --svg "$svg.$$.tmp" "$run1" "$rerun" "$commits" 2>&1) &&
        mv -f "$svg.$$.tmp" "$svg" 2>/dev/null; then
        mapfile -t lines <<<"$picture"
        note "" "${lines[@]}" "" "The same picture for a browser: file://$svg"
    else
        rm -f "$svg.$$.tmp" 2>/dev/null
        note "(no timeline: $picture)"
    fi
    return 0
}

# A consumer that takes longer than max.poll.interval.ms between two polls is put out of
# its group, and the broker refuses its next commit. The program must report the error by
# librdkafka's name for it and stop (exit 1) instead of carrying on.
# Usage: failed_commit_stops STEP MAX_STARTED [UNIT]
failed_commit_stops() {
    local step=$1 max=$2 d=$BATS_TEST_TMPDIR n
    run_step "$step" "$d/run" -p 2500 --crash-at 0 --idle-exit 2 --max 3 \
        -X session.timeout.ms=1000 -X heartbeat.interval.ms=300 -X max.poll.interval.ms=1000
    expect_some_processed "$d/run.out"
    analyze_runs 0 "$d/run"
    expect_own_commits "$step" "${3:-message}"
    expect_exit 1 "after a commit the broker refused (the program spent 2.5 s processing, more than max.poll.interval.ms, so the group put it out)" "$d/run"
    grep -i 'commit' "$d/run.err" | grep -Eq '(UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS|_STATE|_ASSIGNMENT_LOST|_MAX_POLL_EXCEEDED|_NO_OFFSET)' ||
        fail "Expected the failed commit on stderr with librdkafka's name for the error (rd_kafka_err2name); stderr was: $(tail -n 4 "$d/run.err")"
    n=$(grep -c '^started ' "$d/run.out")
    [ "$n" -le "$max" ] || fail "Expected the program to stop at the failed commit; it went on and started $n messages. $(hint_for "$step")"
}

# A commit the broker refuses, for real: the probe gives the program's Nth commit call
# (WORKBOOK_FAULT=refuse-commit:N, tools/probe/probe.c) offset metadata larger than the broker
# takes, so the broker refuses it (OFFSET_METADATA_TOO_LARGE). The test proves it
# happened: the probe says the fault fired, and that call returned an error. Sets
# REFUSED_P and REFUSED_NEXT (the partition and offset that commit asked for) and
# REFUSED_VALUE (the order at REFUSED_NEXT - 1), and analyzes the run (analyze_runs).
# A program that makes no commit of its own fails first for that (expect_own_commits
# with HOW, "" for its default).
# Usage: refused_commit_run STEP N COUNT HOW [args...]   (output: $BATS_TEST_TMPDIR/run.*)
refused_commit_run() {
    local step=$1 n=$2 count=$3 how=$4 d=$BATS_TEST_TMPDIR call; shift 4
    WORKBOOK_FAULT=refuse-commit:$n run_step "$step" "$d/run" --crash-at 0 --idle-exit 2 --exit-at-end "$@"
    expect_some_processed "$d/run.out"
    analyze_runs "$count" "$d/run"
    expect_own_commits "$step" message ${how:+"$how"}
    grep -q "^fault refuse-commit call=$n " "$d/run.probe" 2>/dev/null || fail "$(printf '%s
%s'         "The scenario never happened: the program made fewer than $n commit calls, so none was refused."         "It made $(count_facts call | tr -d ' ') call(s) the probe saw; it processed $(summary processed1) message(s).")"
    call=$(facts call | grep -E ' fn=commit(_message|_queue)? ' | sed -n "${n}p")
    [ "$(field "$call" err)" != NO_ERROR ] || [ "$(field "$call" failed)" != - ] || fail "$(printf '%s
%s'         "The scenario never happened: the broker accepted commit call $n although the probe made it too large." "$call")"
    REFUSED_P=$(field "$call" offsets | cut -d, -f1 | cut -d: -f1)
    REFUSED_NEXT=$(field "$call" offsets | cut -d, -f1 | cut -d: -f2)
    if [ "$REFUSED_P" = stored ]; then
        # A commit of what was stored: it was for the last message started by then.
        read -r REFUSED_P REFUSED_NEXT < <(events started "$d/run.out" |
            awk -v t="$(field "$call" begin)" '$4 <= t { p = $1; o = $2 + 1 } END { print p, o }')
    fi
    REFUSED_VALUE=$(field "$(facts order "partition=$REFUSED_P" "offset=$((REFUSED_NEXT - 1))")" value)
    REFUSED_ERR=$(field "$call" err)
}

# After refused_commit_run: the refused commit was not printed as `committed`, was reported
# on stderr by librdkafka's name for the error, and the program stopped there (exit 1,
# nothing started after the Nth message). WHY says why stopping is right for this step.
# Usage: expect_refused_commit_handled STEP N WHY
expect_refused_commit_handled() {
    local step=$1 n_at=$2 why=$3 d=$BATS_TEST_TMPDIR n
    ! grep -q "^committed partition=$REFUSED_P offset=$REFUSED_NEXT " "$d/run.out" || fail "$(printf '%s\n%s\n%s' \
        "The program printed \`committed\` for a commit the broker refused: print it only when the commit succeeded, and report the failure instead." \
        "The broker refused partition:offset $REFUSED_P:$REFUSED_NEXT ($REFUSED_ERR), the commit of $REFUSED_VALUE." "$(hint_for "$step")")"
    grep -q "$REFUSED_ERR" "$d/run.err" || fail "$(printf '%s\n%s\n%s' \
        "The refused commit was not reported on stderr by librdkafka's name for the error ($REFUSED_ERR, rd_kafka_err2name)." \
        "stderr ends with: $(tail -n 3 "$d/run.err")" "$(hint_for "$step")")"
    n=$(grep -c '^started ' "$d/run.out")
    [ "$n" -le "$n_at" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected the program to stop at the refused commit; it went on and started $n messages ($why)." \
        "The refused commit was number $n_at." "$(hint_for "$step")")"
    expect_exit 1 "after a commit the broker refused" "$d/run"
}

# ------------------------------------------------------------------ the broker's offsets

# What the broker holds for a group on a topic (build/tools/lag), one line per partition
# of the topic: "partition committed end lag" ("-" for committed and lag when nothing is
# committed). Usage: lag_table [GROUP [TOPIC]]   (default: this test's)
lag_table() {
    local g=${1:-$GROUP} t=${2:-$TOPIC}
    "$TOOLS/lag" -b "$BROKER" -g "$g" -t "$t" | awk -v t="$t" '$2 == t { print $3, $4, $5, $6 }' | sort -n
}
# Each partition's log end, "partition end"; the group's committed offsets, "partition offset".
log_ends() { lag_table | cut -d' ' -f1,3; }
group_offsets() { lag_table | cut -d' ' -f1,2; }

# ------------------------------------------------------------------ the facts

# One analysis of a run (and its rerun), shared by every check: build/tools/analyze reads
# what the programs printed, what the probe saw them ask librdkafka and what the broker
# recorded, and writes the facts to $BATS_TEST_TMPDIR/facts (see tools/analysis/analyze.c).
# Usage: analyze_runs COUNT RUN1_PREFIX [RERUN_PREFIX]
analyze_runs() {
    local count=$1 run1=$2 rerun=${3:-} d=$BATS_TEST_TMPDIR
    broker_commits >"$d/commits"
    # CLOCK_SKEW_MS: the broker's clock minus this machine's (a broker in a Docker VM
    # can differ); the analysis reads the broker's commit times on this machine's clock.
    local args=(--count "$count" --skew "${CLOCK_SKEW_MS:-0}")
    [ -f "$run1.probe" ] && args+=(--probe1 "$run1.probe")
    [ -n "$rerun" ] && [ -f "$rerun.probe" ] && args+=(--probe2 "$rerun.probe")
    "$TOOLS/analyze" "${args[@]}" "$run1.out" ${rerun:+"$rerun.out"} "$d/commits" >"$d/facts" ||
        fail "the analysis of this run failed (build/tools/analyze): $(tail -n 2 "$d/facts")"
}

# The facts of one kind (order, request, finding, ...), optionally only those whose
# KEY=VALUE words match: facts request by=program phase=run1
facts() {
    local kind=$1; shift
    awk -v kind="$kind" -v want="$*" '
        BEGIN { n = split(want, w, " ") }
        $1 == kind { for (i = 1; i <= n; i++) if (index(" " $0 " ", " " w[i] " ") == 0) next; print }' \
        "$BATS_TEST_TMPDIR/facts"
}

# How many facts of that kind match.
count_facts() { facts "$@" | grep -c . || true; }

# The value of KEY in one fact line: field "$line" offset
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

# A number from the summary line: summary replayed
summary() { field "$(facts summary)" "$1"; }

# The setting the program gave librdkafka in RUN (1 or 2), as the probe saw it.
setting() { facts setting "run=${2:-1}" "key=$1" | tail -n1 | sed 's/.* value=//'; }

# ms after run 1's first line, for evidence ("at +1234 ms").
rel_ms() {
    local t0
    t0=$(facts order | sed -n 's/.* started1=\([0-9]*\).*/\1/p' | grep -v '^0$' | sort -n | head -n1)
    echo $(( $1 - ${t0:-$1} ))
}

# Fail with the true cause of the first finding of any of KINDS (in the order given):
# the first line of the message names the cause, the next ones the evidence.
# Usage: fail_on_findings STEP KIND...
fail_on_findings() {
    local step=$1 kind line; shift
    for kind in "$@"; do
        line=$(facts finding "kind=$kind" | head -n1)
        [ -n "$line" ] || continue
        fail "$(printf '%s\n%s' "$(explain_finding "$line")" "$(hint_for "$step")")"
    done
}

# Steps 02 on commit by themselves: when the broker recorded no commit the program made,
# that is the cause of whatever else went wrong, so say it first (the same first line in
# every test, so that a step's report names it once).
# Usage: expect_own_commits STEP UNIT [HOW]   (UNIT: "message", "batch"; HOW: what to do
# instead, when it is not "after processing each UNIT, commit it and wait for the answer")
expect_own_commits() {
    local step=$1 unit=$2 how=${3:-"after processing each $2, commit it and wait for the broker's answer"}
    # A call counts even when the broker refused it.
    facts call | grep -qE ' fn=commit(_message|_queue)? ' && return 0
    fail "$(printf '%s\n%s\n%s' \
        "The program made no commit of its own: $how." \
        "It processed $(( $(summary processed1) + $(summary processed2) )) messages; the broker recorded $(summary requests_librdkafka) request(s), all made by librdkafka itself$([ "$(setting enable.auto.commit)" = true ] && echo ' (enable.auto.commit is still on)')." \
        "$(hint_for "$step")")"
}

# Per processed order of run 1, in the order they started: "value partition offset started
# processed commit_at n_commits", where commit_at is when the first commit request the
# program made for exactly offset + 1 on its partition reached the broker (0: none), and
# n_commits how many such requests there were.
order_commits() {
    awk 'function f(line, key,   i, n, kv) { n = split(line, kv, " "); for (i = 1; i <= n; i++) if (index(kv[i], key "=") == 1) return substr(kv[i], length(key) + 2); return "" }
         $1 == "request" && index($0, " by=program ") && index($0, " phase=run1 ") {
             n = split(f($0, "parts"), parts, ",")
             for (i = 1; i <= n; i++) { cnt[parts[i]]++; if (!(parts[i] in at)) at[parts[i]] = f($0, "at") } }
         $1 == "order" && f($0, "processed1") + 0 > 0 { order[++m] = $0 }
         END { for (i = 1; i <= m; i++) { o = order[i]; key = f(o, "partition") ":" (f(o, "offset") + 1)
                   print f(o, "value"), f(o, "partition"), f(o, "offset"), f(o, "started1"), f(o, "processed1"), (key in at) ? at[key] : 0, cnt[key] + 0 } }' \
        "$BATS_TEST_TMPDIR/facts" | sort -k4,4n
}

# When the program of PREFIX created its consumer: the probe's "created" line (the begin of
# rd_kafka_new, epoch ms); FALLBACK (the launch) when the probe wrote none. Under load a
# program can take most of a second from launch to there (exec, loading, set-up).
# Usage: created_ms PREFIX FALLBACK
created_ms() {
    local t
    t=$(sed -n 's/^created begin=\([0-9]*\) .*/\1/p' "$1.probe" 2>/dev/null | head -n 1)
    echo "${t:-$2}"
}

# Auto-commit's rhythm: the requests librdkafka made on its own while run 1 was processing
# must come every INTERVAL ms. The timer starts when the consumer is created (LAUNCHED,
# epoch ms: created_ms) and fires every interval; a tick with nothing new to commit sends nothing (on a
# busy machine the first orders may arrive after the first tick). So: the first timer
# commit lands near a multiple of INTERVAL after launch, and from then on, while orders
# keep being processed, one lands every INTERVAL (within -500/+700 ms). At least MIN.
# Usage: expect_timer STEP INTERVAL LAUNCHED MIN
expect_timer() {
    local step=$1 interval=$2 launched=$3 min=$4 last_done n_timer gaps bad first rest
    last_done=$(facts order | sed -n 's/.* processed1=\([0-9]*\).*/\1/p' | sort -n | tail -n1)
    facts request by=librdkafka close=0 phase=run1 | sed 's/.* at=\([0-9]*\).*/\1/' |
        awk -v end="${last_done:-0}" '$1 <= end' >"$BATS_TEST_TMPDIR/timer"
    n_timer=$(wc -l <"$BATS_TEST_TMPDIR/timer")
    [ "$n_timer" -gt 0 ] || fail "$(printf '%s\n%s\n%s' \
        "Expected automatic commits while the orders were being processed; the broker recorded none." \
        "$(summary processed1) orders over about $(( (${last_done:-$launched} - launched) / 1000 )) s." "$(hint_for "$step")")"
    gaps=$(awk -v t0="$launched" '{ print $1 - t0; t0 = $1 }' "$BATS_TEST_TMPDIR/timer" | tr '\n' ' ')
    bad=$(awk -v t0="$launched" -v iv="$interval" '
        function off(ms,   k) { k = int(ms / iv + 0.5); return k < 1 ? iv : (ms - k * iv < 0 ? k * iv - ms : ms - k * iv) }
        NR == 1 { tol = iv * 0.4; if (tol > 700) tol = 700; if (off($1 - t0) > tol) { print $1 - t0; exit } }
        NR > 1  { gap = $1 - prev; if (gap < iv - 500 || gap > iv + 700) { print gap; exit } }
        { prev = $1 }' "$BATS_TEST_TMPDIR/timer")
    first=${gaps%% *} rest=${gaps#* }
    [ -z "$bad" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected an automatic commit every $interval ms while orders were processed." \
        "The broker recorded the first ${first} ms after the consumer was created${rest:+, then the next ones after (ms): ${rest% }}." "$(hint_for "$step")")"
    [ "$n_timer" -ge "$min" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected at least $min timer commits while orders were processed." \
        "The broker recorded $n_timer (ms between them: $gaps)." "$(hint_for "$step")")"
    TIMER_COMMITS=$n_timer
    TIMER_GAPS=$(awk '{ if (NR > 1) print $1 - prev; prev = $1 }' "$BATS_TEST_TMPDIR/timer" | tr '\n' ' ')
}

# Steps that work in batches (03, 06, 08). The batches a run printed: a batch is a run of `started` lines and the lines up to the
# next `started`. One line per batch:
#   first_started_ms last_processed_ms size partition:next_offset,partition:next_offset...
# (next_offset = the highest offset of that partition in the batch + 1, what its commit
# must say.)
batches() {
    awk '
        function flush() {
            if (size == 0) return
            parts = ""
            for (p = 0; p < 64; p++) if (p in top) parts = parts (parts == "" ? "" : ",") p ":" (top[p] + 1)
            print first, last, size, parts
            delete top; size = 0; last = 0
        }
        function field(name,   i, kv) {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
        }
        $1 == "started" {
            if (prev != "started") { flush(); first = field("at") }
            size++; p = field("partition") + 0; o = field("offset") + 0
            if (!(p in top) || o > top[p]) top[p] = o
        }
        $1 == "processed" { last = field("at") }
        $1 == "started" || $1 == "processed" || $1 == "committed" { prev = $1 }
        END { flush() }' "$1"
}

# The program's commit requests: "at partition:offset,... async" (recommits of unchanged
# offsets left out: they are harmless), one line per request, oldest first.
program_requests() {
    local recommits
    recommits=$(facts finding kind=recommit | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["request"], v["partition"] ":" v["offset"] }')
    facts request by=program | awk -v rc="$recommits" '
        BEGIN { n = split(rc, r, "\n"); for (i = 1; i <= n; i++) skip[r[i]] = 1 }
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          m = split(v["parts"], p, ","); out = ""
          for (i = 1; i <= m; i++) if (!((v["n"] " " p[i]) in skip)) out = out (out == "" ? "" : ",") p[i]
          if (out != "") print v["at"], out, v["async"] }' |
        awk '{ n = split($2, s, ",")
               for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                   split(s[i], x, ":"); split(s[j], y, ":"); if (y[1] + 0 < x[1] + 0) { t = s[i]; s[i] = s[j]; s[j] = t } }
               out = s[1]; for (i = 2; i <= n; i++) out = out "," s[i]; print $1, out, $3 }'
}

# Steps that commit per batch (03 synchronously, 06 asynchronously): batches of at most
# 5, one program request per batch covering every partition of the batch at its highest
# offset + 1, none before the batch was processed (a finding) and none too late: a
# synchronous commit before the next batch starts, an asynchronous one before the next
# batch is processed. Findings of the kinds given fail first, with their cause.
# Sets N_BATCHES and N_REQUESTS.
# Usage: expect_batch_commits STEP sync|async RUN.out WRONG_KIND...
expect_batch_commits() {
    local step=$1 mode=$2 out=$3 d=$BATS_TEST_TMPDIR big problem; shift 3
    batches "$out" >"$d/batches"
    program_requests >"$d/requests"
    N_BATCHES=$(wc -l <"$d/batches")
    N_REQUESTS=$(wc -l <"$d/requests")
    big=$(awk '$3 > 5 { print $3; exit }' "$d/batches")
    [ -z "$big" ] || fail "$(printf '%s\n%s\n%s' "Batches must hold at most 5 messages: take up to 5 per poll." "One batch had $big." "$(hint_for "$step")")"
    [ "$N_REQUESTS" -le "$N_BATCHES" ] || [ -n "$(batches_more_often "$mode")" ] || [ -z "$(batch_left_out "$mode")" ] || fail "$(printf '%s\n%s\n%s' \
        "The batch commit leaves out partitions of the batch: each batch's one commit must cover every partition of the batch, at its highest offset + 1 (the partitions left out were committed later, in extra requests)." \
        "$(batch_left_out "$mode")" "$(hint_for "$step")")"
    [ "$N_REQUESTS" -le "$N_BATCHES" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected one commit per batch, covering all its partitions in one request: the program committed more often, once per message or once per partition." \
        "$N_BATCHES batches, $N_REQUESTS commit requests by the program (the probe counts each call)." "$(hint_for "$step")")"
    fail_on_findings "$step" "$@"
    [ "$N_REQUESTS" -eq "$N_BATCHES" ] || fail "$(printf '%s\n%s\n%s' \
        "Expected one commit per batch: some batches were never committed." \
        "$N_BATCHES batches, $N_REQUESTS commit requests by the program." "$(hint_for "$step")")"
    # Batch i and request i side by side.
    problem=$(paste -d' ' "$d/batches" "$d/requests" | awk -v mode="$mode" '
        { first[NR] = $1; last[NR] = $2; want[NR] = $4; at[NR] = $5; got[NR] = $6 }
        END {
            for (i = 1; i <= NR; i++) {
                if (i < NR && mode == "sync" && at[i] > first[i + 1]) {
                    printf "Each batch must be committed before the next one is fetched: batch %d was committed only after batch %d had started.\n", i, i + 1; exit }
                if (i < NR && mode == "async" && at[i] > last[i + 1]) {
                    printf "Each batch must be committed right after it is processed: batch %d was committed only after batch %d was processed.\n", i, i + 1; exit }
                if (got[i] != want[i]) {
                    printf "Each batch commit must cover every partition of the batch, at its highest offset + 1.\nBatch %d needed (partition:next offset) %s; the program committed %s.\n", i, want[i], got[i]; exit }
            }
        }')
    [ -z "$problem" ] || fail "$(printf '%s\n%s' "$problem" "$(hint_for "$step")")"
}

# The program's requests made after batch i was processed and before the next batch was
# (async) or started (sync, that millisecond included): batch i's commit window; the last one stays open (the commit at
# shutdown falls in it). Prints "i count first_request_parts want" per batch, from the
# files expect_batch_commits wrote ($BATCH_DIR/batches, requests).
batch_windows() { # sync|async
    awk -v mode="$1" 'FNR == NR { n++; first[n] = $1; last[n] = $2; want[n] = $4; next }
        { at[++m] = $1; parts[m] = $2 }
        END {
            for (i = 1; i <= n; i++) {
                end = i == n ? 9e18 : (mode == "sync" ? first[i + 1] : last[i + 1]); c = 0; got = "-"
                # Synchronous: a request in the very millisecond the next batch started
                # still belongs to this batch (the next one cannot be committed before its
                # first message is processed); asynchronous: the commit of the next batch
                # may come in the millisecond it was processed.
                for (k = 1; k <= m; k++) if (at[k] >= last[i] && (at[k] < end || (mode == "sync" && at[k] == end))) { if (c == 0) got = parts[k]; c++ }
                print i, c, got, want[i]
            }
        }' "$BATS_TEST_TMPDIR/batches" "$BATS_TEST_TMPDIR/requests"
}

# A batch (not the last) whose window holds more than one request: committed more often.
batches_more_often() { batch_windows "$1" | awk -v n="$N_BATCHES" '$1 < n && $2 > 1 { print; exit }'; }

# The first batch whose one commit left out some of its partitions (its offsets right for
# the partitions it has): "Batch i needed ...; the program committed ...".
batch_left_out() { # sync|async
    batch_windows "$1" | awk '$2 >= 1 && $3 != $4 {
            ng = split($3, g, ","); nw = split($4, w, ","); for (k = 1; k <= nw; k++) want[w[k]] = 1
            sub_ok = ng < nw; for (k = 1; k <= ng; k++) if (!(g[k] in want)) sub_ok = 0
            delete want
            if (sub_ok) { printf "Batch %d needed (partition:next offset) %s; the program committed %s.\n", $1, $4, $3; exit } }'
}

# Who made the request N: "program" (and how), or "librdkafka" (and when).
request_by() { field "$(facts request "n=$1")" by; }

# The cause, then the evidence, of one finding line.
explain_finding() {
    local line=$1 kind p n req by close msg
    kind=$(field "$line" kind) p=$(field "$line" partition) n=$(field "$line" offset)
    req=$(field "$line" request)
    if [ -n "$req" ]; then
        by=$(request_by "$req")
        close=$(field "$(facts request "n=$req")" close)
    fi
    msg=$(field "$line" message)
    case "$kind" in
    before-processing)
        if [ "$by" = librdkafka ] && [ "$(setting enable.auto.offset.store)" = false ]; then
            echo "librdkafka's auto-commit committed an offset past a message still being processed: it commits what the program stored, so the program stored an offset beyond the messages it had processed."
        elif [ "$by" = librdkafka ]; then
            echo "librdkafka's auto-commit (enable.auto.commit) committed a message that was still being processed: librdkafka stores each offset when it hands the message over (enable.auto.offset.store), before your code has processed it."
        else
            echo "The program committed a message before it was processed: that is at-most-once, and a crash in between loses the message."
        fi
        echo "The broker recorded partition $p offset $n while $msg (offset $(field "$line" message_offset)) was still in hand$([ "$(field "$line" early_ms)" -gt 0 ] 2>/dev/null && echo ": it finished $(field "$line" early_ms) ms later")." ;;
    beyond)
        echo "A commit went past the messages received: the committed offset must be the processed message's offset + 1, no further."
        echo "The broker recorded partition $p offset $n, but offset $(field "$line" message_offset) had not been delivered yet." ;;
    own-offset)
        echo "The program committed a message's own offset instead of offset + 1, the next offset to read: a restart would process that message again."
        echo "The broker recorded partition $p offset $n after the message at offset $(field "$line" processed_up_to) was processed." ;;
    behind)
        echo "The program committed an offset below what it had already processed on that partition: each partition's commit must be its highest processed offset + 1."
        echo "The broker recorded partition $p offset $n after offsets up to $(field "$line" processed_up_to) were processed." ;;
    wrong-partition)
        echo "The program committed on one partition the offset of a message from another partition: each offset belongs to its own partition."
        echo "The broker recorded partition $p offset $n: the offset + 1 of $msg, which came from partition $(field "$line" message_partition)." ;;
    auto-commit)
        # Blame the setting only when the program's settings (the probe) show it on.
        if [ "$(setting enable.auto.commit "$([ "$(field "$line" phase)" = rerun ] && echo 2 || echo 1)")" = false ]; then
            echo "A commit reached the broker that no call of the program asked for, though enable.auto.commit is off: the probe did not see the call that made it (a commit from a thread or a function it does not watch)."
        elif [ "$close" = 1 ]; then
            echo "librdkafka committed by itself when the consumer closed: enable.auto.commit is still on, so close() commits the offsets librdkafka stored."
        else
            echo "librdkafka's auto-commit timer committed by itself: enable.auto.commit is still on, so the broker's record mixes its commits with the program's."
        fi
        echo "The broker recorded $(field "$(facts request "n=$req")" parts) (partition:offset) at +$(rel_ms "$(field "$line" at)") ms; the program made no call for it." ;;
    async)
        echo "The program's commit did not wait for the broker's answer (asynchronous): it carries on as if committed, and a crash or an error then goes unnoticed."
        echo "Request $req ($(field "$line" fn)) was asynchronous." ;;
    commit-failed)
        if [ "$(field "$line" fn)" = offsets_store ] && [ "$(field "$line" err)" = _INVALID_ARG ]; then
            echo "librdkafka refused the program's stores (_INVALID_ARG): it still stores every offset by itself as it hands the message over (enable.auto.offset.store is on), and then refuses stores from the program."
            echo "The program's call offsets_store returned _INVALID_ARG."
            return
        fi
        echo "A commit failed: $(field "$line" err)$( [ "$(field "$line" failed)" != - ] && echo " (per partition: $(field "$line" failed))")."
        echo "The program's call $(field "$line" fn) returned it." ;;
    store-before-processing)
        echo "The program stored an offset before the message was processed: the next automatic commit can then lose it."
        echo "It stored partition $p offset $n while $msg was still in hand." ;;
    store-wrong-partition)
        echo "The program stored on one partition the offset of a message from another partition: each offset belongs to its own partition."
        echo "It stored partition $p offset $n: the offset + 1 of $msg, which came from partition $(field "$line" message_partition)." ;;
    store-beyond)
        echo "The program stored an offset past the message it had processed: store that message's offset + 1, no further, or the next automatic commit covers a message not processed yet."
        echo "It stored partition $p offset $n, but offset $(field "$line" message_offset) had not been processed." ;;
    store-own-offset)
        echo "The program stored a message's own offset instead of offset + 1: the stored offset is the next one to read."
        echo "It stored partition $p offset $n after processing offset $(field "$line" processed_up_to)." ;;
    store-*)
        echo "The program stored an offset that does not follow the processed message (${kind#store-})."
        echo "It stored partition $p offset $n." ;;
    rerun-start)
        echo "The rerun did not resume at the offset the broker had committed."
        echo "Partition $p: the rerun started at offset $(field "$line" started), the broker had $(field "$line" committed) committed." ;;
    *)  echo "Unexpected: $line" ;;
    esac
}
