#!/usr/bin/env bats
# Step 06: asynchronous commits, their results, and what goes wrong. Judged from the
# broker's record of the group's commits (build/tools/commits) together with the
# program's started/processed/committed/commit-failed lines.
#
# The last scenario breaks the program's connections to the broker for 1.5 s (the probe's
# WORKBOOK_FAULT=blackout); the fault suite kills a broker under this step too.

STEP=06_async_commit

setup_file() {
    load test_helper/common
    workbook_setup_file
}

setup() {
    load test_helper/common
}

teardown() {
    [ -z "${OTHER_PID:-}" ] || kill -KILL "$OTHER_PID" 2>/dev/null || true
    workbook_teardown
}

# ------------------------------------------------------------------ judging (step 06)

# What the step must do, when it commits nothing of its own.
HOW="after processing each batch, commit it asynchronously: its result comes to the commit callback"

# The mistakes an asynchronous batch commit can make, in the order their causes are named.
# (Asynchronous requests are the point here.)
WRONG=(wrong-partition behind own-offset beyond before-processing auto-commit)

# "partition offset" of every line of kind WORD (committed, commit-failed), sorted.
reported() { events "$1" "$2" | awk '{print $1, $2}' | sort; }

# Commits the program reported as done that the broker never recorded: a failed commit
# reported as a success. Prints them (nothing when all are in the broker's record).
reported_not_recorded() { # RUN.out COMMITS
    comm -23 <(reported committed "$1" | uniq) <(awk '{print $1, $2}' "$2" | sort -u)
}

# What the broker recorded that the program never reported (neither line): a result the
# callback did not hear or did not print.
recorded_not_reported() { # RUN.out COMMITS
    comm -23 <(awk '{print $1, $2}' "$2" | sort -u) <(reported committed "$1" | uniq)
}

# The error names of the commit-failed lines, one per line.
failed_names() { awk '$1 == "commit-failed" { for (i = 2; i <= NF; i++) if ($i ~ /^error=/) print substr($i, 7) }' "$1" | sort -u; }

# Fails unless every `committed` line matches a commit the broker recorded.
expect_committed_lines_true() { # RUN.out COMMITS
    local bad
    bad=$(reported_not_recorded "$1" "$2")
    [ -z "$bad" ] || fail "$(printf 'The program printed `committed` for offsets the broker never recorded (partition offset):\n%s\nA commit that failed was reported as a success. In the commit callback each partition has its own result: check every partition'"'"'s err, and print step_commit_failed() for those that failed.\n%s' "$bad" "$(hint_for $STEP)")"
}

# Every order 1..COUNT processed in the given files (the runs of a scenario).
expect_none_lost() { # COUNT WHY FILES...
    local count=$1 why=$2 lost; shift 2
    events processed "$@" >"$BATS_TEST_TMPDIR/processed"
    lost=$(missing_values "$count" "$BATS_TEST_TMPDIR/processed")
    [ -z "$lost" ] || fail "Expected every order processed at least once by the end; never processed: $(echo $lost). $why $(hint_for $STEP)"
}

# The program's commit calls that the broker kept in part: calls the probe refused for
# partition P ("fault refuse-partition" lines) that listed others too, where the broker
# recorded another partition of the call but, by then, not P's offset. Prints their
# offsets ("partition:offset,...").
partial_calls() { # RUN.probe COMMITS P
    awk -v p="$3" 'FNR == NR { n++; rp[n] = $1; ro[n] = $2; rt[n] = $3; next }
        $1 == "fault" && $2 == "refuse-partition" {
            o = ""; for (i = 3; i <= NF; i++) if ($i ~ /^offsets=/) o = substr($i, 9)
            m = split(o, parts, ","); mine = ""
            for (k = 1; k <= m; k++) { split(parts[k], po, ":"); if (po[1] == p) mine = po[2] }
            if (mine == "" || m < 2) next
            kept = ""
            for (k = 1; k <= m; k++) { split(parts[k], po, ":"); if (po[1] == p) continue
                for (j = 1; j <= n; j++) if (rp[j] == po[1] && ro[j] == po[2] && (kept == "" || rt[j] < kept)) kept = rt[j] }
            if (kept == "") next
            for (j = 1; j <= n; j++) if (rp[j] == p && ro[j] == mine && rt[j] <= kept) next
            print o }' "$2" "$1" 2>/dev/null
}

# The committed lines (partition offset) printed before the broker had recorded that
# offset (within 500 ms, the broker stamping each commit as it appends it): a failed
# commit reported as a success, whatever a later commit did.
committed_before_recorded() { # RUN.out COMMITS
    events committed "$1" | awk -v skew="${CLOCK_SKEW_MS:-0}" '
        FNR == NR { k = $1 " " $2; t = $3 - skew; if (!(k in at) || t < at[k]) at[k] = t; next }
        { k = $1 " " $2; if (!(k in at) || at[k] > $NF + 500) print k }' "$2" - | sort -u
}

# The commit-failed lines (partition offset) of partitions other than P whose offset the
# broker did record: commits it kept, reported as failed. Left out: one that a later commit
# of the same partition had already overtaken when the line was printed (asked then, the
# broker held the later offset), and those printed once the consumer was closing (the probe's
# close call): the group no longer answers then, and "failed" is all a program can say.
kept_reported_failed() { # RUN.out COMMITS P RUN.probe
    local closing
    closing=$(sed -n 's/^call fn=close .* begin=\([0-9]*\).*/\1/p' "$4" 2>/dev/null | head -n 1)
    events commit-failed "$1" | awk -v p="$3" -v skew="${CLOCK_SKEW_MS:-0}" -v closing="${closing:-0}" '
        FNR == NR { rec[$1 " " $2] = 1; n[$1]++; off[$1, n[$1]] = $2 + 0; at[$1, n[$1]] = $3 - skew; next }
        closing > 0 && $NF + 0 >= closing { next }
        $1 != p && (($1 " " $2) in rec) {
            overtaken = 0
            for (k = 1; k <= n[$1]; k++) if (off[$1, k] > $2 + 0 && at[$1, k] <= $NF + 0) overtaken = 1
            if (!overtaken) print $1, $2 }' "$2" - | sort -u
}

# One run of the second-member scenario on a fresh topic and group: member A starts on 60
# orders (300 ms a batch); once it has processed 5, member B joins; both run to the end of
# their partitions (a.*, b.*).
second_member_attempt() {
    local d=$BATS_TEST_TMPDIR
    fresh_topic 60
    start_step $STEP "$d/a" -p 300 --crash-at 0 --idle-exit 3 --exit-at-end
    OTHER_PID=$STEP_PID
    wait_for_lines "$d/a.out" processed 5
    STEP_PID=
    run_step $STEP "$d/b" -p 300 --crash-at 0 --idle-exit 3 --exit-at-end
    expect_exit 0 "at the end of its partitions (the second member)" "$d/b"
    STEP_STATUS=0
    wait "$OTHER_PID" || STEP_STATUS=$?
    OTHER_PID=
    expect_exit 0 "at the end of its partitions (the first member)" "$d/a"
}

# ------------------------------------------------------------------ scenarios

@test "06: one asynchronous commit per batch, after it, each partition's result reported" {
    fresh_topic 28
    d=$BATS_TEST_TMPDIR
    run_step $STEP "$d/run" -p 300 --crash-at 0 --idle-exit 2
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --idle-exit" "$d/run"
    analyze_runs 28 "$d/run"
    expect_own_commits $STEP batch "$HOW"
    [ "$(facts request by=program async=1 | grep -c . || true)" -gt 0 ] || fail "$(printf '%s\n%s\n%s' \
        "The program's commits all waited for the broker's answer: in this step each batch's commit is asynchronous, and its result comes to a callback." \
        "The probe saw $(summary requests_program) commit request(s), none asynchronous." "$(hint_for $STEP)")"
    expect_batch_commits $STEP async "$d/run.out" "${WRONG[@]}"

    expect_committed_lines_true "$d/run.out" "$d/commits"
    unheard=$(recorded_not_reported "$d/run.out" "$d/commits")
    [ -z "$unheard" ] || fail "$(printf 'The broker recorded these commits (partition offset), but the program printed no `committed` line for them:\n%s\nThe result of an asynchronous commit comes later, to a callback served by rd_kafka_consumer_poll(): register one, and print step_committed() for each partition that succeeded.\n%s' "$unheard" "$(hint_for $STEP)")"
    failed=$(grep -c '^commit-failed ' "$d/run.out" || true)
    [ "$failed" -eq 0 ] || fail "Expected no failed commit in a plain run; saw $failed: $(failed_names "$d/run.out" | tr '\n' ' '). $(hint_for $STEP)"
    note "$N_BATCHES batches, $N_REQUESTS asynchronous commits, every result reported"
}

@test "06: a second member joins mid-run: no order processed by both, none lost" {
    d=$BATS_TEST_TMPDIR
    # The scenario: the second member is given partitions and processes orders from them.
    # On a busy machine the first may have finished before the second joined: then it
    # proved nothing, and runs again (up to 3 times).
    for attempt in 1 2 3; do
        second_member_attempt
        got=$(grep -Ec '^assign fn=(incremental_)?assign .* partitions=[0-9]' "$d/b.probe" 2>/dev/null || true)
        [ "${got:-0}" -gt 0 ] && [ "$(grep -c '^processed ' "$d/b.out")" -gt 0 ] && break
        note "try $attempt: the second member $([ "${got:-0}" -gt 0 ] && echo "got partitions but processed no order" || echo "was given no partition"); again"
        forget_fresh
        got=0
    done
    [ "${got:-0}" -gt 0 ] || fail "$(printf 'In 3 tries the second member never got partitions and processed orders from them, so this test proved nothing: the first member processed %s orders, the second %s. The second'"'"'s stderr ends with:\n%s\nA busy machine can let the first member finish before the second joins: run the check again. If it keeps failing, does the program apply each assignment its rebalance callback gets?\n%s' \
        "$(grep -c '^processed ' "$d/a.out")" "$(grep -c '^processed ' "$d/b.out")" "$(tail -n 3 "$d/b.err")" "$(hint_for $STEP)")"

    events processed "$d/a.out" >"$d/pa"
    events processed "$d/b.out" >"$d/pb"
    both=$(comm -12 <(values "$d/pa" | uniq) <(values "$d/pb" | uniq))
    [ -z "$both" ] || fail "$(printf 'Expected each order processed by one member only; processed by both: %s.\nWhen partitions are revoked, the member must commit what it processed, synchronously, before it lets them go, and drop the messages of those partitions it holds but has not processed: the new owner starts at the committed offset.\n%s' "$(echo $both)" "$(hint_for $STEP)")"
    rerun=()
    if [ -n "$(missing_values 60 "$d/pa" "$d/pb")" ]; then
        run_step $STEP "$d/rerun" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end
        rerun=("$d/rerun.out")
    fi
    expect_none_lost 60 "Their offsets were committed by a member that never processed them (a commit at revoke must cover only what was processed)." "$d/a.out" "$d/b.out" "${rerun[@]}"
    note "member A processed $(wc -l <"$d/pa"), member B $(wc -l <"$d/pb")$( [ ${#rerun[@]} -eq 0 ] || echo ", the rerun $(grep -c '^processed ' "$d/rerun.out")")"
}

@test "06: put out of the group, the refused commit is reported by name, and the program carries on" {
    fresh_topic 12
    d=$BATS_TEST_TMPDIR
    # 1.5 s of work is more than max.poll.interval.ms: librdkafka leaves the group, and
    # the broker refuses the batch's commit. --max 6: one batch, then one more after rejoining.
    run_step $STEP "$d/run" -p 1500 --crash-at 0 --idle-exit 2 --max 6 \
        -X session.timeout.ms=1000 -X heartbeat.interval.ms=300 -X max.poll.interval.ms=1000
    expect_some_processed "$d/run.out"
    expect_exit 0 "after --max 6: a refused commit is reported, and the program carries on (the next commit that succeeds covers it)" "$d/run"
    names=$(failed_names "$d/run.out")
    if [ -z "$names" ]; then
        analyze_runs 12 "$d/run"
        expect_own_commits $STEP batch "$HOW"
        fail "$(printf 'Expected the refused commit reported per partition on stdout (step_commit_failed: `commit-failed partition=P offset=O error=NAME`); there was none. Its stderr ends with:\n%s\nThe commit callback gets one err for the request and one per partition: report each partition.\n%s' "$(tail -n 4 "$d/run.err")" "$(hint_for $STEP)")"
    fi
    echo "$names" | grep -Eqv '^(UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS|_STATE|_ASSIGNMENT_LOST|_MAX_POLL_EXCEEDED|_WAIT_COORD)$' &&
        fail "Unexpected error names in commit-failed lines: $(echo $names). $(hint_for $STEP)"
    broker_commits >"$d/commits"
    expect_committed_lines_true "$d/run.out" "$d/commits"
    after=$(awk '/^commit-failed / { seen = 1 } seen && /^started / { n++ } END { print n + 0 }' "$d/run.out")
    assigned=$(grep -c '^% assigned' "$d/run.err" || true)
    [ "$after" -gt 0 ] && [ "$assigned" -ge 2 ] || fail "Expected the program to rejoin and go on after the refused commit; it started $after message(s) after it and was assigned partitions $assigned time(s). Do not stop on a failed commit: librdkafka rejoins the group by itself on the next poll. $(hint_for $STEP)"

    run_step $STEP "$d/rerun" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end
    expect_exit 0 "at the end of the topic (the rerun, --exit-at-end)" "$d/rerun"
    expect_none_lost 12 "" "$d/run.out" "$d/rerun.out"
    note "refused with: $(echo $names); rejoined ($assigned assignments) and carried on"
}

@test "06: the connection to the broker breaks mid-run and comes back: failed commits reported, nothing lost" {
    d=$BATS_TEST_TMPDIR
    fresh_topic 20
    # The probe breaks the program's connections at its 2nd commit, for 1.5 s: every
    # send and receive fails, every connect is refused, as when the broker goes away
    # and comes back. Longer than the session (1 s here): the group puts the
    # consumer out, and it must rejoin and carry on. (The fault suite kills the broker
    # itself, kill -9 of its JVM, under this step too.)
    # All 20 orders may be processed inside the outage (they were fetched before it), so
    # the test writes 10 more once the connection is back: the program then has work to
    # fetch, process and commit after it, whatever it did during it. After an outage
    # librdkafka waits up to reconnect.backoff.max.ms (10 s by default) between its tries
    # to reconnect: at most 1 s here, and 4 quiet seconds before the run ends by itself.
    WORKBOOK_FAULT=blackout:2:1500 start_step $STEP "$d/run" -p 500 --crash-at 0 --idle-exit 4 \
        -X session.timeout.ms=1000 -X heartbeat.interval.ms=300 -X reconnect.backoff.max.ms=1000
    local deadline=$((SECONDS + RUN_TIMEOUT)) back=
    until back=$(sed -n 's/^fault blackout .*end=\([0-9]*\).*/\1/p' "$d/run.probe" 2>/dev/null) && [ -n "$back" ]; do
        kill -0 "$STEP_PID" 2>/dev/null && [ $SECONDS -lt $deadline ] || break
        sleep 0.05
    done
    if [ -n "$back" ]; then
        while [ "$(now_ms)" -le "$back" ]; do sleep 0.05; done
        run -0 timeout 30 "$TOOLS/populate" -b "$BROKER" -t "$TOPIC" -n 10 --first 21 --force
    fi
    STEP_STATUS=0
    wait "$STEP_PID" || STEP_STATUS=$?
    STEP_PID=
    [ "$STEP_STATUS" -ne 124 ] && [ "$STEP_STATUS" -ne 137 ] ||
        fail "$(printf '%s did not end within %ss (it should stop after --idle-exit): it hangs.\nLast lines of its stderr:\n%s' "$STEP" "$RUN_TIMEOUT" "$(tail -n 5 "$d/run.err")")"
    expect_exit 0 "after --idle-exit, once the connection was back" "$d/run"
    if ! grep -q '^fault blackout' "$d/run.probe" 2>/dev/null; then
        analyze_runs 20 "$d/run"
        expect_own_commits $STEP batch "$HOW"
        fail "The connections never broke: they break at the program's 2nd commit call (rd_kafka_commit), and it made fewer. $(hint_for $STEP)"
    fi
    broker_commits >"$d/commits"
    names=$(failed_names "$d/run.out")
    [ -n "$names" ] || fail "$(printf 'Expected the commits that failed while the connection was down to be reported (commit-failed lines); there were none. Its stderr ends with:\n%s\n%s' "$(grep -v '^%[0-9]|' "$d/run.err" | tail -n 4)" "$(hint_for $STEP)")"
    expect_committed_lines_true "$d/run.out" "$d/commits"
    # Once the connection is back, commits land again, and the program says so.
    [ -n "$(awk -v t="$back" '$1 == "committed" { for (i = 2; i <= NF; i++) if ($i ~ /^at=/ && substr($i, 4) + 0 > t) print }' "$d/run.out")" ] ||
        fail "$(printf 'Expected commits to succeed again once the connection was back (committed lines after it); there were none. Do not stop on a failed commit, and keep serving the commit callback: librdkafka reconnects by itself.\n%s' "$(hint_for $STEP)")"
    rerun=()
    if [ -n "$(missing_values 30 <(events processed "$d/run.out"))" ]; then
        run_step $STEP "$d/rerun" -p 20 --crash-at 0 --idle-exit 2 --exit-at-end
        rerun=("$d/rerun.out")
    fi
    expect_none_lost 30 "" "$d/run.out" "${rerun[@]}"
    note "failed while the connection was down: $(echo $names); $(grep -c '^commit-failed ' "$d/run.out") failed, $(grep -c '^committed ' "$d/run.out") committed"
}

# A commit the broker refuses for one partition only, and keeps for the others: the probe
# (WORKBOOK_FAULT=refuse-partition:1) gives partition 1 of each commit call commit metadata
# larger than the broker takes (OFFSET_METADATA_TOO_LARGE). 3 orders a partition, batches
# of up to 15: the first batch holds every partition, and its one commit is refused in
# part. librdkafka then gives every partition of the request the request's error, even
# those the broker kept: only the broker can say which it kept.
@test "06: a commit refused for one partition only: that one reported failed, the others committed, as the broker recorded" {
    d=$BATS_TEST_TMPDIR
    for attempt in 1 2 3; do
        fresh_topic 9
        WORKBOOK_FAULT=refuse-partition:1 run_step $STEP "$d/run" -n 15 -p 50 --crash-at 0 --idle-exit 2
        expect_some_processed "$d/run.out"
        expect_exit 0 "after --idle-exit: a partly refused commit is reported, and the program carries on" "$d/run"
        broker_commits >"$d/commits"
        # The scenario: a commit call listed partition 1 with others, and the broker kept
        # some of them but not partition 1.
        partial=$(partial_calls "$d/run.probe" "$d/commits" 1)
        [ -n "$partial" ] && break
        analyze_runs 9 "$d/run"
        expect_own_commits $STEP batch "$HOW"
        note "try $attempt: no commit call listed partition 1 with another partition, or the broker kept partition 1; again"
        forget_fresh
        partial=
    done
    [ -n "$partial" ] || fail "$(printf 'In 3 tries no commit was refused for partition 1 alone, so this test proved nothing: the refusal applies to each rd_kafka_commit() call whose list holds partition 1 and another partition (the probe saw %s, %s of them refused for partition 1). Commit each batch, all its partitions in one request.\n%s' \
        "$(grep -c '^call fn=commit' "$d/run.probe" 2>/dev/null) commit call(s)" "$(grep -c '^fault refuse-partition' "$d/run.probe" 2>/dev/null)" "$(hint_for $STEP)")"

    lied=$(committed_before_recorded "$d/run.out" "$d/commits")
    [ -z "$lied" ] || fail "$(printf 'The broker refused partition 1 of the commit and kept the others; the program printed `committed` for offsets the broker had not recorded (partition offset: %s).\nOn an error, librdkafka gives every partition of the request an error, the kept ones too: ask the broker which offsets it holds (rd_kafka_committed), as step 03 did.\n%s' \
        "$(echo $lied)" "$(hint_for $STEP)")"
    [ -n "$(events commit-failed "$d/run.out" | awk '$1 == 1')" ] || fail "$(printf 'The broker refused partition 1 of the commit (OFFSET_METADATA_TOO_LARGE); the program printed no `commit-failed partition=1` line. Its stderr ends with:\n%s\n%s' \
        "$(tail -n 3 "$d/run.err")" "$(hint_for $STEP)")"
    wrong=$(kept_reported_failed "$d/run.out" "$d/commits" 1 "$d/run.probe")
    [ -z "$wrong" ] || fail "$(printf 'The program reported as failed commits the broker kept (partition offset: %s): a partial failure was reported as a failure of every partition.\nIn librdkafka 2.0.2 (and later) the commit callback gives every partition of a partly failed request the request'"'"'s error, even those the broker kept: on an error, ask the broker what it holds (rd_kafka_committed), as step 03 did.\n%s' \
        "$(echo $wrong)" "$(hint_for $STEP)")"
    expect_committed_lines_true "$d/run.out" "$d/commits"
    [ -n "$(events committed "$d/run.out")" ] || fail "$(printf 'The broker kept the other partitions of the partly refused commit; the program printed no `committed` line.\n%s' "$(hint_for $STEP)")"
    note "refused for partition 1 in $(echo "$partial" | wc -l) call(s); $(grep -c '^commit-failed ' "$d/run.out") reported failed, $(grep -c '^committed ' "$d/run.out") committed, as the broker recorded"
}
