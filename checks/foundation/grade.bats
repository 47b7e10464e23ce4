#!/usr/bin/env bats
# checks/foundation/grade.bats - scripts/grade.sh (`make grade SUBMISSIONS=DIR`) on sample
# submissions made here from solutions/, checks/mutants/ and a few lines of C:
#   correct     the reference solutions in place of the starters        (a folder)
#   nocompile   correct, but 03 has a syntax error                        (a tarball, one top folder)
#   wrong       02 commits before processing (checks/mutants/02_commit_before_processing)
#                                                                         (a folder, one top folder)
#   hangs       02 never ends and ignores SIGINT and SIGTERM              (a folder)
#   faker       02 and 03 print plausible lines but never talk to Kafka   (a folder)
# Two gradings run at the same time: the four broken ones on steps 02 and 03, two at a
# time (-j 2) with RUN_TIMEOUT=10 so that the hang costs little; and the correct one on
# every step with the default RUN_TIMEOUT. About a minute on 2 cores, broker up.
#
#   bats checks/foundation/grade.bats

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    export SUBS=$BATS_FILE_TMPDIR/subs SUBS_OK=$BATS_FILE_TMPDIR/subs-ok
    export OUT=$BATS_FILE_TMPDIR/out OUT_OK=$BATS_FILE_TMPDIR/out-ok
    export GTMP=$BATS_FILE_TMPDIR/gtmp
    mkdir -p "$SUBS" "$SUBS_OK" "$GTMP"
    # The instructor's steps/ before grading: grading must not write there.
    (cd "$ROOT" && find steps -type f -exec sha256sum {} + | sort) >"$BATS_FILE_TMPDIR/steps.before"

    make_submissions

    # Both gradings at once: the correct one in the background.
    (RUN_TIMEOUT=25 TMPDIR=$GTMP "$ROOT/scripts/grade.sh" -j 1 -o "$OUT_OK" "$SUBS_OK" \
        >"$BATS_FILE_TMPDIR/grade-ok.log" 2>&1; echo $? >"$BATS_FILE_TMPDIR/grade-ok.status") 3>&- &
    local t0=$SECONDS
    status=0
    RUN_TIMEOUT=10 TMPDIR=$GTMP "$ROOT/scripts/grade.sh" -j 2 --steps 02,03 -o "$OUT" "$SUBS" \
        >"$BATS_FILE_TMPDIR/grade.log" 2>&1 3>&- || status=$?
    echo "$status" >"$BATS_FILE_TMPDIR/grade.status"
    wait
    echo "$((SECONDS - t0))" >"$BATS_FILE_TMPDIR/grade.seconds"
}

setup() {
    load ../test_helper/common
}

# The solution's files in place of the starter's, same names: DIR/steps/NN_topic/*.c
put_correct() {
    local s f
    for s in "$ROOT"/steps/[0-9][0-9]_*/; do
        s=$(basename "$s")
        mkdir -p "$1/steps/$s"
        for f in "$ROOT/steps/$s"/*.c; do cp "$ROOT/solutions/$s/$(basename "$f")" "$1/steps/$s/"; done
    done
}

make_submissions() {
    # correct: steps/ at the top.
    put_correct "$SUBS_OK/correct"

    # nocompile: a tarball whose one top folder holds steps/; 03 does not compile.
    put_correct "$BATS_FILE_TMPDIR/nc/nocompile-main"
    sed -i '0,/^int main/s//this is not C;\nint main/' "$BATS_FILE_TMPDIR/nc/nocompile-main/steps/03_batch_commit/batch_commit.c"
    tar -czf "$SUBS/nocompile.tar.gz" -C "$BATS_FILE_TMPDIR/nc" nocompile-main

    # wrong: a known-wrong 02 (commit, then process), in a folder inside the folder.
    put_correct "$SUBS/wrong/wrong-main"
    patch -s -o "$SUBS/wrong/wrong-main/steps/02_manual_commit/manual_commit.c" \
        "$ROOT/solutions/02_manual_commit/manual_commit.c" <"$ROOT/checks/mutants/02_commit_before_processing.patch"

    # hangs: 02 never ends, whatever it is sent short of SIGKILL.
    put_correct "$SUBS/hangs"
    cat >"$SUBS/hangs/steps/02_manual_commit/manual_commit.c" <<'EOF'
#include <signal.h>
#include <unistd.h>

int main(void) {
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        for (;;)
                sleep(1);
}
EOF

    # faker: prints the lines a consumer would print, without a consumer.
    put_correct "$SUBS/faker"
    for f in 02_manual_commit/manual_commit.c 03_batch_commit/batch_commit.c; do
        cat >"$SUBS/faker/steps/$f" <<'EOF'
#include <stdio.h>
#include <time.h>

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
        for (int i = 0; i < 10; i++)
                for (int p = 0; p < 3; p++) {
                        long long t = now_ms();
                        printf("started partition=%d offset=%d value=Order-%d at=%lld\n", p, i, i * 3 + p + 1, t);
                        printf("processed partition=%d offset=%d value=Order-%d at=%lld\n", p, i, i * 3 + p + 1, t);
                        printf("committed partition=%d offset=%d at=%lld\n", p, i + 1, t);
                }
        return 0;
}
EOF
    done
}

# The CSV row of STUDENT and STEP, as "result<TAB>reason" (python3's csv module reads it,
# so the quoting is checked too).
csv_row() {
    python3 - "$1" "$2" "$3" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="") as f:
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

@test "grade: both gradings ran, printed progress and the paths, and exited 0" {
    note "graded 4 broken submissions (steps 02,03, -j 2) and 1 correct one (3 steps) at once in $(cat "$BATS_FILE_TMPDIR/grade.seconds") s"
    run cat "$BATS_FILE_TMPDIR/grade.log"
    [ "$(cat "$BATS_FILE_TMPDIR/grade.status")" = 0 ] || fail "grade.sh exited $(cat "$BATS_FILE_TMPDIR/grade.status"): $output"
    assert_output --regexp '\[[1-4]/4\] (nocompile|wrong|hangs|faker): [0-2]/2'
    assert_output --partial "[4/4]"
    assert_output --partial "$OUT/summary.md"
    assert_output --partial "$OUT/grades.csv"
    [ "$(cat "$BATS_FILE_TMPDIR/grade-ok.status")" = 0 ] || fail "grade.sh (correct) exited $(cat "$BATS_FILE_TMPDIR/grade-ok.status"): $(cat "$BATS_FILE_TMPDIR/grade-ok.log")"
}

@test "grade: the correct submission gets 3/3" {
    run cat "$OUT_OK/correct/report.md"
    assert_output --partial "# correct: 3/3"
    refute_output --partial "| fail |"
    run cat "$OUT_OK/grades.csv"
    assert_line --index 0 "student,step,result,reason"
    assert_line --index 1 "correct,01_auto_commit,pass,"
    assert_line --index 2 "correct,02_manual_commit,pass,"
    assert_line --index 3 "correct,03_batch_commit,pass,"
    run grep -F "| correct |" "$OUT_OK/summary.md"
    assert_output "| correct | pass | pass | pass | 3/3 |"
}

@test "grade: a step that does not compile fails, with the compiler's message" {
    run csv_row "$OUT/grades.csv" nocompile 03_batch_commit
    assert_output --regexp $'^fail\tdoes not compile: steps/03_batch_commit/batch_commit.c:[0-9]+:[0-9]+: error: '
    run csv_row "$OUT/grades.csv" nocompile 02_manual_commit
    assert_output $'pass\t'
    run cat "$OUT/nocompile/report.md"
    assert_output --partial "# nocompile: 1/2"
    assert_output --partial "## 03_batch_commit: the compiler's message"
    assert_output --partial "this is not C"
    assert_output --regexp "batch_commit.c:[0-9]+:[0-9]+: error:"
}

@test "grade: a wrong commit strategy fails with the check's reason" {
    run csv_row "$OUT/grades.csv" wrong 02_manual_commit
    assert_output --partial $'fail\t'
    assert_output --partial "the commit came before processing"
    run csv_row "$OUT/grades.csv" wrong 03_batch_commit
    assert_output $'pass\t'
    run cat "$OUT/wrong/report.md"
    assert_output --partial "## 02_manual_commit: the check's output"
    assert_output --partial "not ok 1"
}

@test "grade: a program that hangs fails with 'did not end within', and is killed" {
    run csv_row "$OUT/grades.csv" hangs 02_manual_commit
    assert_output --partial $'fail\t02_manual_commit did not end within 10s'
    run csv_row "$OUT/grades.csv" hangs 03_batch_commit
    assert_output $'pass\t'
}

@test "grade: a program that prints the lines without consuming and committing fails" {
    run csv_row "$OUT/grades.csv" faker 02_manual_commit
    assert_output --partial $'fail\t'
    assert_output --partial "the broker recorded 0"
    run csv_row "$OUT/grades.csv" faker 03_batch_commit
    assert_output --partial $'fail\t'
}

@test "grade: grades.csv has one row per student and step; summary.md has the class table" {
    run cat "$OUT/grades.csv"
    assert_line --index 0 "student,step,result,reason"
    [ "${#lines[@]}" -eq 9 ] || fail "expected a header and 8 rows (4 students x 2 steps), got ${#lines[@]} lines: $output"
    run python3 -c 'import csv, sys; rows = list(csv.reader(open(sys.argv[1], newline=""))); assert all(len(r) == 4 for r in rows), rows; print(len(rows))' "$OUT/grades.csv"
    assert_output 9
    run cat "$OUT/summary.md"
    assert_line "| student | 02_manual_commit | 03_batch_commit | total |"
    assert_line "| faker | fail | fail | 0/2 |"
    assert_line "| hangs | fail | pass | 1/2 |"
    assert_line "| nocompile | pass | fail | 1/2 |"
    assert_line "| wrong | fail | pass | 1/2 |"
    assert_line "| **passed** | 1/4 | 2/4 | 3/8 |"
}

@test "grade: junit.xml is well-formed XML and counts the failures" {
    run python3 - "$OUT" "$OUT_OK" <<'EOF'
import sys, xml.etree.ElementTree as ET
out, out_ok = sys.argv[1], sys.argv[2]
def load(path):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites", root.tag
    cases = root.findall("./testsuite/testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(root.get("tests")) == len(cases), (path, root.get("tests"), len(cases))
    assert int(root.get("failures")) == len(failed), (path, root.get("failures"), len(failed))
    return root, cases, failed
root, cases, failed = load(out_ok + "/correct/junit.xml")
assert [s.get("name") for s in root.findall("testsuite")] == ["01_auto_commit", "02_manual_commit", "03_batch_commit"]
assert len(cases) >= 8 and not failed, (len(cases), len(failed))
root, cases, failed = load(out + "/nocompile/junit.xml")
names = [c.get("name") for c in failed]
assert names == ["03_batch_commit: compiles"], names
assert "error" in failed[0].find("failure").text
for who in ("wrong", "hangs", "faker"):
    root, cases, failed = load(out + "/" + who + "/junit.xml")
    assert failed, who
print("ok")
EOF
    assert_success
    assert_output "ok"
}

@test "grade: nothing is left behind: no process, no temporary folder, nothing written in steps/" {
    run pgrep -f "$GTMP/"
    assert_failure
    run find "$GTMP" -mindepth 1
    assert_output ""
    (cd "$ROOT" && find steps -type f -exec sha256sum {} + | sort) >"$BATS_TEST_TMPDIR/steps.after"
    run diff "$BATS_FILE_TMPDIR/steps.before" "$BATS_TEST_TMPDIR/steps.after"
    assert_success
}

@test "grade: a tarball with '..' or absolute paths is refused, and its steps fail" {
    mkdir -p "$BATS_TEST_TMPDIR/subs" "$BATS_TEST_TMPDIR/evil/steps"
    echo 'int main(void) { return 0; }' >"$BATS_TEST_TMPDIR/evil/x.c"
    tar -cf "$BATS_TEST_TMPDIR/subs/mallory.tar" -C "$BATS_TEST_TMPDIR/evil" steps --transform 's|^steps|../steps|' x.c
    run -0 env TMPDIR="$BATS_TEST_TMPDIR" "$ROOT/scripts/grade.sh" --steps 02 -o "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/subs"
    run csv_row "$BATS_TEST_TMPDIR/out/grades.csv" mallory 02_manual_commit
    assert_output --partial $'fail\tthe tarball was refused'
    [ ! -e "$BATS_TEST_TMPDIR/steps" ] || fail "something was extracted outside the temporary folder"
}

@test "grade: stopped (SIGTERM, as Ctrl+C), it stops every check and removes its folders" {
    mkdir -p "$BATS_TEST_TMPDIR/subs" "$BATS_TEST_TMPDIR/tmp"
    cp -R "$SUBS/hangs" "$BATS_TEST_TMPDIR/subs/"
    RUN_TIMEOUT=60 TMPDIR="$BATS_TEST_TMPDIR/tmp" "$ROOT/scripts/grade.sh" --steps 02 -o "$BATS_TEST_TMPDIR/out" \
        "$BATS_TEST_TMPDIR/subs" >"$BATS_TEST_TMPDIR/log" 2>&1 3>&- &
    pid=$!
    # Wait until the hanging program runs, inside the grader's temporary folder.
    for _ in $(seq 1 300); do
        pgrep -f "$BATS_TEST_TMPDIR/tmp/.*/build/steps/02_manual_commit" >/dev/null && break
        sleep 0.1
    done
    pgrep -f "$BATS_TEST_TMPDIR/tmp/.*/build/steps/02_manual_commit" >/dev/null || fail "the hanging program never started: $(cat "$BATS_TEST_TMPDIR/log")"
    kill -TERM "$pid"
    status=0; wait "$pid" || status=$?
    [ "$status" -eq 130 ] || fail "expected exit 130, got $status: $(cat "$BATS_TEST_TMPDIR/log")"
    run pgrep -f "$BATS_TEST_TMPDIR/tmp/"
    assert_failure
    run find "$BATS_TEST_TMPDIR/tmp" -mindepth 1
    assert_output ""
}
