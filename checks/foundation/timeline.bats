#!/usr/bin/env bats
# checks/foundation/timeline.bats - the commit timeline: build/tools/timeline (tools/analysis/timeline.c)
# and `make timeline` (scripts/timeline.sh).
#
# Most tests draw hand-written runs whose answer is known: which offsets were processed,
# which commit covered which, what must come out replayed or lost. One test runs the step
# 02 reference solution against the broker (started if it is not up) and checks the
# picture's numbers against the broker's own record of commits.
#
#   bats checks/foundation/timeline.bats

setup_file() {
    load ../test_helper/common
    make -s -C "$ROOT" tools >/dev/null
}

setup() {
    load ../test_helper/common
    TIMELINE=$TOOLS/timeline
    cd "$BATS_TEST_TMPDIR" || return 1
}

# Is FILE well-formed XML? (xmllint: libxml2-utils, which make deps installs.)
well_formed() { xmllint --noout "$1"; }

# Scenario "auto-commit" (times in ms; the crash comes after the last line, at ~1800):
#   partition 0: run 1 processes 0-2, has 3 in hand; commits of 2 (t=1450) and 4 (t=1750,
#                WHILE 3 is in hand, after run 1's last line): 3 is lost. The rerun
#                starts at 4 and processes 4-5, then commits 6.
#   partition 1: run 1 processes 0-3, but only 2 was committed: the rerun starts at 2 and
#                processes 2-4: 2 and 3 are replayed. It commits 5.
#   partition 2: run 1 never got there and nothing was committed: the rerun starts at 0
#                (auto.offset.reset), processes 0-1 and commits 2.
autocommit_scenario() {
    cat >run1.out <<'EOF'
% assigned: t[0] t[1] t[2]
started partition=0 offset=0 value=Order-1 at=1000
processed partition=0 offset=0 value=Order-1 at=1100
started partition=1 offset=0 value=Order-2 at=1100
processed partition=1 offset=0 value=Order-2 at=1200
started partition=0 offset=1 value=Order-4 at=1200
processed partition=0 offset=1 value=Order-4 at=1300
started partition=1 offset=1 value=Order-5 at=1300
processed partition=1 offset=1 value=Order-5 at=1400
started partition=0 offset=2 value=Order-7 at=1400
processed partition=0 offset=2 value=Order-7 at=1500
started partition=1 offset=2 value=Order-8 at=1500
processed partition=1 offset=2 value=Order-8 at=1600
started partition=1 offset=3 value=Order-11 at=1600
processed partition=1 offset=3 value=Order-11 at=1700
started partition=0 offset=3 value=Order-10 at=1700
EOF
    cat >rerun.out <<'EOF'
started partition=0 offset=4 value=Order-13 at=4000
processed partition=0 offset=4 value=Order-13 at=4010
started partition=0 offset=5 value=Order-16 at=4010
processed partition=0 offset=5 value=Order-16 at=4020
started partition=1 offset=2 value=Order-8 at=4020
processed partition=1 offset=2 value=Order-8 at=4030
started partition=1 offset=3 value=Order-11 at=4030
processed partition=1 offset=3 value=Order-11 at=4040
started partition=1 offset=4 value=Order-14 at=4040
processed partition=1 offset=4 value=Order-14 at=4050
started partition=2 offset=0 value=Order-3 at=4050
processed partition=2 offset=0 value=Order-3 at=4060
started partition=2 offset=1 value=Order-6 at=4060
processed partition=2 offset=1 value=Order-6 at=4070
EOF
    # As the commits tool prints them: topic, partition, offset, commit_ms; log order.
    printf 't\t0\t2\t1450\nt\t1\t2\t1450\nt\t0\t4\t1750\nt\t0\t6\t5000\nt\t1\t5\t5000\nt\t2\t2\t5000\n' >commits
}

# Scenario "per-message": one partition; commits after each message (1, 2), a crash with
# offset 2 in hand. The rerun then starts at 1 - one too early: the broker had 2.
wrong_start_scenario() {
    cat >run1.out <<'EOF'
started partition=0 offset=0 value=Order-1 at=1000
processed partition=0 offset=0 value=Order-1 at=1100
committed partition=0 offset=1 at=1101
started partition=0 offset=1 value=Order-4 at=1101
processed partition=0 offset=1 value=Order-4 at=1200
committed partition=0 offset=2 at=1201
started partition=0 offset=2 value=Order-7 at=1201
EOF
    cat >rerun.out <<'EOF'
started partition=0 offset=1 value=Order-4 at=4000
processed partition=0 offset=1 value=Order-4 at=4010
started partition=0 offset=2 value=Order-7 at=4010
processed partition=0 offset=2 value=Order-7 at=4020
started partition=0 offset=3 value=Order-10 at=4020
processed partition=0 offset=3 value=Order-10 at=4030
EOF
    # The checks' format (broker_commits): partition, offset, commit_ms.
    printf '0 1 1101\n0 2 1201\n0 2 4011\n0 3 4021\n0 4 4031\n' >commits
}

# Scenario "transactions" (step 09, transactional.id inv-1, with the probe's lines):
#   run 1: transaction 0 holds Order-1 and Order-3 (partition 0, offsets 0-1) and commits
#          offset 2 with them; transaction 1 holds partition 1's 0-1, its offsets are refused
#          (UNKNOWN_MEMBER_ID, abortable) and it is aborted; transaction 2 does partition 1's
#          0-1 again and starts partition 0's 2, and run 1 crashes in it: left open.
#   rerun (same transactional.id: its init aborts what run 1 left open): one transaction,
#          partition 1's 0-1 and partition 0's 2-3, offsets 0:4,1:2 sent with it, committed.
#   commits, as `commits --txn` prints them: the state column says which the broker counts.
txn_scenario() {
    cat >run1.out <<'EOF'
started partition=0 offset=0 value=Order-1 at=1000
processed partition=0 offset=0 value=Order-1 at=1100
started partition=0 offset=1 value=Order-3 at=1100
processed partition=0 offset=1 value=Order-3 at=1200
transaction committed orders=2 at=1400
committed partition=0 offset=2 at=1400
started partition=1 offset=0 value=Order-2 at=1400
processed partition=1 offset=0 value=Order-2 at=1500
started partition=1 offset=1 value=Order-4 at=1500
processed partition=1 offset=1 value=Order-4 at=1600
transaction aborted orders=2 error=UNKNOWN_MEMBER_ID at=1730
started partition=1 offset=0 value=Order-2 at=2000
processed partition=1 offset=0 value=Order-2 at=2100
started partition=1 offset=1 value=Order-4 at=2100
processed partition=1 offset=1 value=Order-4 at=2200
started partition=0 offset=2 value=Order-5 at=2200
EOF
    cat >run1.probe <<'EOF'
producer transactional.id=inv-1 at=900
call fn=txn_init delivered=- async=0 offsets=- begin=900 end=950 err=NO_ERROR kind=ok failed=-
call fn=txn_begin delivered=0:1 async=0 offsets=- begin=1000 end=1000 err=NO_ERROR kind=ok failed=-
call fn=txn_offsets delivered=0:1 async=0 offsets=0:2 begin=1300 end=1320 err=NO_ERROR kind=ok failed=-
call fn=txn_commit delivered=0:1 async=0 offsets=- begin=1320 end=1400 err=NO_ERROR kind=ok failed=-
call fn=txn_begin delivered=0:1,1:1 async=0 offsets=- begin=1400 end=1400 err=NO_ERROR kind=ok failed=-
fault stale-member call=2 at=1700
call fn=txn_offsets delivered=0:1,1:1 async=0 offsets=1:2 begin=1700 end=1720 err=UNKNOWN_MEMBER_ID kind=abortable failed=-
call fn=txn_abort delivered=0:1,1:1 async=0 offsets=- begin=1720 end=1730 err=NO_ERROR kind=ok failed=-
call fn=txn_begin delivered=0:2,1:1 async=0 offsets=- begin=2000 end=2000 err=NO_ERROR kind=ok failed=-
EOF
    cat >rerun.out <<'EOF'
started partition=1 offset=0 value=Order-2 at=4200
processed partition=1 offset=0 value=Order-2 at=4210
started partition=1 offset=1 value=Order-4 at=4210
processed partition=1 offset=1 value=Order-4 at=4220
started partition=0 offset=2 value=Order-5 at=4220
processed partition=0 offset=2 value=Order-5 at=4230
started partition=0 offset=3 value=Order-6 at=4230
processed partition=0 offset=3 value=Order-6 at=4240
transaction committed orders=4 at=4600
EOF
    cat >rerun.probe <<'EOF'
producer transactional.id=inv-1 at=4000
call fn=txn_init delivered=- async=0 offsets=- begin=4000 end=4100 err=NO_ERROR kind=ok failed=-
call fn=txn_begin delivered=0:3,1:1 async=0 offsets=- begin=4200 end=4200 err=NO_ERROR kind=ok failed=-
call fn=txn_offsets delivered=0:3,1:1 async=0 offsets=0:4,1:2 begin=4500 end=4520 err=NO_ERROR kind=ok failed=-
call fn=txn_commit delivered=0:3,1:1 async=0 offsets=- begin=4520 end=4600 err=NO_ERROR kind=ok failed=-
EOF
    printf 't\t0\t2\t1310\tkept\nt\t0\t4\t4510\tkept\nt\t1\t2\t4510\tkept\n' >commits
}

# ---------------------------------------------------------------- drawing known runs

@test "timeline: a commit that covered the message in hand makes it lost; the crash is marked" {
    autocommit_scenario
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    assert_line "Commit timeline: t"
    assert_line --partial "run 1 processed 7, then crashed while processing Order-10 (partition 0 offset 3)"
    # The commit of 4 came after run 1's last line but before the crash: it is run 1's.
    assert_line "the broker recorded 3 commits before the crash and 3 by the rerun"
    assert_line "offset            0   1   2   3   4   5"
    assert_line "    run 1               v2      v4"
    assert_line "    crash                     X"
    assert_line "partition 0     | 1 | 1 | 1 | ! | 2 | 2 |"
    assert_line "    rerun                       >       ^6"
    assert_line "  partition 0: processed 3 by run 1, 2 by the rerun; replayed 0; lost 1 (offset 3); last commit before the crash: 4; the rerun started at 4, as committed"
}

@test "timeline: what the rerun processed again is replayed; commits sit on their boundaries" {
    autocommit_scenario
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    # Commit 2: between cells 1 and 2; the rerun's 5: after cell 4.
    assert_line "    run 1               v2"
    assert_line "partition 1     | 1 | 1 | R | R | 2 |"
    assert_line "    rerun               >           ^5"
    assert_line "  partition 1: processed 4 by run 1, 3 by the rerun; replayed 2 (offsets 2-3); lost 0; last commit before the crash: 2; the rerun started at 2, as committed"
    assert_line "  in all: replayed 2 (2 processed twice, 0 in hand at the crash), lost 1, not reached 0"
}

@test "timeline: a partition with no commit before the crash starts over at auto.offset.reset" {
    autocommit_scenario
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    assert_line "partition 2     | 2 | 2 |"
    assert_line "    rerun       >       ^2"
    assert_line "  partition 2: processed 0 by run 1, 2 by the rerun; replayed 0; lost 0; last commit before the crash: none; the rerun started at 0 (nothing committed: auto.offset.reset)"
    # Its run-1 row is empty: no mark, nothing in hand.
    [ "$(grep -c '^    run 1$' <<<"$output")" -eq 1 ]
    [ "$(grep -c '^    crash' <<<"$output")" -eq 1 ]
}

@test "timeline: the checks' short commits format draws the same picture" {
    autocommit_scenario
    awk -F'\t' '{ print $2, $3, $4 }' commits >commits.short
    run -0 "$TIMELINE" --color never --title t run1.out rerun.out commits.short
    short=$output
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    assert_equal "$short" "$output"
}

@test "timeline: the message in hand, delivered again, counts as replayed; a rerun that starts too early is called out" {
    wrong_start_scenario
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    assert_line "    run 1           v1  v2"
    assert_line "    crash                 X"
    assert_line "partition 0     | 1 | R | R | 2 |"
    assert_line "    rerun           >   ^2  ^3  ^4"
    assert_line "  partition 0: processed 2 by run 1, 3 by the rerun; replayed 2 (offsets 1-2); lost 0; last commit before the crash: 2; WRONG: the rerun started at 1, but the broker had 2 committed"
    assert_line "  in all: replayed 2 (1 processed twice, 1 in hand at the crash), lost 0, not reached 0"
}

@test "timeline: without a rerun the message in hand is unfinished, not lost; past both runs is not reached" {
    wrong_start_scenario
    printf '0 1 1101\n0 2 1201\n' >commits
    # The lag tool says partition 0 ends at 6, and partition 1 (never touched) at 2.
    run -0 "$TIMELINE" --color never --log-end 0=6 --log-end 1=2 run1.out commits
    assert_line --partial "then crashed while processing Order-7 (partition 0 offset 2); no rerun given"
    assert_line "partition 0     | 1 | 1 | ~ | . | . | . |"
    assert_line "partition 1     | . | . |"
    refute_line --partial "    rerun"
    assert_line "  in all: replayed 0, lost 0, not reached 5"
}

@test "timeline: commits older than run 1 are history: the lane starts where run 1 did, nothing below is lost" {
    cat >run1.out <<'EOF'
started partition=0 offset=10 value=Order-31 at=1000
processed partition=0 offset=10 value=Order-31 at=1100
started partition=0 offset=11 value=Order-34 at=1100
EOF
    printf 'orders\t0\t4\t100\norders\t0\t10\t500\n' >commits
    run -0 "$TIMELINE" --color never run1.out commits
    assert_line "offset            10  11"
    assert_line "partition 0     | 1 | ~ |"
    assert_line "  partition 0: processed 1 by run 1, 0 by the rerun; replayed 0; lost 0; last commit before the crash: 10"
}

@test "timeline: long lanes wrap to --width, each part with its own ruler" {
    for o in $(seq 0 39); do
        echo "started partition=0 offset=$o value=Order-$o at=$((1000 + o))"
        echo "processed partition=0 offset=$o value=Order-$o at=$((1000 + o))"
    done >run1.out
    echo "t	0	40	2000" >commits
    run -0 "$TIMELINE" --color never --width 70 run1.out commits
    [ "$(grep -c '^offset ' <<<"$output")" -eq 4 ]
    [ "$(grep '^partition 0 ' <<<"$output" | awk '{ if (length($0) > 70) bad = 1 } END { print bad + 0 }')" -eq 0 ]
    assert_line --regexp '^    run 1 +v40$'
}

@test "timeline: --svg writes a well-formed picture with the lanes, cells, commits, crash and legend" {
    autocommit_scenario
    run -0 "$TIMELINE" --color never --title 'A & B <test>' --svg pic.svg run1.out rerun.out commits
    well_formed pic.svg
    run -0 cat pic.svg
    assert_line --partial '<svg xmlns="http://www.w3.org/2000/svg"'
    assert_line --partial 'Commit timeline: A &amp; B &lt;test&gt;'
    for p in 0 1 2; do assert_line --partial "<g class=\"lane\" id=\"partition-$p\">"; done
    [ "$(grep -c 'class="cell ' pic.svg)" -eq 13 ]      # offsets 0-5, 0-4 and 0-1
    [ "$(grep -c 'class="cell lost"' pic.svg)" -eq 1 ]
    [ "$(grep -c 'class="cell replayed"' pic.svg)" -eq 2 ]
    [ "$(grep -c 'class="crash"' pic.svg)" -eq 1 ]
    [ "$(grep -c 'class="commit before-crash"' pic.svg)" -eq 3 ]
    [ "$(grep -c 'class="commit by-rerun"' pic.svg)" -eq 3 ]
    # Boundary k is at x = 110 + 34 k: the commit of 4 on partition 0 at 246, of 2 at 178.
    grep 'commit of offset 4 on partition 0 ' pic.svg | grep -q 'x1="246.0"'
    grep 'commit of offset 2 on partition 1 ' pic.svg | grep -q 'x1="178.0"'
    grep 'class="cell lost"' pic.svg | grep -q 'partition 0 offset 3 (Order-10)'
    assert_line --partial '>lost</text>'
    assert_line --partial '>Legend</text>'
    assert_line --partial 'lost 1; last commit before the crash: 4'
}

@test "timeline: --color always paints, with Unicode marks in a UTF-8 locale; auto does not paint into a pipe" {
    autocommit_scenario
    LC_ALL=C.UTF-8 run -0 "$TIMELINE" --color always run1.out rerun.out commits
    assert_output --partial $'\033[97;44m 1 '
    assert_output --partial $'\033[1;97;41m ! '
    assert_output --partial '▼'
    assert_output --partial '✗'
    LC_ALL=C run -0 "$TIMELINE" --color always run1.out rerun.out commits
    assert_output --partial $'\033['
    refute_output --partial '▼'
    run -0 "$TIMELINE" run1.out rerun.out commits
    refute_output --partial $'\033['
}

@test "timeline: step 09's transactions on the lanes: begun, committed, aborted, left open by the crash" {
    txn_scenario
    run -0 "$TIMELINE" --color never --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    assert_line "transactions: run 1 began 3 (1 committed, 1 aborted, 1 left open: the rerun's init aborted it), the rerun 1 (1 committed, 0 aborted, 0 left open)"
    assert_line "run 1 processed 4, then crashed while processing Order-5 (partition 0 offset 2); the rerun processed 4, starting 2.0 s after run 1's last line"
    # Partition 0: transaction 0 over 0-1, committed; the open one over 2; the rerun's over 2-3.
    assert_line "    run 1 txn    [=====C [=O"
    assert_line "partition 0     | 1 | 1 | R | 2 |"
    assert_line "    rerun txn            [=====C"
    # Partition 1: the aborted transaction and the one that did its orders again, on two rows.
    assert_line "    run 1 txn    [=====A"
    assert_line "                 [=====O"
    assert_line "partition 1     | R | R |"
    assert_line "  partition 1: processed 2 by run 1, 2 by the rerun; replayed 2 (offsets 0-1); lost 0; last commit before the crash: none; the rerun started at 0, where run 1 did (nothing committed)"
    assert_line "        [=O left open when its run ended (a crash): the broker aborts it"
    # The SVG: one bar per transaction and lane, classed by how it ended.
    run -0 "$TIMELINE" --color never --svg pic.svg --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    well_formed pic.svg
    [ "$(grep -c 'class="txn committed"' pic.svg)" -eq 3 ]
    [ "$(grep -c 'class="txn aborted"' pic.svg)" -eq 1 ]
    [ "$(grep -c 'class="txn open"' pic.svg)" -eq 2 ]
    grep 'class="txn open"' pic.svg | grep -q "still open when its run ended (the rerun's init aborted it)"
    grep 'class="txn aborted"' pic.svg | grep -q 'error: UNKNOWN_MEMBER_ID (abortable)'
    # Without the probe the picture is the one it always was: no transaction.
    run -0 "$TIMELINE" --color never run1.out rerun.out commits
    refute_output --partial "txn"
    refute_output --partial "transactions:"
}

@test "analyze: step 09's transactions are facts: begin, end state, offsets sent, the orders' spans" {
    txn_scenario
    run -0 "$TOOLS/analyze" --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    assert_line "transaction run=1 n=0 state=committed begin=1000 end=1400 orders=2 offsets=0:2 spans=0:0-1 err=NO_ERROR kind=ok aborted_by_rerun=0"
    assert_line "transaction run=1 n=1 state=aborted begin=1400 end=1730 orders=2 offsets=1:2 spans=1:0-1 err=UNKNOWN_MEMBER_ID kind=abortable aborted_by_rerun=0"
    assert_line "transaction run=1 n=2 state=open begin=2000 end=0 orders=3 offsets=- spans=1:0-1,0:2 err=NO_ERROR kind=ok aborted_by_rerun=1"
    assert_line "transaction run=2 n=3 state=committed begin=4200 end=4600 orders=4 offsets=0:4,1:2 spans=1:0-1,0:2-3 err=NO_ERROR kind=ok aborted_by_rerun=0"
    assert_line "transactions committed=2 aborted=1 open=1 dropped_aborted=0 dropped_open=0"
    # The offsets sent with a transaction are the program's requests, not librdkafka's own.
    assert_line "request n=0 by=program call=2 fn=txn_offsets async=0 phase=run1 at=1310 close=0 parts=0:2"
    refute_line --partial "finding kind=auto-commit"
    # Run 1 crashed in Order-5: in hand. Partition 1's orders it had done again: not.
    assert_line --partial "order value=Order-5 partition=0 offset=2 state=replayed in_hand=1 "
    assert_line --partial "order value=Order-2 partition=1 offset=0 state=replayed in_hand=0 "
    # A rerun with another transactional.id does not abort what run 1 left open.
    sed -i 's/transactional.id=inv-1/transactional.id=inv-2/' rerun.probe
    run -0 "$TOOLS/analyze" --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    assert_line --partial "transaction run=1 n=2 state=open begin=2000 end=0 orders=3 offsets=- spans=1:0-1,0:2 err=NO_ERROR kind=ok aborted_by_rerun=0"
    # No probe, no transaction facts: the other steps' facts stay as they were.
    run -0 "$TOOLS/analyze" run1.out rerun.out commits
    refute_line --partial "transaction"
}

@test "timeline: a crash before the commit leaves the offsets sent in an open transaction: not counted as a commit" {
    txn_scenario
    # Run 1 finishes Order-5, sends 0:3,1:2 with its transaction and dies before the commit
    # (the probe's crash-before-commit fault). The broker wrote those offsets; the rerun's
    # init aborted the transaction, and `commits --txn` says so.
    echo "processed partition=0 offset=2 value=Order-5 at=2300" >>run1.out
    printf '%s\n' "call fn=txn_offsets delivered=0:2,1:1 async=0 offsets=0:3,1:2 begin=2300 end=2320 err=NO_ERROR kind=ok failed=-" \
        "fault crash-before-commit call=2 at=2320" >>run1.probe
    printf 't\t0\t2\t1310\tkept\nt\t0\t3\t2310\taborted\nt\t1\t2\t2310\taborted\nt\t0\t4\t4510\tkept\nt\t1\t2\t4510\tkept\n' >commits
    run -0 "$TIMELINE" --color never --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    assert_line "the broker recorded 1 commit before the crash and 2 by the rerun"
    assert_line --partial "the rerun 1 (1 committed, 0 aborted, 0 left open); 2 offset commits of aborted or open transactions not counted"
    assert_line "    run 1 txn    [=====C [=O"
    # The rerun resumed where the last counted commit said, 2, not the aborted 3.
    assert_line "  partition 0: processed 3 by run 1, 2 by the rerun; replayed 1 (offset 2); lost 0; last commit before the crash: 2; the rerun started at 2, as committed"
    run -0 "$TOOLS/analyze" --probe1 run1.probe --probe2 rerun.probe run1.out rerun.out commits
    assert_line "transaction run=1 n=2 state=open begin=2000 end=0 orders=3 offsets=0:3,1:2 spans=1:0-1,0:2 err=NO_ERROR kind=ok aborted_by_rerun=1"
    assert_line "transactions committed=2 aborted=1 open=1 dropped_aborted=2 dropped_open=0"
    refute_line --partial "finding kind=rerun-start"
}

# ---------------------------------------------------------------- wrong use

@test "timeline: bad options and argument counts exit 2 with the usage" {
    autocommit_scenario
    run -2 "$TIMELINE"
    assert_output --partial "usage: timeline"
    run -2 "$TIMELINE" run1.out
    run -2 "$TIMELINE" run1.out rerun.out commits extra
    run -2 "$TIMELINE" --color sometimes run1.out commits
    assert_line "timeline: --color wants auto, always or never, not 'sometimes'"
    run -2 "$TIMELINE" --width wide run1.out commits
    run -2 "$TIMELINE" --log-end 0 run1.out commits
    run -2 "$TIMELINE" --frobnicate run1.out commits
    run -0 "$TIMELINE" -h
    assert_output --partial "usage: timeline"
}

@test "timeline: unreadable or malformed inputs exit 1 with one line" {
    autocommit_scenario
    run --separate-stderr -1 "$TIMELINE" run1.out rerun.out /nonexistent/commits
    assert_equal "$stderr" "timeline: cannot read /nonexistent/commits: No such file or directory"
    # A program's output where the commits belong (arguments swapped).
    run --separate-stderr -1 "$TIMELINE" run1.out commits rerun.out
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "${stderr_lines[0]}" "timeline: rerun.out:1: not a commit (want TOPIC<tab>PARTITION<tab>OFFSET<tab>COMMIT_MS, as the commits tool prints): started partition=0 offset=4 value=Order-13 at=4000"
    echo "started partition=x offset=1 value=Order-1 at=5" >bad.out
    run --separate-stderr -1 "$TIMELINE" bad.out commits
    assert_equal "$stderr" "timeline: bad.out:1: cannot read this line: started partition=x offset=1 value=Order-1 at=5"
    # Two topics: which one?
    printf 'u\t0\t3\t1500\n' >>commits
    run --separate-stderr -1 "$TIMELINE" run1.out rerun.out commits
    assert_equal "$stderr" "timeline: commits holds commits for several topics (t, u): choose one with --topic"
    run -0 "$TIMELINE" --topic t run1.out rerun.out commits
    # A story too wide to draw (one cell per offset).
    printf 't\t0\t5000\t1500\n' >wide
    run --separate-stderr -1 "$TIMELINE" run1.out wide
    assert_equal "$stderr" "timeline: offsets 0 to 4999 are too many to draw (at most 2000): use a fresh topic and group"
    # An SVG that cannot be written: the error alone, no picture.
    run --separate-stderr -1 "$TIMELINE" --topic t --svg /nonexistent/pic.svg run1.out rerun.out commits
    assert_equal "$stderr" "timeline: cannot write /nonexistent/pic.svg: No such file or directory"
    assert_output ""
}

@test "timeline.sh: a step that does not exist, or a bad option, exits 2 and lists the steps" {
    run --separate-stderr -2 "$ROOT/scripts/timeline.sh" 99
    assert_equal "$stderr" "timeline: no step '99'; the steps are: $(cd "$ROOT/steps" && ls -d [0-9][0-9]_*/ | tr -d / | paste -sd' ') (STEP=01 or STEP=1 will do)"
    run --separate-stderr -2 "$ROOT/scripts/timeline.sh" ""
    assert_equal "${stderr_lines[0]}" "timeline: which step? STEP=NN"
    run --separate-stderr -2 "$ROOT/scripts/timeline.sh" 02 --crash-at 0
    assert_equal "${stderr_lines[0]}" "timeline: --crash-at wants a whole number from 1 to 27, not '0'"
    run --separate-stderr -2 "$ROOT/scripts/timeline.sh" 02 --fast
    assert_equal "${stderr_lines[0]}" "timeline: unknown option '--fast'"
    TARGET=solution run --separate-stderr -2 "$ROOT/scripts/timeline.sh" 02
    assert_equal "${stderr_lines[0]}" "timeline: TARGET is steps or solutions, not 'solution'"
}

# ---------------------------------------------------------------- against the broker

@test "timeline.sh 02 --solution: the picture agrees with the broker's record (lost 0, replayed at most 1)" {
    export TIMELINE_DIR=$BATS_TEST_TMPDIR/tl
    run -0 timeout 120 "$ROOT/scripts/timeline.sh" 02 --solution
    dir=$TIMELINE_DIR/02_manual_commit
    assert_line "open it in a browser: file://$TIMELINE_DIR/02_manual_commit.svg"
    well_formed "$TIMELINE_DIR/02_manual_commit.svg"
    assert_line --partial "crashed as planned (exit 3)"
    assert_line --regexp '^  in all: replayed [01]( \(0 processed twice, [01] in hand at the crash\))?, lost 0, not reached 0$'
    summary=$output

    # The broker's record, read again: per partition, the last commit before the rerun's
    # first line, and where the rerun started. The picture must say the same.
    group=$(sed -n 's/.* group \(timeline-[^ ]*\)$/\1/p' <<<"$summary")
    [ -n "$group" ]
    timeout 30 "$TOOLS/commits" -b "$BROKER" -g "$group" -t "$group" >broker
    [ -s broker ]
    split=$(awk '$1 == "started" { sub("at=", "", $NF); print $NF; exit }' "$dir/rerun.out")
    for p in 0 1 2; do
        want=$(awk -F'\t' -v p="$p" -v t="$split" '$2 == p && $4 < t { last = $3 } END { print (last == "" ? "none" : last) }' broker)
        assert_line --regexp "^  partition $p: .*; last commit before the crash: $want(;|\$)"
        first=$(awk -v p="partition=$p" '$1 == "started" && $2 == p { sub("offset=", "", $3); print $3; exit }' "$dir/rerun.out")
        if [ -n "$first" ] && [ "$want" != none ]; then
            [ "$first" = "$want" ]
            assert_line --regexp "^  partition $p: .*; the rerun started at $want, as committed\$"
        fi
    done
    # Nothing lost: every order of the topic (27) was processed by one run or the other.
    [ "$(cat "$dir/run1.out" "$dir/rerun.out" | awk '$1 == "processed" { print $4 }' | sort -u | wc -l)" -eq 27 ]
    # Replayed: the orders both runs started, counted straight from the outputs.
    both=$(comm -12 <(awk '$1 == "started" { print $4 }' "$dir/run1.out" | sort -u) \
                    <(awk '$1 == "started" { print $4 }' "$dir/rerun.out" | sort -u) | wc -l)
    assert_line --regexp "^  in all: replayed $both[ ,]"
}

@test "timeline.sh 09 --solution: its transactions on the lanes, the one the crash left open aborted by the rerun; read_committed sees each invoice once" {
    export TIMELINE_DIR=$BATS_TEST_TMPDIR/tl
    run -0 timeout 150 "$ROOT/scripts/timeline.sh" 09 --solution
    dir=$TIMELINE_DIR/09_transactions
    well_formed "$TIMELINE_DIR/09_transactions.svg"
    assert_line --partial "crashed as planned (exit 3)"
    assert_line --regexp "^   invoices to topic timeline-[^ ]*-invoices \(3 partitions\); transactional.id timeline-[^ ]*-txn, the same for both runs$"
    # The crash comes while an order is worked on, inside its batch's transaction: left
    # open, and the rerun (same transactional.id) aborted it when it initialised.
    assert_line --regexp "^transactions: run 1 began [1-9][0-9]* \([0-9]+ committed, [0-9]+ aborted, 1 left open: the rerun's init aborted it\), the rerun [1-9][0-9]* \([1-9][0-9]* committed, [0-9]+ aborted, 0 left open\)$"
    assert_line --regexp '^    run 1 txn +.*O$'
    assert_line --regexp '^    rerun txn +\[.*C$'
    [ "$(grep -c 'class="txn open"' "$TIMELINE_DIR/09_transactions.svg")" -ge 1 ]
    assert_line --regexp '^  in all: replayed [0-9]+( \([0-9]+ processed twice, [0-9]+ in hand at the crash\))?, lost 0, not reached 0$'
    # Every order invoiced once for a read_committed reader, and the facts agree with the probe.
    assert_line "  read_committed: 27 records, 27 orders, 0 duplicated"
    assert_line --regexp '^  read_uncommitted: [0-9]+ records, 27 orders, [0-9]+ duplicated$'
    # Run 1 began one transaction more than it ended (committed or aborted): the open one.
    assert_equal "$(grep -c '^call fn=txn_begin .* err=NO_ERROR' "$dir/run1.probe")" \
        "$(( $(grep -c '^transaction \(committed\|aborted\) ' "$dir/run1.out") + 1 ))"
    refute_output --partial "No transaction was begun"
}

@test "timeline.sh 09 (the starter, step 02's strategy): no transaction begun, said in words; the invoices read both ways" {
    export TIMELINE_DIR=$BATS_TEST_TMPDIR/tl
    run -0 timeout 150 "$ROOT/scripts/timeline.sh" 09
    assert_line --partial "crashed as planned (exit 3)"
    assert_line "No transaction was begun (the probe saw none): each invoice is visible as soon as it is written."
    refute_line --partial "transactions: run 1"
    assert_line --regexp '^  read_committed: [0-9]+ records, 27 orders, [0-9]+ duplicated$'
}
