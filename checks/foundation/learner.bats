#!/usr/bin/env bats
# The learner's tools: make status, make hint, make diff and make watch
# (scripts/status.sh, hint.sh, diff.sh, watch.sh) and the files they read
# (steps/.starters.sha256, steps/*/HINTS.md).
#
# Every test that changes a step works in its own copy of the workbook, so the real
# steps/ and build/ are never touched. The copies' checks use the workbook's broker.
#
#   bats checks/foundation/learner.bats

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    # A copy's scripts/broker.sh looks for a native broker's pid in the copy's own
    # .broker/: point it at this workbook's, so that `up` finds the running broker.
    export KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$ROOT/.broker/native}
}

setup() {
    load ../test_helper/common
    WATCH_PID=
}

teardown() {
    # A watch a failed test left running: its process group, and what it started.
    if [ -n "$WATCH_PID" ]; then
        for pid in $(descendants "$WATCH_PID") "$WATCH_PID"; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
}

# A copy of the workbook, without its build/ and broker data, in $W.
make_copy() {
    W=$BATS_TEST_TMPDIR/wb
    mkdir -p "$W"
    tar -C "$ROOT" --exclude=./build --exclude=./.broker --exclude=./.git -cf - . | tar -C "$W" -xf -
}

# Put the reference solution in place of the learner's file.
solve() { cp "$W/solutions/$1"/*.c "$W/steps/$1/"; }

# The hash scripts/check.sh records as source= for a step of the copy.
step_hash() { (cd "$W" && . scripts/lib.sh && source_hash steps "$1"); }

# A result as `make check` would have recorded it on the copy's files as they are now.
seed_result() { # STEP STATUS [REASON]
    mkdir -p "$W/build/results/steps"
    printf 'status=%s\nsource=%s\nreason=%s\nat=2026-01-01 00:00:00\n' "$2" "$(step_hash "$1")" "${3:-}" \
        >"$W/build/results/steps/$1.result"
}

# Every process started under PID, however deep.
descendants() {
    ps -e -o pid= -o ppid= | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END { todo = root
              while (todo != "") { n = split(todo, now, " "); todo = ""
                  for (i = 1; i <= n; i++) { m = split(kids[now[i]], k, " ")
                      for (j = 1; j <= m; j++) { print k[j]; todo = todo " " k[j] } } } }'
}

running() { [ -n "$(ps -o stat= -p "$1" 2>/dev/null | grep -v '^Z')" ]; }   # not a zombie

wait_for_text() { # FILE TEXT [SECONDS]
    local deadline=$((SECONDS + ${3:-30}))
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "waited ${3:-30}s for '$2'; the output was: $(cat "$1")"
        sleep 0.1
    done
}

# ------------------------------------------------------------------ status

@test "status: steps/.starters.sha256 lists every starter exactly as it is in steps/" {
    manifest=$ROOT/steps/.starters.sha256
    refresh="a starter was edited or added: once steps/ holds only untouched starters, refresh the list with scripts/status.sh --refresh-manifest (and commit it)"
    [ -f "$manifest" ] || fail "steps/.starters.sha256 is missing: $refresh"
    for f in "$ROOT"/steps/*/*.c; do
        rel=${f#"$ROOT"/}
        want=$(awk -v p="$rel" '!/^#/ && $2 == p { print $1 }' "$manifest")
        [ -n "$want" ] || fail "$rel is not listed in steps/.starters.sha256: $refresh"
        [ "$want" = "$(tr -d '\r' <"$f" | sha256sum | cut -d' ' -f1)" ] ||
            fail "$rel is not the starter steps/.starters.sha256 lists: $refresh"
    done
    for rel in $(awk '!/^#/ { print $2 }' "$manifest"); do
        [ -f "$ROOT/$rel" ] || fail "steps/.starters.sha256 lists $rel, which does not exist: $refresh"
    done
}

@test "status: --refresh-manifest rebuilds the same list from the starters, and refuses a solved step" {
    make_copy
    rm "$W/steps/.starters.sha256"
    run -0 timeout 30 "$W/scripts/status.sh" --refresh-manifest
    run -0 cmp "$W/steps/.starters.sha256" "$ROOT/steps/.starters.sha256"
    solve 02_manual_commit
    run -1 timeout 30 "$W/scripts/status.sh" --refresh-manifest
    assert_output --partial "steps/02_manual_commit/manual_commit.c does not look like a starter"
}

@test "status: untouched starters are all 'not started', no check runs, and the next step is 01" {
    make_copy
    run -0 timeout 30 "$W/scripts/status.sh"
    assert_line --regexp '^01_auto_commit +not started$'
    assert_line --regexp '^02_manual_commit +not started$'
    assert_line --regexp '^03_batch_commit +not started$'
    assert_line "Next: step 01 — read steps/01_auto_commit/README.md; \`make hint STEP=01\` for a hint, \`make check STEP=01\` to check."
    refute_output --partial "checking"
    [ ! -d "$W/build/results" ] || fail "status ran a check on untouched starters"
    run -0 timeout 30 "$W/scripts/status.sh" --next
    assert_output "01_auto_commit"
}

@test "status: 01 solved (recorded), 02 started (checked now, for real), 03 untouched; next is 02" {
    make_copy
    solve 01_auto_commit
    seed_result 01_auto_commit pass
    # Step 02 half done: auto-commit off (TODO 1), but no commit after each message yet.
    sed -i 's|^        /\* TODO 1:|        set_conf(conf, "enable.auto.commit", "false");\n&|' \
        "$W/steps/02_manual_commit/manual_commit.c"
    run -0 grep -c 'set_conf(conf, "enable.auto.commit", "false")' "$W/steps/02_manual_commit/manual_commit.c"

    t0=$SECONDS
    run -0 timeout 200 "$W/scripts/status.sh"
    assert_line --regexp '^01_auto_commit +done$'
    assert_line --regexp "^02_manual_commit +failing: The program made no commit of its own: after processing each message, commit it"
    assert_line --regexp '^03_batch_commit +not started$'
    assert_line --partial "Next: step 02 — "
    assert_output --partial "checking 02_manual_commit"     # the progress line, on stderr
    refute_output --partial "checking 01_auto_commit"       # its recorded result still holds
    refute_output --partial "checking 03_batch_commit"      # untouched: nothing to check
    note "status with one real check: $((SECONDS - t0)) s"

    # The check recorded its verdict with the hash status computes: now nothing runs.
    run -0 timeout 30 "$W/scripts/status.sh" --no-run
    assert_line --regexp '^02_manual_commit +failing: The program made no commit of its own'
    refute_output --partial "checking"
    run -0 timeout 30 "$W/scripts/status.sh" --next
    assert_output "02_manual_commit"
}

@test "status: recorded results are used while they hold; all done points to make compare; an edit is noticed" {
    make_copy
    for step in $(ls "$W/steps" | grep '^[0-9][0-9]_'); do
        solve "$step"
        seed_result "$step" pass
    done
    run -0 timeout 30 "$W/scripts/status.sh"
    for step in $(ls "$W/steps" | grep '^[0-9][0-9]_'); do
        assert_line --regexp "^$step +done\$"
    done
    assert_line --regexp '^All [0-9]+ steps are done\. Next: `make compare`'
    refute_output --partial "checking"
    run -0 timeout 30 "$W/scripts/status.sh" --next
    assert_output ""

    echo "/* one more comment */" >>"$W/steps/02_manual_commit/manual_commit.c"
    rm "$W/build/results/steps/03_batch_commit.result"
    run -0 timeout 30 "$W/scripts/status.sh" --no-run
    assert_line --regexp '^01_auto_commit +done$'
    assert_line --regexp '^02_manual_commit +changed since last check$'
    assert_line --regexp '^03_batch_commit +not checked yet$'
    assert_line --partial "Next: step 02 — \`make check STEP=02\` to check it"
    refute_output --partial "checking"
}

@test "status: a long reason is cut to 150 characters off a terminal; a compile error says so" {
    make_copy
    solve 01_auto_commit
    seed_result 01_auto_commit fail "$(printf 'x%.0s' $(seq 1 300))"
    echo "int broken = ;" >>"$W/steps/02_manual_commit/manual_commit.c"
    seed_result 02_manual_commit compile-error "steps/02_manual_commit/manual_commit.c:198:14: error: expected expression before ';' token"
    run -0 timeout 30 "$W/scripts/status.sh" --no-run
    line=$(printf '%s\n' "$output" | grep '^01_auto_commit')
    [[ $line == *"xxx…" ]] || fail "the reason should end with … where it was cut: $line"
    cut=${line%…}
    [ ${#cut} -eq 149 ] || fail "the line should be 150 characters with its …; it is $((${#cut} + 1))"
    assert_line --regexp "^02_manual_commit +failing: does not compile: steps/02_manual_commit/manual_commit.c:198:14: error: expected expression before ';' token$"
    assert_line --partial "Next: step 01 — \`make check STEP=01\` shows the whole failure"
}

@test "status: -h explains it; an unknown option exits 2; a missing manifest is said, not fatal" {
    run -0 timeout 10 "$ROOT/scripts/status.sh" -h
    assert_line --partial "usage: scripts/status.sh"
    run -2 timeout 10 "$ROOT/scripts/status.sh" --bogus
    assert_line "status: unknown option '--bogus'"
    assert_line --partial "usage: scripts/status.sh"
    make_copy
    rm "$W/steps/.starters.sha256"
    run -0 timeout 30 "$W/scripts/status.sh" --no-run
    assert_line --partial "steps/.starters.sha256 is missing"
    assert_line --regexp '^01_auto_commit +not checked yet$'
}

# ------------------------------------------------------------------ hint

@test "hint: every HINTS.md has 4 to 6 hints in order, a question first, and the solution's calls last" {
    for dir in "$ROOT"/steps/[0-9][0-9]_*/; do
        step=$(basename "$dir")
        f=$dir/HINTS.md
        [ -f "$f" ] || fail "steps/$step has no HINTS.md"
        nums=$(sed -n 's/^## Hint \([0-9][0-9]*\)$/\1/p' "$f" | paste -sd' ' -)
        n=$(grep -c '^## Hint' "$f")
        [ "$n" -ge 4 ] && [ "$n" -le 6 ] || fail "steps/$step/HINTS.md has $n hints: give 4 to 6"
        [ "$nums" = "$(seq -s ' ' 1 "$n")" ] || fail "steps/$step/HINTS.md numbers its hints '$nums': use '## Hint 1' to '## Hint $n', in order"
        first=$(awk '/^## Hint /{ k++; next } k == 1' "$f")
        [[ $first == *"?"* ]] || fail "the first hint of $step should ask a question"
        last=$(awk -v n="$n" '/^## Hint /{ k++; next } k == n' "$f")
        # Every librdkafka call, kit call and setting the solution adds to the starter.
        while IFS= read -r call; do
            [[ $last == *"$call"* ]] || fail "the last hint of $step does not give '$call', which the solution adds"
        done < <(diff "$ROOT/steps/$step" "$ROOT/solutions/$step" | sed -n 's/^> //p' |
                 grep -o -E 'rd_kafka_[a-z0-9_]+|step_[a-z_]+\(|set_conf\(conf, "[^"]+", "[^"]+"\)' | sort -u)
    done
}

@test "hint: one more per call, in order; the last gives the calls and points to make diff; RESET=1 starts again" {
    make_copy
    hints=$W/steps/01_auto_commit/HINTS.md
    total=$(grep -c '^## Hint [0-9]' "$hints")
    # (not `i`: bats' run uses that name)
    for ((h = 1; h <= total; h++)); do
        run -0 timeout 10 "$W/scripts/hint.sh" 01
        assert_line "Hint $h of $total for step 01_auto_commit"
        # It shows hint h, and only hint h: its first line, not the next one's.
        assert_output --partial "$(awk -v i="$h" '/^## Hint /{ k++; next } k == i && NF { print; exit }' "$hints")"
        if [ "$h" -lt "$total" ]; then
            assert_line --partial "More: \`make hint STEP=01\` (hint $((h + 1)) of $total)"
            refute_output --partial "$(awk -v i="$((h + 1))" '/^## Hint /{ k++; next } k == i && NF { print; exit }' "$hints")"
        fi
        [ "$(cat "$W/build/hints/01")" = "$h" ] || fail "build/hints/01 should say $h"
    done
    assert_output --partial 'rd_kafka_poll_set_consumer(rk);'
    assert_line --partial "That was the last hint"
    assert_line --partial "make diff STEP=01"

    run -0 timeout 10 "$W/scripts/hint.sh" 1
    assert_line "No more hints for step 01_auto_commit: you have seen all $total."
    assert_line --partial "make diff STEP=01"
    assert_line --partial "make hint STEP=01 RESET=1"
    refute_line --regexp '^Hint [0-9]+ of'

    run -0 timeout 10 "$W/scripts/hint.sh" --seen 01_auto_commit
    assert_line "Hint 1 of $total for step 01_auto_commit"
    assert_line "Hint $total of $total for step 01_auto_commit"

    # The Makefile's way: STEP=, RESET=1.
    run -0 timeout 30 make -s -C "$W" hint STEP=01 RESET=1
    assert_line "Hint 1 of $total for step 01_auto_commit"
    run -0 timeout 30 make -s -C "$W" hint STEP=01_auto_commit
    assert_line "Hint 2 of $total for step 01_auto_commit"
    # Each step counts on its own.
    run -0 timeout 30 make -s -C "$W" hint STEP=2
    assert_line --regexp '^Hint 1 of [0-9]+ for step 02_manual_commit$'
}

# ------------------------------------------------------------------ diff

@test "diff: the starter against the solution shows the SOLUTION lines and exits 0; the same file says so" {
    make_copy
    run -0 timeout 10 "$W/scripts/diff.sh" 02
    assert_line --regexp '^--- your steps/02_manual_commit/manual_commit\.c$'
    assert_line --regexp '^\+\+\+ solution solutions/02_manual_commit/manual_commit\.c$'
    assert_line --regexp '^\+ +/\* SOLUTION \(TODO 1\)'
    assert_line --regexp '^\+ +/\* SOLUTION \(TODO 2\)'
    assert_line --regexp '^\+ +err = rd_kafka_commit_message\(rk, rkm, 0\);$'
    assert_output --partial "SOLUTION (TODO n)"           # the note before the diff
    refute_output --partial $'\e['                         # no color off a terminal
    run -0 timeout 30 make -s -C "$W" diff STEP=1
    assert_line --regexp '^\+ +rd_kafka_poll_set_consumer\(rk\);$'

    solve 03_batch_commit
    run -0 timeout 10 "$W/scripts/diff.sh" 03_batch_commit
    assert_line "Your steps/03_batch_commit/batch_commit.c is the same as the solution."
    refute_line --regexp '^\+\+\+ '
}

# ------------------------------------------------------------------ bad steps

@test "hint, diff, watch: a bad STEP exits 2 naming the steps; no STEP or an unknown option exits 2 with usage" {
    for script in hint diff watch; do
        for bad in 99 0 bogus 01_auto; do
            run -2 timeout 10 "$ROOT/scripts/$script.sh" "$bad"
            assert_output "$script: no step '$bad'; the steps are: $(cd "$ROOT/steps" && ls -d [0-9][0-9]_*/ | tr -d / | paste -sd' ') (STEP=01 or STEP=1 will do)"
        done
        run -2 timeout 10 "$ROOT/scripts/$script.sh" 01 --bogus
        assert_line "$script: unknown option '--bogus'"
        assert_line --partial "usage: scripts/$script.sh"
        run -0 timeout 10 "$ROOT/scripts/$script.sh" -h
        assert_line --partial "usage: scripts/$script.sh"
    done
    for script in hint diff; do
        run -2 timeout 10 "$ROOT/scripts/$script.sh"
        assert_line --partial "which step?"
    done
    run -2 timeout 10 "$ROOT/scripts/watch.sh" 01 --max-cycles x
    assert_line --partial "--max-cycles needs a number"
    # Through make, as a learner types it.
    run -2 timeout 30 make -s -C "$ROOT" hint STEP=97
    assert_line --partial "hint: no step '97'"
    [ ! -e "$ROOT/build/hints/97" ] || fail "a bad STEP must not leave a hint state"
}

# ------------------------------------------------------------------ watch

@test "watch: polling, a save runs one cycle (build, check, verdict) and --once exits with the check's status" {
    make_copy
    out=$BATS_TEST_TMPDIR/watch.out
    WATCH_POLL=1 timeout 120 "$W/scripts/watch.sh" 01 --once >"$out" 2>&1 3>&- </dev/null &
    WATCH_PID=$!
    wait_for_text "$out" "each save rebuilds and rechecks step 01"
    echo "this is not C" >>"$W/steps/01_auto_commit/auto_commit.c"
    rc=0
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=
    run cat "$out"
    [ "$rc" -eq 1 ] || fail "watch --once should end with the check's status, 1; it ended $rc"
    assert_line "watch: watching steps/01_auto_commit/*.c with polling every second."
    assert_line --regexp '^==== [0-9]{2}:[0-9]{2}:[0-9]{2}  auto_commit\.c saved: rebuilding and checking step 01_auto_commit$'
    assert_line --regexp '^steps/01_auto_commit/auto_commit\.c:[0-9]+:[0-9]+: error: '   # the compiler
    assert_line "not ok: steps/01_auto_commit does not compile (the compiler's message is above)"
    assert_line --partial "==== watch: step 01 does not compile: steps/01_auto_commit/auto_commit.c"
    [ "$(grep -c '^==== [0-9]' "$out")" -eq 1 ] || fail "one save, one cycle; saw $(grep -c '^==== [0-9]' "$out")"
}

@test "watch: with no STEP it takes the next step; Ctrl+C during a check stops both and leaves nothing running" {
    make_copy
    solve 01_auto_commit
    seed_result 01_auto_commit pass             # so the next step to do is 02
    out=$BATS_TEST_TMPDIR/watch.out
    # A process group of its own, as a terminal gives the command in the foreground:
    # Ctrl+C sends SIGINT to that whole group.
    set -m
    WATCH_POLL=1 "$W/scripts/watch.sh" "" >"$out" 2>&1 3>&- </dev/null &
    WATCH_PID=$!
    set +m
    wait_for_text "$out" "watch: watching steps/02_manual_commit/*.c with polling every second."
    assert_equal "$(head -n1 "$out")" "watch: no STEP given: watching the next step to do, 02_manual_commit (\`make watch STEP=NN\` for another)."
    touch "$W/steps/02_manual_commit/manual_commit.c"

    # Wait until the check runs the step's program: the check is in full swing.
    deadline=$((SECONDS + 60))
    until pgrep -f "$W/build/steps/02_manual_commit" >/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "the check never ran the program; the watch said: $(cat "$out")"
        sleep 0.1
    done
    tree=$(descendants "$WATCH_PID")
    t0=$SECONDS
    kill -INT -- -"$WATCH_PID"
    deadline=$((SECONDS + 20))
    while running "$WATCH_PID"; do
        [ $SECONDS -lt $deadline ] || fail "watch still runs 20 s after Ctrl+C: $(cat "$out")"
        sleep 0.1
    done
    rc=0
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=
    note "watch stopped $((SECONDS - t0)) s after Ctrl+C"
    [ "$rc" -eq 0 ] || fail "watch should exit 0 on Ctrl+C; it exited $rc: $(cat "$out")"
    run cat "$out"
    assert_line --partial "watch: stopping the check in progress"
    assert_line "watch: stopped."
    for pid in $tree; do
        ! running "$pid" || fail "after Ctrl+C, process $pid still runs: $(ps -o args= -p "$pid")"
    done
    run ! pgrep -f "$W/"
    # The interrupted check judged nothing: no verdict of it is kept for make status.
    [ ! -e "$W/build/results/steps/02_manual_commit.result" ] ||
        fail "the interrupted check left a verdict: $(cat "$W/build/results/steps/02_manual_commit.result")"
}

@test "watch: with inotifywait, an editor's save (a new file renamed over the old) wakes it" {
    make_copy
    out=$BATS_TEST_TMPDIR/watch.out
    WATCH_POLL= timeout 120 "$W/scripts/watch.sh" 03 --max-cycles 1 >"$out" 2>&1 3>&- </dev/null &
    WATCH_PID=$!
    wait_for_text "$out" "each save rebuilds and rechecks step 03"
    # Editors' swap files are not saves: no cycle for them.
    echo "swap" >"$W/steps/03_batch_commit/.batch_commit.c.swp"
    sleep 1.5
    [ "$(grep -c '^==== [0-9]' "$out")" -eq 0 ] || fail "a swap file started a check: $(cat "$out")"
    # Like vim or VS Code: write a new file, rename it over the old one.
    { cat "$W/steps/03_batch_commit/batch_commit.c"; echo "oops"; } >"$W/steps/03_batch_commit/new.tmp"
    mv "$W/steps/03_batch_commit/new.tmp" "$W/steps/03_batch_commit/batch_commit.c"
    rc=0
    wait "$WATCH_PID" || rc=$?
    WATCH_PID=
    run cat "$out"
    [ "$rc" -eq 1 ] || fail "watch --max-cycles 1 should end with the check's status, 1; it ended $rc"
    assert_line "watch: watching steps/03_batch_commit/*.c with inotify."
    assert_line --regexp '^==== [0-9:]{8}  batch_commit\.c saved: rebuilding and checking step 03_batch_commit$'
    assert_line --partial "==== watch: step 03 does not compile"
}

@test "make help: the default goal lists every target with a ## comment, in four groups" {
    run -0 make -s -C "$ROOT"
    assert_line "learner:"
    assert_line "broker:"
    assert_line "instructor:"
    assert_line "maintainer:"
    for target in $(sed -n 's/^\([a-z-]*\):.*## .*/\1/p' "$ROOT/Makefile"); do
        assert_line --regexp "^  $target +[^ ]"
    done
    # Every documented target belongs to a group that help prints.
    run -0 grep -cE '^[a-z-]+:.*## \[(learner|broker|instructor|maintainer)\] ' "$ROOT/Makefile"
    assert_equal "$output" "$(grep -cE '^[a-z-]+:.*## ' "$ROOT/Makefile")"
}

@test "devcontainer: Debian 12 (what the workbook is proven on), make deps after creation, the broker at start" {
    f=$ROOT/.devcontainer/devcontainer.json
    # JSON with // comments (devcontainer.json allows them): drop those lines, then read it.
    run -0 jq -r '[.image, .postCreateCommand, .postStartCommand, (.forwardPorts | map(tostring) | join(","))] | join("|")' \
        <(grep -v '^ *//' "$f")
    assert_output "mcr.microsoft.com/devcontainers/base:bookworm|make deps && make build|make broker-up|9092"
    # Every command it runs is a target of the Makefile.
    for t in deps build broker-up; do
        grep -qE "^$t:" "$ROOT/Makefile" || fail "devcontainer.json runs 'make $t', which the Makefile does not have"
    done
}
