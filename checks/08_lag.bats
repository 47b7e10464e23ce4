#!/usr/bin/env bats
# Step 08: lag monitor. Judged from the broker (build/tools/lag for the group's committed
# offsets and log ends after a run, build/tools/commits for every commit it recorded)
# together with the program's lines:
#   lag partition=P committed=C end=E lag=N at=MS   (C < 0: nothing committed yet)
#   % WARNING: the last successful commit is N ms old and lag is M   (stderr)

STEP=08_lag

setup_file() {
    load test_helper/common
    workbook_setup_file
}

setup() {
    load test_helper/common
}

teardown() {
    workbook_teardown
}

# ------------------------------------------------------------------ judging (step 08)

# The lag lines of a run: "partition committed end lag at line_number".
lag_lines() {
    awk '$1 == "lag" {
        p = c = e = l = a = "";
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=");
            if (kv[1] == "partition") p = kv[2]; else if (kv[1] == "committed") c = kv[2];
            else if (kv[1] == "end") e = kv[2]; else if (kv[1] == "lag") l = kv[2];
            else if (kv[1] == "at") a = kv[2];
        }
        print p, c, e, l, a, NR }' "$1"
}

# What the broker says now (build/tools/lag): "partition committed end lag", with -1 for
# the tool's "-" (nothing committed).
broker_lag() {
    "$TOOLS/lag" -b "$BROKER" -g "$GROUP" -t "$TOPIC" |
        awk 'NR > 1 { print $3, ($4 == "-" ? -1 : $4), $5, ($6 == "-" ? $5 : $6) }'
}

# Each lag line against what the broker could have said at that moment: prints the first
# problem (nothing when every line is right).
#  - end: the partition's log end; nothing is produced during a run, so it is the number
#    of orders in the partition (ENDS: "partition committed end lag", before the run).
#  - lag = end - committed (end when nothing is committed), never below 0.
#  - committed: an offset the broker had recorded for the partition by `at`: its latest
#    commit recorded 1 s or more before `at` (none: C < 0), or one recorded during that
#    last second (in flight while the line was being measured).
# Usage: lag_line_problems LAG_LINES COMMITS ENDS
lag_line_problems() {
    awk '
        FILENAME == ARGV[1] { end[$1] = $3; next }
        FILENAME == ARGV[2] { n[$1]++; off[$1, n[$1]] = $2; ts[$1, n[$1]] = $3; next }
        {
            p = $1; c = $2 + 0; e = $3 + 0; l = $4 + 0; at = $5 + 0
            where = sprintf("The line `lag partition=%s committed=%s end=%s lag=%s at=%s`", $1, $2, $3, $4, $5)
            if (!(p in end)) { printf "%s names a partition the topic does not have.", where; exit }
            if (e != end[p]) {
                printf "%s says end=%d, but partition %s holds %d orders, so its log end (high watermark) is %d. end is the offset the next message written to the partition will get.", where, e, p, end[p], end[p]; exit }
            if (l != (c < 0 ? e : e - c) || l < 0) {
                printf "%s: lag must be end - committed (end when nothing is committed), and never below 0.", where; exit }
            base = -1; ok = 0; list = ""
            for (i = 1; i <= n[p]; i++) {
                if (ts[p, i] <= at - 1000) base = off[p, i]
                else if (ts[p, i] <= at && off[p, i] == c) ok = 1
                if (ts[p, i] <= at) list = list (list == "" ? "" : ", ") off[p, i]
            }
            if (ok || (c < 0 && base < 0) || c == base) next
            if (list == "") list = "none"
            if (c < 0)
                printf "%s says nothing is committed for partition %s, but the broker had recorded %d (its commits so far: %s). committed must be the offset the group has committed on the broker, not this process'"'"'s position (how far it has read: nothing, when it has read nothing yet).", where, p, base, list
            else if (c > base)
                printf "%s says committed=%d, but the broker had recorded no such commit for partition %s by then (its commits so far: %s). Is it the consumer'"'"'s position, how far it has read, instead of what the group committed? A failed commit moves the position, not the committed offset.", where, c, p, list
            else
                printf "%s says committed=%d, but the broker had already recorded %d for partition %s a second earlier (its commits so far: %s): an old figure. Read the committed offset when you report.", where, c, base, p, list
            exit
        }' "$3" "$2" "$1"
}

# At least one lag line per partition per second: prints the first partition with none,
# with a gap of 2.5 s or more, or (FROM_MS given) whose first line came 2.5 s or more
# after FROM_MS (when the first message was started).
# Usage: lag_gap_problems LAG_LINES PARTITIONS [FROM_MS]
lag_gap_problems() {
    awk -v parts="$2" -v from="${3:-}" '
        { p = $1; at = $5
          if (!(p in last)) { first[p] = at }
          else if (at - last[p] >= 2500 && !bad) bad = sprintf("partition %s had no lag line for %d ms (between at=%d and at=%d): report every partition once a second, while processing and while idle.", p, at - last[p], last[p], at)
          last[p] = at }
        END {
            for (p = 0; p < parts; p++) {
                if (!(p in last)) { printf "partition %d, assigned to the consumer, never had a lag line: report each assigned partition.", p; exit }
                if (from != "" && first[p] - from >= 2500) { printf "the first lag line for partition %d came %d ms after the first message was started: report once a second from the start.", p, first[p] - from; exit }
            }
            if (bad) print bad
        }' "$1"
}

# The final report: after the program's last commit (its last `committed` or
# `commit-failed` line) each partition must have a lag line, and the last one must say
# exactly what the broker's lag tool said after the program ended. Prints the problem.
# Usage: final_lag_problems OUT BROKER_LAG_AFTER
final_lag_problems() {
    local last_commit
    last_commit=$(awk '$1 == "committed" || $1 == "commit-failed" { n = NR } END { print n + 0 }' "$1")
    lag_lines "$1" | awk -v lc="$last_commit" '
        FILENAME == ARGV[1] { want[$1] = $2 " " $3 " " $4; order[++np] = $1; next }
        { c = ($2 < 0 ? -1 : $2); got[$1] = c " " $3 " " $4; line[$1] = $6 }
        END {
            for (i = 1; i <= np; i++) {
                p = order[i]
                if (!(p in line) || line[p] <= lc) {
                    printf "partition %s had no lag line after the last commit (line %d of the output): after the last batch is committed, report the lag once more, before closing, so that the last lines say where the group stands.", p, lc; exit }
                if (got[p] != want[p]) {
                    split(got[p], g, " "); split(want[p], w, " ")
                    printf "the last lag line for partition %s says committed=%s end=%s lag=%s, but after the program ended the broker said committed=%s end=%s lag=%s (make lag; - is -1 here).", p, g[1], g[2], g[3], w[1], w[2], w[3]; exit }
            }
        }' "$2" -
}

# The program's staleness warnings on stderr: "age_ms lag" per warning.
warnings() {
    sed -n 's/^% WARNING.* \([0-9][0-9]*\) ms old.* lag is \([0-9][0-9]*\).*/\1 \2/p' "$1"
}

# What every run's lag lines must satisfy (there are some; each agrees with the broker's
# record then; the last ones agree with the broker after the run), or fail with the first
# problem. Leaves the lag lines in PREFIX.lags.
# Usage: judge_lag_lines PREFIX ENDS_FILE
judge_lag_lines() {
    local prefix=$1 ends=$2 problem
    lag_lines "$prefix.out" >"$prefix.lags"
    [ -s "$prefix.lags" ] || fail "$(printf '%s\n' \
        "Expected lag lines (lag partition=P committed=C end=E lag=N at=MS) once a second for each assigned partition; the program printed none." \
        "A consumer that only consumes and commits cannot tell whether its commits land: measure, per partition, the offset the group has committed and the log end, and print them with step_lag(). $(hint_for $STEP)")"
    broker_commits >"$prefix.commits"
    problem=$(lag_line_problems "$prefix.lags" "$prefix.commits" "$ends")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    broker_lag >"$prefix.after"
    problem=$(final_lag_problems "$prefix.out" "$prefix.after")
    [ -z "$problem" ] || fail "Expected the last lag lines to match the broker: $problem $(hint_for $STEP)"
}

# The once-a-second rule on a run judged by judge_lag_lines.
# Usage: judge_lag_gaps PREFIX PARTITIONS [FROM_MS]
judge_lag_gaps() {
    local problem
    problem=$(lag_gap_problems "$1.lags" "$2" "${3:-}")
    [ -z "$problem" ] || fail "Expected a lag line per assigned partition at least once a second; $problem $(hint_for $STEP)"
}

# A topic whose partitions differ: partition 0 holds 8 orders, partition 1 none (empty),
# partition 2 holds 3 (populate -P: all to one partition). The lags then differ per
# partition, and a total taken from one partition alone is not the sum. Sets TOPIC, GROUP.
uneven_topic() {
    fresh_topic 0
    run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n 8 -P 0
    run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n 3 -P 2 --force
    FRESH_COUNT=11
}

# The warnings' ages against the run's own length: no commit can be older than the program
# that made it. RUN_MS: the run, launch to end, as the test measured it. A clock-jump fault
# in the probe file (PREFIX.probe) is named when there was one. Prints the problem.
# Usage: warning_age_problems PREFIX RUN_MS
warning_age_problems() {
    local prefix=$1 run_ms=$2 age jump up
    age=$(warnings "$prefix.err" | awk -v max="$run_ms" '$1 > max { print $1; exit }')
    [ -n "$age" ] || return 0
    jump=$(sed -n 's/^fault clock-jump by=\(-\{0,1\}[0-9]*\).*/\1/p' "$prefix.probe" 2>/dev/null | head -n 1)
    # An age of about the jump (give or take the run) was measured across it.
    if [ -n "$jump" ] && [ $(( age - ${jump#-} )) -le "$run_ms" ] && [ $(( ${jump#-} - age )) -le "$run_ms" ]; then
        echo "The warning says the last successful commit is $age ms old, but the program ran only $run_ms ms: its ages are measured on the wall clock, which was set by $jump ms during the run (the probe's clock-jump fault, as NTP or an administrator may do). Measure ages on a monotonic clock (CLOCK_MONOTONIC), which never jumps."
        return 0
    fi
    up=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime 2>/dev/null)
    echo "The warning says the last successful commit is $age ms old, but the program ran only $run_ms ms: the clock of the last successful commit counts from 0, not from the program's start$([ -n "$up" ] && [ "$age" -le "$up" ] && [ "$age" -ge $((up - 600000)) ] && echo " ($age ms is about how long this machine has been up, $up ms: CLOCK_MONOTONIC's 0 is the boot)"). Before the first commit succeeds, count from when the program started: a consumer that never manages to commit is the stalest of all."
}

# Each warning's lag against the program's reports: the lag in a warning is the total over
# every assigned partition, so it must equal the sum of one report's lag lines (the lines a
# report prints together: nothing between them, no partition twice). Prints the problem.
# Usage: warning_lag_problems PREFIX   (PREFIX.lags from judge_lag_lines or lag_lines)
warning_lag_problems() {
    local prefix=$1
    warnings "$prefix.err" | awk '
        FILENAME == ARGV[1] {
            # A report: consecutive lines, each partition once (two reports in a row while
            # idle are told apart by a partition coming again).
            if (!n || $6 != prev + 1 || ($1 in seen)) { n++; split("", seen) }
            seen[$1] = 1
            total[n] += $4; parts[n] = parts[n] (parts[n] == "" ? "" : ", ") "partition " $1 ": " $4
            lags[n, $4] = $1; prev = $6; next }
        {
            m = $2; ok = 0
            for (i = 1; i <= n; i++) if (total[i] == m) ok = 1
            if (ok) next
            one = ""
            for (i = 1; i <= n && one == ""; i++) if ((i, m) in lags) one = " It is the lag of partition " lags[i, m] " alone."
            printf "Expected the lag in each warning to be the total over all assigned partitions (their sum), not one partition'"'"'s: a warning says lag is %d, but no report'"'"'s lag lines add up to that; the last report says %s (total %d).%s", m, parts[n], total[n], one
            exit
        }' "$prefix.lags" -
}

# A run in which no commit ever succeeds, on uneven_topic: 2.5 s of work per batch, longer
# than max.poll.interval.ms, so the group puts the consumer out during each batch and
# refuses the batch's commit. Proven from the broker: it recorded no commit for the group;
# when one landed all the same (a busy machine), the scenario runs again, up to 3 times.
# Sets RUN_MS (launch to end). Extra environment for the program: FAULT (WORKBOOK_FAULT).
# Usage: stalled_run PREFIX
stalled_run() {
    local prefix=$1 attempt t0
    for attempt in 1 2 3; do
        uneven_topic
        broker_lag >"$prefix.ends"
        [ "$(awk '{ printf "%s:%s ", $1, $3 }' "$prefix.ends")" = "0:8 1:0 2:3 " ] ||
            fail "The test's topic should hold 8, 0 and 3 orders in partitions 0, 1 and 2; the broker says: $(tr '\n' ';' <"$prefix.ends")"
        t0=$(now_ms)
        WORKBOOK_FAULT=${FAULT:-} run_step $STEP "$prefix" -p 2500 --max 10 --commit-stale-ms 1500 \
            -X session.timeout.ms=1000 -X heartbeat.interval.ms=300 -X max.poll.interval.ms=1000
        RUN_MS=$(( $(now_ms) - t0 ))
        [ -n "$(broker_commits)" ] || return 0
        note "try $attempt: a commit landed all the same (the broker recorded: $(broker_commits | tr '\n' ';')); again"
        forget_fresh
    done
    fail "In 3 tries a commit always landed, so this test proved nothing (the group should refuse every commit of a consumer that works longer than max.poll.interval.ms): run the check again."
}

# ------------------------------------------------------------------ tests

@test "08: lag lines once a second, each what the broker had then, and a final report after the last commit" {
    local d=$BATS_TEST_TMPDIR first t0 problem
    fresh_topic 30
    broker_lag >"$d/ends"
    t0=$(now_ms)
    run_step $STEP "$d/run" -p 400 --max 22 --commit-stale-ms 60000
    problem=$(warning_age_problems "$d/run" $(( $(now_ms) - t0 )))
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --max 22" "$d/run"
    first=$(events started "$d/run.out" | awk 'NR == 1 { print $4 }')
    judge_lag_lines "$d/run" "$d/ends"
    judge_lag_gaps "$d/run" 3 "$first"
    [ -z "$(warnings "$d/run.err")" ] || fail "Expected no warning: every commit landed and --commit-stale-ms was 60000; the program warned: $(grep -m1 '^% WARNING' "$d/run.err"). $(hint_for $STEP)"
    note "$(wc -l <"$d/run.lags") lag lines; the last ones: $(tail -n 3 "$d/run.lags" | awk '{printf "p%s %s/%s ", $1, $2, $3}')"
}

@test "08: a caught-up consumer: lag 0 from the group's committed offsets, and no warning however old its last commit" {
    local d=$BATS_TEST_TMPDIR
    fresh_topic 12
    broker_lag >"$d/ends"
    # A first run commits every order...
    run_step $STEP "$d/first" -p 20 --idle-exit 1
    expect_exit 0 "after --idle-exit" "$d/first"
    [ "$(broker_lag | awk '$4 != 0' | wc -l)" -eq 0 ] || fail "Expected the first run to process and commit all 12 orders, as in step 03; the broker says: $(broker_lag | tr '\n' ';'). $(hint_for $STEP)"
    # ...so the second has nothing to do, nothing to commit, and must not warn about it.
    run_step $STEP "$d/idle" --idle-exit 3 --commit-stale-ms 500
    expect_exit 0 "after --idle-exit" "$d/idle"
    judge_lag_lines "$d/idle" "$d/ends"
    judge_lag_gaps "$d/idle" 3
    [ -z "$(warnings "$d/idle.err")" ] || fail "Expected no warning from a consumer with lag 0: it has nothing to commit, so an old last commit is no stall. It warned: $(grep -m1 '^% WARNING' "$d/idle.err"). Warn only while lag > 0. $(hint_for $STEP)"
    note "idle rerun: $(wc -l <"$d/idle.lags") lag lines, all lag 0, no warning"
}

@test "08: commits the group refuses: each reported, the consumer goes on, and the stale-commit warning fires" {
    local d=$BATS_TEST_TMPDIR n w problem
    stalled_run "$d/run"
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --max 10: a refused commit is reported, and the consumer goes on" "$d/run"
    grep -Eq '^commit-failed .*error=[A-Z_]+' "$d/run.out" || grep -i 'commit' "$d/run.err" | grep -Eq '(UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS|_STATE|_ASSIGNMENT_LOST|_MAX_POLL_EXCEEDED)' ||
        fail "Expected the refused commits reported with librdkafka's name for the error (step_commit_failed, or rd_kafka_err2name on stderr); stdout has no commit-failed line and stderr ends with: $(tail -n 4 "$d/run.err")"
    n=$(grep -c '^started ' "$d/run.out")
    [ "$n" -gt 5 ] || fail "Expected the consumer to go on after a refused commit (--max 10 takes two batches); it started $n messages. $(hint_for $STEP)"
    problem=$(warning_age_problems "$d/run" "$RUN_MS")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    w=$(warnings "$d/run.err")
    [ -n "$w" ] || fail "$(printf '%s\n' \
        "Expected '% WARNING: the last successful commit is N ms old and lag is M' on stderr: no commit succeeded in the whole run (each was refused; the broker recorded none), lag stayed above 0, and --commit-stale-ms was 1500. The program never warned." \
        "Does the clock of the last commit move only when a commit succeeds, and start when the program does? $(hint_for $STEP)")"
    echo "$w" | awk '$1 < 1500 || $2 <= 0 { exit 1 }' ||
        fail "Expected each warning to name an age above --commit-stale-ms (1500) and a lag above 0; they said (age lag): $(echo $w). $(hint_for $STEP)"
    # (No once-a-second rule here: the consumer spends 2.5 s at a time in its work.)
    judge_lag_lines "$d/run" "$d/run.ends"
    problem=$(warning_lag_problems "$d/run")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    note "$(grep -c '^commit-failed ' "$d/run.out") refused commit(s), none recorded; partitions of 8, 0 and 3 orders; warning: $(grep -m1 '^% WARNING' "$d/run.err")"
}

@test "08: the wall clock set back an hour mid-run: the stale-commit warning still fires (ages on a monotonic clock)" {
    local d=$BATS_TEST_TMPDIR problem
    # As above, and at the first assignment the program's wall clock (time(), gettimeofday(),
    # CLOCK_REALTIME) jumps back one hour (the probe's clock-jump fault): an age measured
    # on it goes negative, and the stalled commits never look stale.
    FAULT=clock-jump:-3600000 stalled_run "$d/run"
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --max 10: a refused commit is reported, and the consumer goes on" "$d/run"
    grep -q '^fault clock-jump ' "$d/run.probe" ||
        fail "The wall clock never jumped (no 'fault clock-jump' line from the probe: WORKBOOK_FAULT did not reach the program, or it never got partitions), so this test proved nothing."
    problem=$(warning_age_problems "$d/run" "$RUN_MS")
    [ -z "$problem" ] || fail "$problem $(hint_for $STEP)"
    [ -n "$(warnings "$d/run.err")" ] || fail "$(printf '%s\n' \
        "The program never warned once its wall clock was set back an hour: ages measured on the wall clock (time(), gettimeofday(), CLOCK_REALTIME) go negative then. Measure them on a monotonic clock (CLOCK_MONOTONIC), which never jumps." \
        "Expected '% WARNING: the last successful commit is N ms old and lag is M' on stderr: no commit succeeded (the broker recorded none), lag stayed above 0, --commit-stale-ms was 1500, and at the first assignment the probe set the program's wall clock back an hour (its clock-jump fault, as NTP or an administrator may do). $(hint_for $STEP)")"
    note "clock set back 1 h at the first assignment; warning: $(grep -m1 '^% WARNING' "$d/run.err")"
}
