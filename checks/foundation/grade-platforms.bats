#!/usr/bin/env bats
# checks/foundation/grade-platforms.bats - grading where instructors already grade:
#   - the container as the sandbox (GRADER_SANDBOX=container, scripts/sandbox.sh): refused
#     outside a container and when student code could read the workbook; what student
#     code gets there; the same verdicts as the bubblewrap sandbox on a small class;
#   - Gradescope (`make gradescope`, scripts/gradescope/run_autograder): the zip, and
#     run_autograder in a /autograder layout made from it (under a folder of its own, with
#     this machine's broker); its results.json has the specification's fields only;
#     setup.sh's downloads: the first source that gives the pinned sha256 (a fake curl);
#   - GitHub Classroom (`make classroom`): the workflow's commands, run as the command
#     grader runs them (only PATH and HOME), pass on the reference solutions and fail on
#     the starters (step 02 by default; CLASSROOM_STEPS=all for every step, about 2 min).
# Root only (student code runs as an unprivileged uid). Step 02 only; about 60 s on 2
# cores, broker up.
#
#   bats checks/foundation/grade-platforms.bats

FIX=$BATS_TEST_DIRNAME/grade-fixtures
S02=steps/02_manual_commit

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    [ "$(id -u)" -eq 0 ] || skip "root only: the container mode runs student code as an unprivileged uid"
    # Everything of the judge's under a closed folder (bats' own is 700); the gradings'
    # temporary folders where an unprivileged uid may cross (/tmp, 711).
    export W=$BATS_FILE_TMPDIR/wb OUT_C=$BATS_FILE_TMPDIR/out-container OUT_B=$BATS_FILE_TMPDIR/out-bwrap
    export AG=$BATS_FILE_TMPDIR/gs/autograder SUBS=$BATS_FILE_TMPDIR/subs
    export OPEN_TMP; OPEN_TMP=$(mktemp -d /tmp/wb-platforms.XXXXXX) && chmod 711 "$OPEN_TMP"
    make -s -C "$ROOT" gradescope GRADE_STEPS=02 >/dev/null || return 1
    mkdir -p "$W" "$AG/source" "$AG/submission/steps" "$SUBS"
    (cd "$W" && unzip -q "$ROOT/build/gradescope/autograder.zip") && cp -a "$W/." "$AG/source/" || return 1
    make -s -C "$W" tools >/dev/null || return 1
    # A small class: right, wrong, and the snoop attack (it reads the solutions by path).
    mkdir -p "$SUBS/right/$S02" "$SUBS/wrong/$S02" "$SUBS/snoop/$S02"
    cp "$ROOT/solutions/02_manual_commit/manual_commit.c" "$SUBS/right/$S02/"
    patch -s -o "$SUBS/wrong/$S02/manual_commit.c" "$ROOT/solutions/02_manual_commit/manual_commit.c" \
        <"$ROOT/checks/mutants/02_commit_before_processing.patch"
    sed "s|@ROOT@|$W|" "$FIX/snoop.c" >"$SUBS/snoop/$S02/manual_commit.c"
    cp -R "$SUBS/right/steps/." "$AG/submission/steps/"
    echo '{"users": [{"name": "Ada Lovelace", "email": "ada@example.com"}]}' >"$AG/submission_metadata.json"
    # The container mode and the bubblewrap sandbox side by side, then run_autograder.
    (cd "$W" && GRADER_SANDBOX=container GRADER_CONTAINER=1 RUN_TIMEOUT=10 TMPDIR=$OPEN_TMP \
        scripts/grade.sh -j 2 --steps 02 -o "$OUT_C" "$SUBS" >"$BATS_FILE_TMPDIR/container.log" 2>&1 3>&-
        echo $? >"$BATS_FILE_TMPDIR/container.status") &
    local bw=""
    if "$ROOT/scripts/sandbox.sh" check >/dev/null; then
        (cd "$W" && RUN_TIMEOUT=10 TMPDIR=$OPEN_TMP scripts/grade.sh -j 1 --steps 02 -o "$OUT_B" "$SUBS" \
            >"$BATS_FILE_TMPDIR/bwrap.log" 2>&1 3>&-; echo $? >"$BATS_FILE_TMPDIR/bwrap.status") &
        bw=$!
    fi
    wait
    local t0=$SECONDS
    AUTOGRADER_DIR=$AG KAFKA_PORT=${BROKER##*:} "$AG/source/run_autograder" >"$BATS_FILE_TMPDIR/run_autograder.log" 2>&1 3>&-
    echo "$? $((SECONDS - t0))" >"$BATS_FILE_TMPDIR/run_autograder.status"
}

teardown_file() {
    [ -z "${OPEN_TMP:-}" ] || rm -rf "$OPEN_TMP"
}

setup() {
    load ../test_helper/common
}

# The result of STUDENT's step 02 in a grades.csv.
result_of() { awk -F, -v s="$2" '$1 == s && $2 == "02_manual_commit" { print $3 }' "$1/grades.csv"; }

@test "platforms: container mode: refused outside a container and when the workbook is readable; accepted when asked for" {
    GRADER_CONTAINER=0 run "$ROOT/scripts/sandbox.sh" check-container
    assert_failure
    assert_output --partial "only in a throwaway container"
    [ "${#lines[@]}" -eq 1 ]
    local open=$OPEN_TMP/open
    mkdir -p "$open" && chmod 755 "$open" && echo x >"$open/Makefile" && chmod 644 "$open/Makefile"
    GRADER_CONTAINER=1 run "$ROOT/scripts/sandbox.sh" check-container "$open"
    assert_failure
    assert_output --partial "is readable by other users, so student code could read its checks and solutions"
    GRADER_CONTAINER=1 run -0 "$ROOT/scripts/sandbox.sh" check-container "$W"
    # The grader itself refuses with that line.
    GRADER_SANDBOX=container GRADER_CONTAINER=0 run "$W/scripts/grade.sh" --steps 02 -o "$BATS_TEST_TMPDIR/out" "$SUBS"
    assert_failure 1
    assert_output --partial "grade: cannot use the container as the sandbox: GRADER_SANDBOX=container runs student code without namespaces"
}

@test "platforms: container mode: student code runs as its own uid, with the limits and an allowlisted environment; the judge's files are closed" {
    local c=$OPEN_TMP/c uid=$((1500000000 + 3000000 + $$ % 10000))
    mkdir -p "$c/scratch" "$c/dbs" "$c/judge" && chmod 711 "$c" "$c/dbs" && chmod 700 "$c/judge"
    echo secret-check >"$c/judge/check.bats"
    chown -R "$uid:$uid" "$c/scratch" && chmod 700 "$c/scratch"
    printf 'SB_MODE=container\nSB_SCRATCH=%s\nSB_UID=%s\nSB_NET=\nSB_PORTS=""\nSB_DBS=%s\nSB_CPU=60\nSB_AS=%s\nSB_NPROC=64\nSB_FSIZE=%s\nSB_NOFILE=48\n' \
        "$c/scratch" "$uid" "$c/dbs" $((1 << 30)) $((1 << 20)) >"$c/conf"
    : >"$c/judge/probe"
    GITHUB_TOKEN=secret-token SSH_AUTH_SOCK=/tmp/agent LD_PRELOAD=$W/build/tools/libprobe.so WORKBOOK_PROBE=$c/judge/probe \
        run -0 "$ROOT/scripts/sandbox.sh" exec "$c/conf" -- sh -c \
        'id -u; ulimit -n; ulimit -f; pwd; cat "$1/judge/check.bats" 2>&1; ls "$1" 2>&1; ls "$2/solutions" 2>&1; echo probed >>"$WORKBOOK_PROBE"; env' sh "$c" "$W"
    [ "${lines[0]}" = "$uid" ] || fail "student code runs as ${lines[0]}, not $uid: $output"
    assert_line --index 1 48
    assert_line --index 2 $(( (1 << 20) / 512 ))   # sh counts 512-byte blocks
    assert_line --index 3 "$c/scratch"
    assert_output --partial "$c/judge/check.bats: Permission denied"
    assert_output --partial "cannot open directory '$c'"
    assert_output --partial "cannot access '$W/solutions'"
    refute_output --partial secret-check
    refute_output --partial secret-token
    refute_output --partial SSH_AUTH_SOCK
    assert_line "HOME=$c/scratch"
    # The probe's file, in a folder the uid cannot open, was handed over open.
    [ "$(cat "$c/judge/probe")" = probed ] || fail "the probe's file: '$(cat "$c/judge/probe")'"
}

@test "platforms: container mode gives the bubblewrap sandbox's verdicts on a small class; the snoop finds nothing" {
    [ "$(cat "$BATS_FILE_TMPDIR/container.status")" = 0 ] || fail "grade.sh (container) exited $(cat "$BATS_FILE_TMPDIR/container.status"): $(cat "$BATS_FILE_TMPDIR/container.log")"
    run cat "$BATS_FILE_TMPDIR/container.log"
    assert_output --partial "in this container, as an unprivileged user (GRADER_SANDBOX=container)"
    [ "$(result_of "$OUT_C" right)" = pass ] || fail "right: $(cat "$OUT_C/grades.csv")"
    [ "$(result_of "$OUT_C" wrong)" = fail ] || fail "wrong: $(cat "$OUT_C/grades.csv")"
    [ "$(result_of "$OUT_C" snoop)" = fail ] || fail "snoop: $(cat "$OUT_C/grades.csv")"
    run cat "$OUT_C/snoop/logs/02_manual_commit.tap"
    assert_output --partial "snoop: no solution to run"
    run grep -rl LEAKED "$OUT_C/snoop"
    assert_failure
    if [ -f "$BATS_FILE_TMPDIR/bwrap.status" ]; then
        [ "$(cat "$BATS_FILE_TMPDIR/bwrap.status")" = 0 ] || fail "grade.sh (bwrap) exited: $(cat "$BATS_FILE_TMPDIR/bwrap.log")"
        run diff <(cut -d, -f1-3 "$OUT_B/grades.csv") <(cut -d, -f1-3 "$OUT_C/grades.csv")
        assert_success
    fi
    python3 "$BATS_TEST_DIRNAME/fixtures/gradescope_fields.py" "$OUT_C"/*/results.json
}

@test "platforms: make gradescope: setup.sh and run_autograder at the zip's root, the workbook, the settings" {
    run -0 zipinfo -1 "$ROOT/build/gradescope/autograder.zip"
    assert_line setup.sh
    assert_line run_autograder
    assert_line gradescope.env
    assert_line Makefile
    assert_line checks/02_manual_commit.bats
    assert_line solutions/02_manual_commit/manual_commit.c
    refute_line --regexp '^(build|\.broker|\.git)/'
    run -0 zipinfo "$ROOT/build/gradescope/autograder.zip" run_autograder setup.sh
    assert_output --regexp '-rwx.* run_autograder'
    assert_output --regexp '-rwx.* setup.sh'
    run cat "$W/gradescope.env"
    assert_line "GRADE_STEPS=02"
    run -2 make -s -C "$ROOT" gradescope VISIBILITY=sometimes
}

@test "platforms: run_autograder in a /autograder layout: results.json to the specification, the verdict of make grade" {
    read -r status secs <"$BATS_FILE_TMPDIR/run_autograder.status"
    note "run_autograder: one submission, step 02, broker already up: $secs s"
    [ "$status" = 0 ] || fail "run_autograder exited $status: $(cat "$BATS_FILE_TMPDIR/run_autograder.log")"
    run cat "$BATS_FILE_TMPDIR/run_autograder.log"
    assert_output --partial "grading Ada Lovelace"
    run -0 python3 "$BATS_TEST_DIRNAME/fixtures/gradescope_fields.py" "$AG/results/results.json"
    run python3 - "$AG/results/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
steps = [t for t in r["tests"] if "max_score" in t]
print(r["score"], [(t["name"], t["status"]) for t in steps], len(r["tests"]) - len(steps), r["output"].split(",")[0])
EOF
    # The step's scored entry, then one entry per test of its check.
    assert_output "1 [('02_manual_commit', 'passed')] $(grep -c '^@test ' "$ROOT/checks/02_manual_commit.bats") Ada Lovelace: 1/1"
    # The same verdict as the grader's on that source (the class's "right").
    [ "$(result_of "$OUT_C" right)" = pass ]
    # The workbook is closed to other users; nothing is left behind.
    [ "$(stat -c %a "$AG/source")" = 700 ]
    run find "$OPEN_TMP" -maxdepth 1 -name 'run-autograder.*'
    assert_output ""
}

@test "platforms: classroom: each command passes on the reference solutions and fails on the starters, with only PATH and HOME" {
    local wf=$BATS_TEST_TMPDIR/classroom.yml want=${CLASSROOM_STEPS:-02}
    OUT=$wf CLASSROOM_PORT=${BROKER##*:} run -0 "$ROOT/scripts/classroom.sh"
    # Every step has a grader, each command carries its settings, the reporter lists them all.
    run -0 python3 - "$wf" "$(cd "$ROOT/steps" && ls -d [0-9][0-9]_* | paste -sd,)" <<'EOF'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = wf["jobs"]["run-autograding-tests"]["steps"]
graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader@v1")]
assert [g["with"]["test-name"] for g in graders] == sys.argv[2].split(","), graders
for g in graders:
    assert g["with"]["command"].startswith("KAFKA_PORT="), g
    print(g["with"]["test-name"] + "\t" + g["with"]["command"])
rep = steps[-1]
assert rep["uses"] == "classroom-resources/autograding-grading-reporter@v1", rep
assert rep["with"]["runners"].split(",") == [g["id"] for g in graders], rep
for g in graders:
    assert rep["env"][g["id"].upper() + "_RESULTS"] == "${{steps.%s.outputs.result}}" % g["id"], rep["env"]
EOF
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/commands"
    # Two trees: the starters as shipped, and the reference solutions in their place.
    local sol=$BATS_TEST_TMPDIR/sol start=$BATS_TEST_TMPDIR/start name cmd st path
    # The runner's PATH: without bats' own folders, which bats puts first for its tests.
    path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v 'bats' | paste -sd:)
    mkdir -p "$sol" "$start"
    cp -a "$W/." "$sol/" && cp -a "$W/." "$start/"
    for d in "$ROOT"/solutions/[0-9][0-9]_*/; do cp "$d"*.c "$sol/steps/$(basename "$d")/"; done
    while IFS=$'\t' read -r name cmd; do
        [ "$want" = all ] || [[ ",$want," == *",${name%%_*},"* ]] || continue
        st=0; (cd "$sol" && env -i PATH="$path" HOME="$HOME" sh -c "$cmd") >"$BATS_TEST_TMPDIR/$name.sol" 2>&1 3>&- || st=$?
        [ "$st" -eq 0 ] || fail "$name: '$cmd' failed on the reference solution (exit $st): $(tail -n 15 "$BATS_TEST_TMPDIR/$name.sol")"
        st=0; (cd "$start" && env -i PATH="$path" HOME="$HOME" sh -c "$cmd") >"$BATS_TEST_TMPDIR/$name.start" 2>&1 3>&- || st=$?
        [ "$st" -ne 0 ] || fail "$name: '$cmd' passed on the starter: $(tail -n 15 "$BATS_TEST_TMPDIR/$name.start")"
        note "$name: passes on the solution, fails on the starter (exit $st)"
    done <"$BATS_TEST_TMPDIR/commands"
}

# setup.sh's downloads (`setup.sh --fetch DIR URL SHA256 ...`), with a fake curl that
# serves FAKE_NET/<the URL's file name> and cannot reach anything else.
@test "platforms: gradescope setup.sh: each download from the first source that gives the pinned bytes; none, and it stops" {
    local net=$BATS_TEST_TMPDIR/net bin=$BATS_TEST_TMPDIR/bin d=$BATS_TEST_TMPDIR/pkg good bad
    mkdir -p "$net" "$bin" "$d/good/pkg" "$d/bad/pkg"
    echo good >"$d/good/pkg/load.bash" && echo bad >"$d/bad/pkg/load.bash"
    tar -czf "$net/good.tgz" -C "$d/good" pkg && tar -czf "$net/bad.tgz" -C "$d/bad" pkg
    good=$(sha256sum <"$net/good.tgz" | cut -c1-64) bad=$(sha256sum <"$net/bad.tgz" | cut -c1-64)
    cat >"$bin/curl" <<'SH'
#!/bin/sh
out= url=
while [ $# -gt 0 ]; do
    case $1 in -o) out=$2; shift ;; --connect-timeout|--max-time|--retry) shift ;; -*) ;; *) url=$1 ;; esac
    shift
done
echo "$url" >>"$FAKE_NET/asked"
[ -f "$FAKE_NET/${url##*/}" ] || { echo "curl: (6) Could not resolve host: ${url#*://}" >&2; exit 6; }
cp "$FAKE_NET/${url##*/}" "$out"
SH
    chmod 755 "$bin/curl"
    local setup=$ROOT/scripts/gradescope/setup.sh
    export FAKE_NET=$net
    # GitHub cannot be reached: the second source, checked.
    PATH=$bin:$PATH run -0 "$setup" --fetch "$d/1" https://github.com/x/y/v1.tar.gz "$bad" https://registry.npmjs.org/y/-/good.tgz "$good"
    assert_output --partial "https://github.com/x/y/v1.tar.gz: cannot download it; the next source"
    assert_output --partial "https://registry.npmjs.org/y/-/good.tgz: sha256 as pinned, unpacked into $d/1"
    [ "$(cat "$d/1/load.bash")" = good ]
    # The first gives other bytes than pinned: not used, said so; the second is.
    PATH=$bin:$PATH run -0 "$setup" --fetch "$d/2" https://example.org/bad.tgz "$good" https://example.org/good.tgz "$good"
    assert_output --partial "https://example.org/bad.tgz: sha256 mismatch (pinned $good, got $bad): not used"
    [ "$(cat "$d/2/load.bash")" = good ]
    # SETUP_DOWNLOADS' copy is checked as well: a wrong one is not used.
    mkdir -p "$BATS_TEST_TMPDIR/dl" && cp "$net/bad.tgz" "$BATS_TEST_TMPDIR/dl/good.tgz"
    : >"$net/asked"
    SETUP_DOWNLOADS=$BATS_TEST_TMPDIR/dl PATH=$bin:$PATH run -1 "$setup" --fetch "$d/3" https://example.org/good.tgz "$good"
    assert_output --partial "sha256 mismatch (pinned $good, got $bad): not used"
    assert_output --partial "no source gave the pinned file for $d/3: stopping"
    [ ! -e "$d/3" ]
    [ ! -s "$net/asked" ]   # taken from SETUP_DOWNLOADS, not downloaded
    # No source gives the pinned bytes: it stops, nothing unpacked.
    PATH=$bin:$PATH run -1 "$setup" --fetch "$d/4" https://github.com/x/y/v1.tar.gz "$good" https://example.org/bad.tgz "$good"
    assert_output --partial "no source gave the pinned file for $d/4: stopping"
    [ ! -e "$d/4" ]
    # Every pinned download: GitHub's (or the release's) URL first, then its other sources, each with a sha256.
    run -0 bash -c 'source <(sed -n "/^LIBRDKAFKA_VERSION=/,/^export KAFKA_JARS_CACHE=/p" "$1")
        for a in LIBRDKAFKA_SOURCES BATS_SOURCES BATS_SUPPORT_SOURCES BATS_ASSERT_SOURCES; do
            declare -n s=$a; echo "$a ${#s[@]} ${s[0]}"
            for ((i = 0; i < ${#s[@]}; i += 2)); do [[ ${s[i]} == https://* && ${s[i+1]} =~ ^[0-9a-f]{64}$ ]] || echo "BAD $a $i"; done
        done' sh "$setup"
    refute_output --partial BAD
    assert_line --regexp '^LIBRDKAFKA_SOURCES 4 https://github.com/confluentinc/librdkafka/'
    assert_line --regexp '^BATS_SOURCES 4 https://github.com/bats-core/bats-core/'
    assert_line --regexp '^BATS_SUPPORT_SOURCES 4 https://github.com/bats-core/bats-support/'
    assert_line --regexp '^BATS_ASSERT_SOURCES 4 https://github.com/bats-core/bats-assert/'
}
