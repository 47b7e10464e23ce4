#!/usr/bin/env bats
# checks/foundation/grade.bats - scripts/grade.sh (`make grade SUBMISSIONS=DIR`) on a class
# made here from solutions/, checks/mutants/ and checks/foundation/grade-fixtures/ (small
# programs: a hang, a faker, attacks). Step 02 only, RUN_TIMEOUT=10, two at a time, a
# step's tests side by side; the rewriter attack and the hang also once without the
# sandbox (UNSAFE=1, one test at a time), where the tripwire must catch the rewriter and
# the hang's later tests must fail fast. Each attack of issue 9 must fail to pay. About
# 75 s on 2 cores, broker up.
#
#   bats checks/foundation/grade.bats

FIX=$BATS_TEST_DIRNAME/grade-fixtures

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    "$ROOT/scripts/sandbox.sh" check >/dev/null ||
        fail "The grading sandbox cannot run here ($("$ROOT/scripts/sandbox.sh" check 2>&1)): see grade-sandbox.bats"
    make -s -C "$ROOT" build/solutions/02_manual_commit >/dev/null
    export SUBS=$BATS_FILE_TMPDIR/subs SUBS_U=$BATS_FILE_TMPDIR/subs-unsafe
    export OUT=$BATS_FILE_TMPDIR/out OUT_U=$BATS_FILE_TMPDIR/out-unsafe GTMP=$BATS_FILE_TMPDIR/gtmp
    mkdir -p "$SUBS" "$SUBS_U" "$GTMP"
    (cd "$ROOT" && find steps solutions checks -type f -exec sha256sum {} + | sort) >"$BATS_FILE_TMPDIR/tree.before"
    make_submissions
    printf '# weights\n02 3\n' >"$BATS_FILE_TMPDIR/weights"
    # Both gradings at once: the unsafe one in the background, from a copy of the workbook
    # (without the sandbox the rewriter reaches the grader's own folder too).
    local wb=$BATS_FILE_TMPDIR/workbook-copy
    mkdir -p "$wb/build" "$wb/checks"
    cp -a "$ROOT/Makefile" "$ROOT/tools" "$ROOT/scripts" "$ROOT/steps" "$wb/" && cp -a "$ROOT/build/tools" "$wb/build/" &&
        cp -a "$ROOT/checks/test_helper" "$ROOT"/checks/[0-9][0-9]_*.bats "$wb/checks/"
    # Detached (setsid, its parent gone): no ancestor of it works in this workbook.
    (cd "$wb" && UNSAFE=1 GRADE_TEST_JOBS=1 RUN_TIMEOUT=10 TMPDIR=$GTMP setsid bash -c '"$0"/scripts/grade.sh -j 1 --steps 02,03 -o "$1" "$2" \
        >"$3/grade-unsafe.log" 2>&1; echo $? >"$3/grade-unsafe.status"' "$wb" "$OUT_U" "$SUBS_U" "$BATS_FILE_TMPDIR" \
        </dev/null >/dev/null 2>&1 3>&- &)
    local t0=$SECONDS status=0
    GRADE_TEST_JOBS=4 RUN_TIMEOUT=10 TMPDIR=$GTMP "$ROOT/scripts/grade.sh" -j 2 --steps 02 --weights "$BATS_FILE_TMPDIR/weights" \
        -o "$OUT" "$SUBS" >"$BATS_FILE_TMPDIR/grade.log" 2>&1 3>&- || status=$?
    echo "$status" >"$BATS_FILE_TMPDIR/grade.status"
    for _ in $(seq 600); do [ -s "$BATS_FILE_TMPDIR/grade-unsafe.status" ] && break; sleep 0.5; done
    echo "$((SECONDS - t0))" >"$BATS_FILE_TMPDIR/grade.seconds"
}

setup() {
    load ../test_helper/common
}

S02=steps/02_manual_commit
# A submission DIR whose step 02 is FILE (default: the starter as shipped).
sub02() { # DIR [FILE]
    mkdir -p "$1/$S02"
    cp "${2:-$ROOT/$S02/manual_commit.c}" "$1/$S02/manual_commit.c"
}

make_submissions() {
    local t=$BATS_FILE_TMPDIR
    # Honest ones. A zip, with a UTF-8 name; and another with a name that differs by one accent.
    sub02 "$t/zip/Zoë-main" "$ROOT/solutions/02_manual_commit/manual_commit.c"
    (cd "$t/zip" && zip -qr "$SUBS/Zoë.zip" Zoë-main)
    sub02 "$SUBS/Zoé"                                   # untouched starter: not started
    sub02 "$SUBS/José Núñez" "$ROOT/solutions/02_manual_commit/manual_commit.c"
    mkdir -p "$SUBS/José Núñez/.git/refs/heads"
    echo 'ref: refs/heads/main' >"$SUBS/José Núñez/.git/HEAD"
    echo 0123456789abcdef0123456789abcdef01234567 >"$SUBS/José Núñez/.git/refs/heads/main"
    # Mistakes: does not compile (a tarball, one folder inside), a wrong strategy (nested).
    sub02 "$t/nc/nocompile-main" "$ROOT/solutions/02_manual_commit/manual_commit.c"
    sed -i '0,/^int main/s//this is not C;\nint main/' "$t/nc/nocompile-main/$S02/manual_commit.c"
    tar -czf "$SUBS/nocompile.tar.gz" -C "$t/nc" nocompile-main
    mkdir -p "$SUBS/wrong/wrong-main/$S02"
    patch -s -o "$SUBS/wrong/wrong-main/$S02/manual_commit.c" "$ROOT/solutions/02_manual_commit/manual_commit.c" \
        <"$ROOT/checks/mutants/02_commit_before_processing.patch"
    sub02 "$SUBS/hangs" "$FIX/hangs.c"
    sub02 "$SUBS/faker" "$FIX/faker.c"
    # Attacks.
    sed "s|@ROOT@|$ROOT|" "$FIX/snoop.c" >"$t/snoop.c"
    sub02 "$SUBS/snoop" "$t/snoop.c"
    sub02 "$SUBS/rewriter" "$FIX/rewriter.c"
    mkdir -p "$SUBS/symlinked"
    ln -s "$ROOT/solutions" "$SUBS/symlinked/steps"
    sub02 "$SUBS/injector"
    echo 'int x;' >"$SUBS/injector/$S02/x;touch PWNED;.c"
    mkdir -p "$SUBS/injector/steps/04_\$(shell touch PWNED2)"
    echo 'int main(void) { return 0; }' >"$SUBS/injector/steps/04_\$(shell touch PWNED2)/a.c"
    ln -s "$ROOT/solutions/02_manual_commit/manual_commit.c" "$SUBS/injector/$S02/linked.c"
    sub02 "$SUBS/bigerr" "$FIX/bigerr.c"
    # Correct, but 50 MB of debug output on stderr as it ends: the output is cut, it passes.
    sub02 "$SUBS/verbose" "$ROOT/solutions/02_manual_commit/manual_commit.c"
    perl -0pi -e 's/(\n\s*return step_exit_status)/\n        { static char dbg[1 << 20]; memset(dbg, 100, sizeof dbg); for (int k = 0; k < 50; k++) fwrite(dbg, 1, sizeof dbg, stderr); }$1/' \
        "$SUBS/verbose/$S02/manual_commit.c"
    grep -q 'static char dbg' "$SUBS/verbose/$S02/manual_commit.c" || { echo "the verbose submission was not made" >&2; return 1; }
    grep -q '<string.h>' "$SUBS/verbose/$S02/manual_commit.c" || sed -i '1i #include <string.h>' "$SUBS/verbose/$S02/manual_commit.c"
    sub02 "$SUBS/ctrl" "$FIX/ctrl.c"
    # Not gradable: an unknown format, an ambiguous layout.
    echo 'Rar!' >"$SUBS/rarfan.rar"
    sub02 "$SUBS/twice/a"; sub02 "$SUBS/twice/b"
    # Without the sandbox (and one test at a time): the rewriter in 02, and a 03 that fails
    # its real check; the hang again, to see the step's later tests fail fast.
    sub02 "$SUBS_U/hangs" "$FIX/hangs.c"
    sub02 "$SUBS_U/rewriter" "$FIX/rewriter.c"
    mkdir -p "$SUBS_U/rewriter/steps/03_batch_commit"
    cp "$FIX/faker.c" "$SUBS_U/rewriter/steps/03_batch_commit/batch_commit.c"
}

# The CSV row of STUDENT and STEP, as "result<TAB>reason" (python3's csv module reads it).
csv_row() {
    python3 - "$1" "$2" "$3" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["student"] == sys.argv[2] and row["step"] == sys.argv[3]:
            print(row["result"] + "\t" + row["reason"])
EOF
}

@test "grade: usage errors exit 2 with the usage" {
    run -2 "$ROOT/scripts/grade.sh"
    assert_output --partial "Usage: scripts/grade.sh"
    run -2 "$ROOT/scripts/grade.sh" "$BATS_TEST_TMPDIR/nothing-here"
    assert_output --partial "is not a directory"
    run -2 "$ROOT/scripts/grade.sh" --bogus "$SUBS"
    assert_output --partial "unknown option"
    run -2 "$ROOT/scripts/grade.sh" --steps 99 "$SUBS"
    assert_output --partial "no step '99'"
    run -2 "$ROOT/scripts/grade.sh" -j zero "$SUBS"
}

@test "grade: both gradings ran and exited 0" {
    note "graded $(ls "$SUBS" | wc -l) submissions (step 02, -j 2) and 2 without the sandbox (02, 03) at once in $(cat "$BATS_FILE_TMPDIR/grade.seconds") s"
    [ "$(cat "$BATS_FILE_TMPDIR/grade.status")" = 0 ] || fail "grade.sh exited $(cat "$BATS_FILE_TMPDIR/grade.status"): $(cat "$BATS_FILE_TMPDIR/grade.log")"
    [ "$(cat "$BATS_FILE_TMPDIR/grade-unsafe.status")" = 0 ] || fail "grade.sh (UNSAFE=1) exited $(cat "$BATS_FILE_TMPDIR/grade-unsafe.status"): $(cat "$BATS_FILE_TMPDIR/grade-unsafe.log")"
    run cat "$BATS_FILE_TMPDIR/grade.log"
    assert_output --partial "in a bubblewrap sandbox"
    assert_output --partial "[16/16]"
}

@test "grade: honest submissions: a zip, UTF-8 names kept apart, not started, does not compile, wrong" {
    run csv_row "$OUT/grades.csv" "Zoë" 02_manual_commit
    assert_output $'pass\t'
    run csv_row "$OUT/grades.csv" "José Núñez" 02_manual_commit
    assert_output $'pass\t'
    run csv_row "$OUT/grades.csv" "Zoé" 02_manual_commit
    assert_output $'not-started\tthe starter as shipped'
    run csv_row "$OUT/grades.csv" nocompile 02_manual_commit
    assert_output --regexp $'^compile-error\tsteps/02_manual_commit/manual_commit.c:[0-9]+:[0-9]+: error: '
    run csv_row "$OUT/grades.csv" wrong 02_manual_commit
    assert_output --partial "The program committed a message before it was processed"
    [ -d "$OUT/Zoë" ] && [ -d "$OUT/Zoé" ] && [ -d "$OUT/José Núñez" ]
    run cat "$OUT/José Núñez/provenance.txt"
    assert_line $'commit\t0123456789abcdef0123456789abcdef01234567 (refs/heads/main)'
    assert_line --regexp $'^source\t.*/subs/José Núñez$'
    assert_line --regexp $'^source_hash\t[0-9a-f]{16}$'
    run cat "$OUT/José Núñez/hashes.txt"
    assert_output --regexp '^[0-9a-f]{64}  steps/02_manual_commit/manual_commit.c$'
}

@test "grade: a hang fails with 'did not end within', and the step's later runs fail fast" {
    run csv_row "$OUT/grades.csv" hangs 02_manual_commit
    assert_output --partial $'fail\t02_manual_commit did not end within 10s'
    # One test at a time (UNSAFE grading, GRADE_TEST_JOBS=1): after the first hang every
    # other test of the step fails at once.
    run csv_row "$OUT_U/grades.csv" hangs 02_manual_commit
    assert_output --partial $'fail\t02_manual_commit did not end within 10s'
    n_tests=$(grep -c '^@test ' "$ROOT/checks/02_manual_commit.bats")
    run grep -c "Not run: an earlier test of this step hung" "$OUT_U/hangs/logs/02_manual_commit.tap"
    assert_output "$((n_tests - 1))"
    run grep -o 'in [0-9]*ms' "$OUT_U/hangs/logs/02_manual_commit.tap"
    [ "$(tail -n 1 <<<"$output" | tr -dc 0-9)" -lt 3000 ] || fail "the last test did not fail fast: $output"
}

@test "grade: a program that prints the lines without consuming and committing fails" {
    run csv_row "$OUT/grades.csv" faker 02_manual_commit
    assert_output --partial "The program made no commit of its own"
}

@test "grade: attack: reading the solutions and running the instructor's binary does not pay" {
    run csv_row "$OUT/grades.csv" snoop 02_manual_commit
    assert_output --partial $'fail\t'
    run grep -rl "LEAKED" "$OUT/snoop"
    assert_failure
    run cat "$OUT/snoop/logs/02_manual_commit.tap"
    assert_output --partial "snoop: no solution to run"
}

@test "grade: attack: rewriting the checks at run time does not pay (sandbox; tripwire without it)" {
    run csv_row "$OUT/grades.csv" rewriter 02_manual_commit
    assert_output --partial $'fail\t'
    run cat "$OUT/rewriter/logs/02_manual_commit.tap"
    assert_output --partial "rewriter: replaced 0 check(s)"
    # Without the sandbox the checks were rewritten: the tripwire fails the step, and the
    # next step runs its real check.
    run csv_row "$OUT_U/grades.csv" rewriter 02_manual_commit
    assert_output --partial $'fail\ttripwire: '
    run csv_row "$OUT_U/grades.csv" rewriter 03_batch_commit
    assert_output --partial $'fail\t'
    refute_output --partial "tripwire"
    (cd "$ROOT" && find steps solutions checks -type f -exec sha256sum {} + | sort) >"$BATS_TEST_TMPDIR/tree.after"
    run diff "$BATS_FILE_TMPDIR/tree.before" "$BATS_TEST_TMPDIR/tree.after"
    assert_success
}

@test "grade: attack: a steps/ that links to the solutions is not graded" {
    run csv_row "$OUT/grades.csv" symlinked -
    assert_output --partial $'not-graded\tits steps/ is a symbolic link'
}

@test "grade: attack: unsafe file and folder names are left out, never built" {
    run csv_row "$OUT/grades.csv" injector 02_manual_commit
    assert_output $'not-started\tthe starter as shipped'
    run cat "$OUT/injector/notes.txt"
    assert_output --partial 'x\;touch\ PWNED\;.c (not a safe source name'
    assert_output --partial 'steps/04_$(shell touch PWNED2)/ (not one of the workbook'
    assert_output --partial 'linked.c (a symbolic link)'
    # stdout only: the other lanes of make test delete folders meanwhile (the broker's
    # deleted topics under .broker/, which is pruned), and find says so on stderr.
    run --separate-stderr find "$BATS_FILE_TMPDIR" "$ROOT" -path "$ROOT/.broker" -prune -o -name 'PWNED*' -print
    assert_output ""
}

@test "grade: the Makefile quotes source names and ignores step folders with odd names" {
    local w=$BATS_TEST_TMPDIR/wb
    mkdir -p "$w/steps/02_manual_commit" "$w/steps/04_\$(shell touch PWNED2)"
    cp -a "$ROOT/Makefile" "$ROOT/tools" "$w/"
    cp "$ROOT/$S02/manual_commit.c" "$w/$S02/"
    echo 'int x;' >"$w/$S02/x;touch PWNED;.c"
    run make -C "$w" -s build/steps/02_manual_commit
    run make -C "$w" -n build
    [ ! -e "$w/PWNED" ] || fail "a file name ran as a command"
    [ ! -e "$w/PWNED2" ] || fail "a folder name was expanded by make"
}

@test "grade: caps: correct work that prints 50 MB as it ends passes; its output is cut and the report says so" {
    run csv_row "$OUT/grades.csv" verbose 02_manual_commit
    assert_output $'pass\t'
    run cat "$OUT/verbose/notes.txt"
    assert_output --partial "02_manual_commit: "
    assert_output --partial "output cut: its stderr went past the 8388608 bytes the grader keeps"
    run cat "$OUT/verbose/report.md"
    assert_output --partial "output cut: its stderr"
    run grep -c 'a real crash' "$OUT/verbose/report.md" "$OUT/bigerr/report.md"
    refute_output --regexp ':[1-9]'
}

@test "grade: caps: a 50 MB stderr line makes small reports; control characters keep junit.xml well-formed" {
    run csv_row "$OUT/grades.csv" bigerr 02_manual_commit
    assert_output --partial $'fail\t'
    [ "$(stat -c %s "$OUT/bigerr/report.md")" -lt 300000 ] || fail "report.md: $(stat -c %s "$OUT/bigerr/report.md") bytes"
    [ "$(stat -c %s "$OUT/bigerr/junit.xml")" -lt 300000 ] || fail "junit.xml: $(stat -c %s "$OUT/bigerr/junit.xml") bytes"
    run grep -c 'more characters cut' "$OUT/bigerr/report.md"
    assert_success
    run python3 -c 'import sys, xml.etree.ElementTree as ET; [ET.parse(f) for f in sys.argv[1:]]; print("ok")' "$OUT"/*/junit.xml
    assert_output ok
    run grep -c $'\x1b' "$OUT/ctrl/report.md" "$OUT/ctrl/junit.xml"
    refute_output --regexp ':[1-9]'
}

@test "grade: unknown formats and ambiguous layouts get a 'not graded' row" {
    run csv_row "$OUT/grades.csv" rarfan.rar -
    assert_output --partial $'not-graded\tneither a folder nor'
    run csv_row "$OUT/grades.csv" twice -
    assert_output --partial $'not-graded\tambiguous layout: steps found in a/steps; b/steps'
}

@test "grade: exports: wide CSV with weights, reasons counted, Gradescope results.json" {
    run cat "$OUT/grades-wide.csv"
    assert_line --index 0 "student,02,score,max"
    assert_line "Zoë,3,3,3"
    assert_line "Zoé,0,0,3"
    assert_line "rarfan.rar,,0,0"
    [ "$(wc -l <"$OUT/grades.csv")" -eq 17 ] || fail "grades.csv: $(cat "$OUT/grades.csv")"
    run cat "$OUT/summary.md"
    assert_output --partial "## Why steps were not passed, counted per step"
    assert_output --regexp '- [0-9]+ x not-started: the starter as shipped'
    # One scored entry for the step, then one per test of its check.
    run python3 - "$OUT" "$(( $(grep -c '^@test ' "$ROOT/checks/02_manual_commit.bats") + 1 ))" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1] + "/Zoë/results.json", encoding="utf-8"))
assert r["score"] == 3, r
assert [t["name"] for t in r["tests"]][0] == "02_manual_commit" and r["tests"][0]["max_score"] == 3, r
assert len(r["tests"]) == int(sys.argv[2]) and all(t["status"] == "passed" for t in r["tests"]), r
assert r["tests"][1]["number"] == "2.1" and r["tests"][1]["name"].startswith("02_manual_commit: "), r
r = json.load(open(sys.argv[1] + "/hangs/results.json", encoding="utf-8"))
assert r["score"] == 0 and r["tests"][0]["output"].startswith("fail: "), r
print("ok")
EOF
    assert_output ok
    run gradescope_fields "$OUT"/*/results.json
    assert_output ok
}

# Every field of results.json is one of Gradescope's specification, of its type.
gradescope_fields() { python3 "$BATS_TEST_DIRNAME/fixtures/gradescope_fields.py" "$@"; }

@test "grade: re-grading one student merges into the class; unchanged ones are skipped unless FORCE" {
    cp -r "$OUT" "$BATS_TEST_TMPDIR/class"
    run -0 env RUN_TIMEOUT=10 TMPDIR="$GTMP" "$ROOT/scripts/grade.sh" --steps 02 --weights "$BATS_FILE_TMPDIR/weights" --only Zoé -o "$BATS_TEST_TMPDIR/class" "$SUBS"
    assert_output --partial "unchanged since it was graded here"
    run -0 env RUN_TIMEOUT=10 TMPDIR="$GTMP" "$ROOT/scripts/grade.sh" --steps 02 --weights "$BATS_FILE_TMPDIR/weights" --only Zoé --force -o "$BATS_TEST_TMPDIR/class" "$SUBS"
    assert_output --partial "[1/1] Zoé: 0/3"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/class/grades.csv")" -eq 17 ]
    run diff <(sort "$OUT/grades.csv") <(sort "$BATS_TEST_TMPDIR/class/grades.csv")
    assert_success
}

@test "grade: nothing is left behind: no process, no temporary folder" {
    run pgrep -f "$GTMP/"
    assert_failure
    run find "$GTMP" -mindepth 1
    assert_output ""
}

@test "grade: stopped (SIGTERM, as Ctrl+C), it stops every check and removes its folders" {
    mkdir -p "$BATS_TEST_TMPDIR/subs" "$BATS_TEST_TMPDIR/tmp"
    cp -R "$SUBS/hangs" "$BATS_TEST_TMPDIR/subs/"
    RUN_TIMEOUT=60 TMPDIR="$BATS_TEST_TMPDIR/tmp" "$ROOT/scripts/grade.sh" --steps 02 -o "$BATS_TEST_TMPDIR/out" \
        "$BATS_TEST_TMPDIR/subs" >"$BATS_TEST_TMPDIR/log" 2>&1 3>&- &
    pid=$!
    for _ in $(seq 300); do
        pgrep -f "$BATS_TEST_TMPDIR/tmp/.*/build/steps/02_manual_commit" >/dev/null && break
        sleep 0.1
    done
    pgrep -f "$BATS_TEST_TMPDIR/tmp/.*/build/steps/02_manual_commit" >/dev/null || fail "the hanging program never started: $(cat "$BATS_TEST_TMPDIR/log")"
    kill -TERM "$pid"
    status=0; wait "$pid" || status=$?
    [ "$status" -eq 130 ] || fail "expected exit 130, got $status: $(cat "$BATS_TEST_TMPDIR/log")"
    sleep 1
    run pgrep -f "$BATS_TEST_TMPDIR/tmp/"
    assert_failure
    run find "$BATS_TEST_TMPDIR/tmp" -mindepth 1
    assert_output ""
}

@test "grade: in the sandbox the reference solutions of 07 (a database of its own) and 09 (a second topic, a transactional producer) pass" {
    # The class above grades step 02 only. These two steps keep more than a topic: a
    # regression here once failed every honest 07 in the grader alone (the check's
    # sqlite3 made an empty database where the sandbox links the program's).
    local s sub=$BATS_TEST_TMPDIR/subs/ref
    for s in 07_idempotent_sink 09_transactions; do
        mkdir -p "$sub/steps/$s"
        cp "$ROOT/solutions/$s/"*.c "$sub/steps/$s/"
    done
    mkdir -p "$BATS_TEST_TMPDIR/tmp"
    run env TMPDIR="$BATS_TEST_TMPDIR/tmp" "$ROOT/scripts/grade.sh" --steps 07,09 -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/subs"
    assert_success
    run -0 cat "$BATS_TEST_TMPDIR/out/grades.csv"
    assert_line --regexp '^ref,07_idempotent_sink,pass,'
    assert_line --regexp '^ref,09_transactions,pass,'
}
