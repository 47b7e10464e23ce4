#!/usr/bin/env bash
# `make grade SUBMISSIONS=DIR`: grade a class's submissions with the steps' own checks.
#
# DIR holds one entry per student, named after the student (any UTF-8 name): a folder or an
# archive (.tar, .tar.gz, .tgz, .zip). What is taken from it, and what is refused:
# scripts/grade-intake.sh. Anything else gets a "not graded" row.
#
# Each submission is graded on its own, several at once (-j):
#   1. intake: the workbook's step folders, regular files with safe names only, no link
#      followed, archives capped; the files' hashes and the git commit are recorded;
#   2. a private folder (mode 700) gets a scratch copy for the student (Makefile, tools/
#      sources, its steps/) and a judge's copy (checks, built tools, scripts);
#   3. each step: an untouched starter is "not started"; otherwise it is built INSIDE the
#      sandbox (scripts/sandbox.sh: bubblewrap, an unprivileged uid when we are root, no
#      network, rlimits), then its check runs OUTSIDE it (bats, the tools, the analysis)
#      on programs that run inside it: WORKBOOK_BIN holds one wrapper per step that runs
#      the student's binary through scripts/sandbox.sh, with the broker relayed in.
#      Tripwires: the judge's copy is hashed before and after each step (a change fails
#      the step and the copy is restored), and the TAP plan must equal the check's number
#      of tests. After a step's first hang, its remaining runs fail at once.
#   4. reports (scripts/grade-report.sh), every captured output capped at 64 KiB.
#
# Reports, in OUTDIR (default build/grades/YYYYmmdd-HHMMSS); grading into an existing
# class folder merges: the class files are remade from every student folder in it, and a
# submission whose sources (and steps, checks) are unchanged since it was graded there is
# skipped unless --force.
#   STUDENT/report.md, junit.xml, results.json (Gradescope), provenance.txt, hashes.txt,
#   notes.txt (what intake left out), rows.tsv, logs/
#   grades.csv (student,step,result,reason), grades-wide.csv (student,01..NN,score,max),
#   summary.md (the table, reasons counted per step)
#
# Usage: scripts/grade.sh [-j N] [-o OUTDIR] [--steps 01,02] [--only NAME] [--force] [--weights FILE] [--keep] DIR
#   -j N          grade N submissions at once (default: the number of cores)
#   -o OUTDIR     where the reports go (default build/grades/<date-time>); an existing
#                 class folder is merged into
#   --steps L     only these steps (comma-separated numbers or names; default: all)
#   --only NAME   only the submission(s) of this student (the name, without extension)
#   --force       grade again even when the sources are unchanged
#   --weights F   step weights, lines "NN WEIGHT" (default 1 each)
#   --keep        keep the temporary folders (their paths are printed)
# Environment: RUN_TIMEOUT (s, default 25) bounds each program run inside a check;
# CHECK_TIMEOUT (s, default: 2 x RUN_TIMEOUT + 10 per test, + 30) bounds each check;
# GRADE_TEST_JOBS (2): tests of one step run side by side; BROKER (default
# 127.0.0.1:${KAFKA_PORT:-9092}); UNSAFE=1 grades without the sandbox (refused otherwise
# when bwrap or namespaces are missing); GRADER_SANDBOX=container: one submission per
# throwaway container (Gradescope, GitHub Actions), no namespaces: student code runs as an
# unprivileged uid, the grader's folders mode 700 (refused outside a container unless
# GRADER_CONTAINER=1, and when that uid could read the workbook); the limits: SANDBOX_CPU
# (s, 120), SANDBOX_AS (bytes, 4 GiB), SANDBOX_NPROC (256), SANDBOX_FSIZE (bytes, 16 MiB),
# SANDBOX_NOFILE (256); SANDBOX_OUTPUT (bytes, 8 MiB): each run's stdout and stderr are cut
# there (the program keeps running; the report says so).
# Exit status: 0 when grading ran (whatever the grades), 2 on a usage error, 1 when
# grading itself failed or cannot be done safely.
set -uo pipefail
if [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" -eq 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
    echo "grade: needs bash 5.1 or newer (this is $BASH_VERSION)" >&2; exit 1
fi
for tool in setsid timeout tar unzip zipinfo make bats perl prlimit sha256sum; do
    command -v "$tool" >/dev/null || { echo "grade: needs $tool (make deps)" >&2; exit 1; }
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "grade: $*" >&2; exit 1; }

jobs_n=$(nproc 2>/dev/null || echo 2)
outdir="" keep=0 only="" subs="" only_name="" force=${FORCE:-0} weights=""
while [ $# -gt 0 ]; do
    case "$1" in
        -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs_n=$2; shift ;;
        -j*) jobs_n=${1#-j} ;;
        -o) [ $# -ge 2 ] || { usage >&2; exit 2; }; outdir=$2; shift ;;
        --steps) [ $# -ge 2 ] || { usage >&2; exit 2; }; only=$2; shift ;;
        --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; only_name=$2; shift ;;
        --weights) [ $# -ge 2 ] || { usage >&2; exit 2; }; weights=$2; shift ;;
        --force) force=1 ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "grade: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) [ -z "$subs" ] || { echo "grade: one DIR only" >&2; usage >&2; exit 2; }; subs=$1 ;;
    esac
    shift
done
[ "$force" = 0 ] || force=1
if [ -z "$subs" ]; then echo "grade: which submissions? give a DIR (make grade SUBMISSIONS=DIR)" >&2; usage >&2; exit 2; fi
[ -d "$subs" ] || { echo "grade: $subs is not a directory" >&2; usage >&2; exit 2; }
[[ "$jobs_n" =~ ^[1-9][0-9]*$ ]] || { echo "grade: -j wants a number, not '$jobs_n'" >&2; exit 2; }
[ -z "$weights" ] || [ -f "$weights" ] || { echo "grade: no weights file $weights" >&2; exit 2; }
subs=$(cd "$subs" && pwd)
case "$outdir" in ""|/*) ;; *) outdir=$PWD/$outdir ;; esac   # relative to where we were called
case "$weights" in ""|/*) ;; *) weights=$PWD/$weights ;; esac
cd "$ROOT"
. scripts/lib.sh
. scripts/grade-intake.sh
. scripts/grade-report.sh
load_weights "$weights" || exit 2

RUN_TIMEOUT=${RUN_TIMEOUT:-25}
BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
export RUN_TIMEOUT BROKER
broker_port=${BROKER##*:}

# The steps to grade: the instructor's, or those --steps names.
steps=()
if [ -z "$only" ]; then
    steps=($(workbook_steps))
else
    for want in ${only//,/ }; do
        resolve_step grade "$want"
        steps+=("$STEP_DIR")
    done
fi

# The sandbox, or a clear refusal.
if [ "${UNSAFE:-0}" = 1 ]; then
    sandbox_mode=unsafe SANDBOX_DESC="WITHOUT a sandbox (UNSAFE=1)"
    echo "grade: UNSAFE=1: student code runs WITHOUT a sandbox (only limits and a clean environment)" >&2
elif [ "${GRADER_SANDBOX:-}" = container ]; then
    why=$(scripts/sandbox.sh check-container "$ROOT") || die "cannot use the container as the sandbox: $why"
    sandbox_mode=container SANDBOX_DESC="in this container, as an unprivileged user (GRADER_SANDBOX=container)"
elif [ -n "${GRADER_SANDBOX:-}" ] && [ "$GRADER_SANDBOX" != bwrap ]; then
    echo "grade: GRADER_SANDBOX is bwrap (the default) or container, not '$GRADER_SANDBOX'" >&2; exit 2
else
    why=$(scripts/sandbox.sh check) || die "cannot sandbox student code: $why"
    if [ "$(id -u)" -eq 0 ]; then sandbox_mode=root; else sandbox_mode=user; fi
    SANDBOX_DESC="in a bubblewrap sandbox ($sandbox_mode mode)"
fi

# The submissions: every entry of DIR (hidden ones and __MACOSX aside), by name.
entries=()
while IFS= read -r -d '' e; do
    base=$(basename "$e")
    case "$base" in .*|__MACOSX) continue ;; esac
    if [ -n "$only_name" ]; then classify_entry "$e"; [ "$NAME" = "$only_name" ] || [ "$base" = "$only_name" ] || continue; fi
    entries+=("$e")
done < <(find "$subs" -mindepth 1 -maxdepth 1 -print0 | sort -z)
[ ${#entries[@]} -gt 0 ] || die "no submissions${only_name:+ named '$only_name'} in $subs (one folder or archive per student)"

# The tools every check needs, built once here and copied; and a broker that answers.
make -s tools || die "could not build the tools"
# A broker that is up but busy (a loaded machine) can take more than 3 s to answer: when
# something listens on its port, it gets 20 s before grading concludes there is none.
broker_answers() {
    build/tools/ping -b "$BROKER" -t 3000 >/dev/null 2>&1 ||
        { (exec 9<>"/dev/tcp/${BROKER%:*}/${BROKER##*:}") 2>/dev/null &&
          build/tools/ping -b "$BROKER" -t 20000 >/dev/null 2>&1; }
}
if ! broker_answers; then
    echo "grade: no broker answers at $BROKER: starting one"
    scripts/broker.sh up >/dev/null || die "could not start the broker"
fi

if [ -z "$outdir" ]; then
    outdir=build/grades/$(date +%Y%m%d-%H%M%S)
    n=2; while [ -e "$outdir" ]; do outdir=${outdir%-r*}-r$n; n=$((n + 1)); done
fi
mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/workbook-grade.XXXXXX") || die "cannot create a temporary folder"
chmod 700 "$work"
# The container mode: student code reaches its scratch copy by path, so the folders above
# it may be crossed (711, not listed); everything of the judge's stays 700.
if [ "$sandbox_mode" = container ]; then
    chmod 711 "$work"
    setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$work" ||
        die "an unprivileged user cannot reach $work (a folder above it is closed): set TMPDIR to a folder under /tmp"
fi

# The workbook the judge uses, and its hash (the tripwire compares each copy with it).
judge_files() { # DIR: the judge's files under DIR, hashed
    (cd "$1" && find Makefile checks tools build/tools scripts solutions -type f ! -name '*.tmp' -print0 2>/dev/null | sort -z | xargs -0r sha256sum)
}
mkdir -p "$work/judge/checks" "$work/judge/build" && chmod 700 "$work/judge"
cp -a Makefile tools scripts "$work/judge/" && cp -a build/tools "$work/judge/build/" &&
    cp -a checks/test_helper "$work/judge/checks/" && cp -a checks/[0-9][0-9]_*.bats "$work/judge/checks/" ||
    die "could not copy the workbook"
cp -a docker-compose.yml "$work/judge/" 2>/dev/null   # scripts/broker.sh reads Kafka's version there (06)
# A check that builds a control program from a solution and a mutant (07) gets both; the
# judge's copy is outside the sandbox, where student code never sees it.
for step in "${steps[@]}"; do
    for m in $(grep -o 'checks/mutants/[A-Za-z0-9_]*\.patch' "checks/$step.bats" | sort -u); do
        mkdir -p "$work/judge/checks/mutants" "$work/judge/solutions"
        cp -a "$m" "$work/judge/checks/mutants/" && cp -a "solutions/$step" "$work/judge/solutions/" || die "could not copy $m"
    done
done
judge_hash=$(judge_files "$work/judge" | sha256sum | cut -c1-16)
# The instructor's own checks and scripts: only without the sandbox (UNSAFE=1) can student
# code reach them, so only then are they compared after each step.
root_files() { (cd "$ROOT" && find checks scripts -type f -print0 | sort -z | xargs -0r sha256sum); }
root_hash=$(root_files | sha256sum | cut -c1-16)
checks_hash=$judge_hash
# What decides whether a submission needs grading again: its sources, the steps, the checks.
grading_key() { printf '%s %s %s\n' "$1" "${steps[*]}" "$checks_hash" | sha256sum | cut -c1-16; }

# ---------------------------------------------------------------- processes
sessions_of() { cat "$1"/sid 2>/dev/null | tr -d ' ' | grep -E '^[0-9]+$' || true; }
in_session() { ps -e -o pid=,sid= | awk -v s="$1" '$2 == s { print $1 }'; }
leftovers() { # DIR: every process of DIR's sessions, any process whose command line names DIR
    local sid pat
    for sid in $(sessions_of "$1"); do in_session "$sid"; done
    pat=$(printf '%s/' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g')
    pgrep -f -- "$pat" || true
}
kill_leftovers() { # DIR [UID]: TERM, then KILL what is still there (and the student uid's)
    local pids
    pids=$(leftovers "$1" | sort -u | grep -vx "$$" || true)
    if [ -n "$pids" ]; then
        kill -TERM $pids 2>/dev/null; sleep 1
        pids=$(leftovers "$1" | sort -u | grep -vx "$$" || true)
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    fi
    [ -z "${2:-}" ] || pkill -KILL -U "$2" 2>/dev/null
    return 0
}
descendants() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done; }
interrupted() {
    trap - INT TERM
    echo; echo "grade: interrupted: stopping every check" >&2
    local d pids
    pids=$(descendants $$); [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
    for d in "$work"/s*/; do [ -d "$d" ] && kill_leftovers "${d%/}"; done
    pids=$(descendants $$); [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    [ "$keep" = 1 ] || rm -rf "$work"
    exit 130
}
trap interrupted INT TERM
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT

# ---------------------------------------------------------------- one student
# The folder of a student's reports: the name itself (UTF-8 kept; "/", control characters
# and a leading dot replaced), unique in OUTDIR; an existing folder of the same student
# is reused (a re-grading).
declare -A taken=()
folder_for() { # NAME
    local name=$1 f d base n=2
    for d in "$outdir"/*/; do
        [ -f "$d/provenance.txt" ] && [ "$(sed -n 's/^name\t//p' "$d/provenance.txt")" = "$name" ] &&
            [ -z "${taken[$(basename "$d")]:-}" ] && { f=$(basename "$d"); taken[$f]=1; echo "$f"; return; }
    done
    base=$(printf '%s' "$name" | tr '/\000-\037\177' '_' | sed 's/^\./_/')
    [ -n "$base" ] || base=_
    f=$base
    while [ -n "${taken[$f]:-}" ] || [ -e "$outdir/$f" ]; do f=$base-$n; n=$((n + 1)); done
    taken[$f]=1
    echo "$f"
}

# Run CMD in the student's sandbox (build: no network).
sb() { scripts/sandbox.sh exec "$conf" "$@"; }

grade_student() { # INDEX ENTRY FOLDER
    local idx=$1 src=$2 folder=$3 dir=$work/s$1 out=$outdir/$3
    local wb=$dir/judge scratch=$dir/scratch conf=$dir/sandbox.conf uid="" why="" step st reason rc t0 tests plan limit t_sub=$SECONDS
    mkdir -p "$dir" "$dir/tmp" && chmod 700 "$dir" "$dir/tmp"
    [ "$sandbox_mode" != container ] || chmod 711 "$dir"
    local stage=$dir/out; mkdir -p "$stage/logs" && chmod 700 "$stage"
    : >"$stage/rows.tsv"; : >"$stage/notes.txt"; : >"$dir/suites.xml"
    classify_entry "$src"
    local name=$NAME kind=$KIND steps_at="" commit="" top=$src
    # Intake.
    case "$kind" in
        dir) ;;
        tar|zip)
            why=$(archive_problem "$kind" "$src")
            if [ -z "$why" ]; then why=$(extract_archive "$kind" "$src" "$dir/submission") && why=""; top=$dir/submission
            else why="not graded: the archive was refused: $why"; fi ;;
        link) why="not graded: a symbolic link (links are never followed)" ;;
        *) why="not graded: neither a folder nor a .zip, .tar, .tar.gz or .tgz archive" ;;
    esac
    [ -z "$why" ] || [[ "$why" == "not graded"* ]] || why="not graded: $why"
    mkdir -p "$scratch/steps" "$scratch/build"
    if [ -z "$why" ]; then
        if find_steps "$top"; then
            steps_at=$STEPS_AT
            [ -z "$LAYOUT_NOTE" ] || echo "layout: $LAYOUT_NOTE" >>"$stage/notes.txt"
            take_steps "$steps_at" "$scratch/steps" "$stage/notes.txt" "${steps[@]}"
            [ "$kind" = dir ] && commit=$(git_commit_of "$(dirname "$steps_at")" "$src")
        else why="not graded: $WHY"; fi
    fi
    file_hashes "$scratch/steps" >"$stage/hashes.txt"
    local source_hash key
    source_hash=$(sha256sum <"$stage/hashes.txt" | cut -c1-16)
    key=$(grading_key "$source_hash")
    {
        printf 'name\t%s\nsource\t%s\nkind\t%s\n' "$name" "$src" "$kind"
        [ -z "$steps_at" ] || printf 'steps_at\t%s\n' "${steps_at#"$top"}"
        printf 'source_hash\t%s\ncommit\t%s\nkey\t%s\ngraded_at\t%s\n' "$source_hash" "${commit:--}" "$key" "$(date '+%Y-%m-%d %H:%M:%S')"
    } >"$stage/provenance.txt"
    # Unchanged since it was graded in this class folder: kept as it is.
    if [ "$force" = 0 ] && [ -z "$why" ] && [ -f "$out/provenance.txt" ] &&
        [ "$(sed -n 's/^key\t//p' "$out/provenance.txt")" = "$key" ]; then
        echo unchanged >"$dir/skipped"; rm -rf "$dir"/scratch "$dir"/submission; return 0
    fi

    if [ -n "$why" ]; then
        printf '%s\n' "$why" >"$stage/logs/submission.log"
        printf -- '-\tnot-graded\t%s\n' "${why#not graded: }" >>"$stage/rows.tsv"
        fail_suite "$name" "$name: submitted" "$why" "$stage/logs/submission.log" skipped >>"$dir/suites.xml"
    else
        # The scratch copy: what a build needs, and the student's steps; the sandbox's uid.
        cp -a Makefile "$scratch/" && cp -a tools "$scratch/"
        if [ "$sandbox_mode" = root ] || [ "$sandbox_mode" = container ]; then
            uid=$(( ${SANDBOX_UID_BASE:-1500000000} + ($$ % 20000) * 100 + idx % 100 ))
            chown -R "$uid:$uid" "$scratch"
            chmod 700 "$scratch"
        fi
        mkdir -p "$dir/net" "$dir/dbs" "$dir/bin"
        [ "$sandbox_mode" != container ] || chmod 711 "$dir/dbs"
        local p relays=()
        {
            printf 'SB_MODE=%q\nSB_SCRATCH=%q\nSB_UID=%q\nSB_NET=%q\nSB_PORTS=%q\nSB_DBS=%q\n' \
                "$sandbox_mode" "$scratch" "$uid" "$dir/net" "$broker_port" "$dir/dbs"
            printf 'SB_CPU=%q\nSB_AS=%q\nSB_NPROC=%q\nSB_FSIZE=%q\nSB_NOFILE=%q\n' "${SANDBOX_CPU:-120}" \
                "${SANDBOX_AS:-$((4 << 30))}" "${SANDBOX_NPROC:-256}" "${SANDBOX_FSIZE:-$((16 << 20))}" "${SANDBOX_NOFILE:-256}"
            printf 'SB_OUTPUT=%q\nSB_NOTES=%q\n' "${SANDBOX_OUTPUT:-$((8 << 20))}" "$dir/limits"
        } >"$conf"
        # The relays (outside), started for each check: each allowed port's socket, to the
        # same port on the host.
        start_relays() {
            relays=()
            [ "$sandbox_mode" != unsafe ] || return 0
            for p in $broker_port; do
                rm -f "$dir/net/$p.sock"
                socat UNIX-LISTEN:"$dir/net/$p.sock",fork,mode=0666 TCP:127.0.0.1:"$p" </dev/null >/dev/null 2>&1 &
                relays+=($!)
            done
            for p in $broker_port; do
                for _ in $(seq 100); do [ -S "$dir/net/$p.sock" ] && break; sleep 0.02; done
            done
        }
        # The judge's copy, and one wrapper per step: the check runs it as the program.
        cp -a "$work/judge" "$wb"
        for step in "${steps[@]}"; do
            printf '#!/bin/sh\nexec %q exec %q --net -- %q "$@"\n' "$ROOT/scripts/sandbox.sh" "$conf" \
                "$(case "$sandbox_mode" in unsafe|container) echo "$scratch" ;; *) echo /sandbox ;; esac)/build/steps/$step" >"$dir/bin/$step"
            chmod 755 "$dir/bin/$step"
        done
        for step in "${steps[@]}"; do
            st=fail reason=""
            if ! compgen -G "$scratch/steps/$step/*.c" >/dev/null; then
                st=missing reason="no steps/$step/*.c in the submission"; echo "$reason" >"$stage/logs/$step.build.log"
                fail_suite "$step" "$step: submitted" "$reason" "$stage/logs/$step.build.log" >>"$dir/suites.xml"
            elif untouched_starter "$scratch/steps" "$step"; then
                st=not-started reason="the starter as shipped"; echo "$reason" >"$stage/logs/$step.build.log"
                fail_suite "$step" "$step: started" "$reason" "$stage/logs/$step.build.log" skipped >>"$dir/suites.xml"
            elif sb -- timeout -k 5 120 make -s "build/steps/$step" 2>&1 </dev/null | cap_text 1048576 >"$stage/logs/$step.build.log"
                [ "${PIPESTATUS[0]}" -ne 0 ] || [ ! -x "$scratch/build/steps/$step" ]; then
                st=compile-error
                reason=$(grep -m1 -E 'error|undefined reference|No rule' "$stage/logs/$step.build.log" | one_line)
                [ -n "$reason" ] || reason=$(tail -n 1 "$stage/logs/$step.build.log" | one_line)
                fail_suite "$step" "$step: compiles" "does not compile: $reason" "$stage/logs/$step.build.log" >>"$dir/suites.xml"
            else
                tests=$(grep -c '^@test' "checks/$step.bats")
                limit=${CHECK_TIMEOUT:-$(( tests * (2 * RUN_TIMEOUT + 10) + 30 ))}
                local tjobs=${GRADE_TEST_JOBS:-2} jopt=()
                [ "$tjobs" -lt "$tests" ] || tjobs=$tests
                [ "$tjobs" -gt 1 ] && command -v parallel >/dev/null && jopt=(--jobs "$tjobs")
                t0=$SECONDS rc=0
                rm -f "$dir/hung"
                start_relays
                # In a session of its own, from the judge's copy (the check finds the workbook
                # by walking up from checks/ to the Makefile); the programs: the wrappers.
                (cd "$wb" && exec setsid -w bash -c 'ps -o sid= -p $$ >"$0"; exec "$@"' "$dir/sid" \
                    env -u WORKBOOK_TARGET WORKBOOK_BIN="$dir/bin" WORKBOOK_HANG_MARKER="$dir/hung" \
                    TMPDIR="$dir/tmp" \
                    timeout -k 5 "$limit" bats "${jopt[@]}" --formatter tap --timing "checks/$step.bats") \
                    2>&1 </dev/null | cap_text 1048576 >"$stage/logs/$step.tap"
                rc=${PIPESTATUS[0]}
                [ ${#relays[@]} -eq 0 ] || kill "${relays[@]}" 2>/dev/null
                kill_leftovers "$dir" "$uid"
                # Paths inside the temporary folder read better without it.
                sed -i "s|$(printf '%s/' "$wb" | sed 's/[][\.*^$|]/\\&/g')||g" "$stage/logs/$step.tap"
                plan=$(tap_plan "$stage/logs/$step.tap")
                if [ "$(judge_files "$wb" | sha256sum | cut -c1-16)" != "$judge_hash" ]; then
                    reason="tripwire: the workbook's checks or tools changed while this step ran (the step fails; the copy was restored)"
                    rm -rf "$wb" && cp -a "$work/judge" "$wb"
                elif [ "$sandbox_mode" = unsafe ] && [ "$(root_files | sha256sum | cut -c1-16)" != "$root_hash" ]; then
                    reason="tripwire: the instructor's workbook ($ROOT) changed while this step ran"
                    echo "grade: WARNING: $ROOT changed while $name's step $step ran: check it (git status)" >&2
                elif [ -n "$plan" ] && [ "$plan" != "$tests" ]; then
                    reason="tripwire: the check ran $plan tests, the check file has $tests"
                elif [ "$rc" -eq 0 ] && [ "$plan" = "$tests" ]; then
                    st=pass
                elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
                    reason="the check did not end within ${limit}s and was stopped; $(first_reason "$stage/logs/$step.tap")"
                    reason=${reason%; }
                else
                    reason=$(first_reason "$stage/logs/$step.tap")
                    grep -q 'setup_file failed' "$stage/logs/$step.tap" && reason="the check could not set up (is the broker up?): $reason"
                    [ -n "$reason" ] || reason="the check failed (exit $rc): $(tail -n 1 "$stage/logs/$step.tap" | one_line)"
                fi
                # What the sandbox cut or killed (scripts/sandbox-output.pl): in the notes, and
                # after the reason of a failed step.
                if [ -s "$dir/limits" ]; then
                    sort "$dir/limits" | uniq -c | sed "s/^ *\([0-9]*\) /$step: \1 run(s): /" >>"$stage/notes.txt"
                    [ "$st" = pass ] || reason="$reason (the sandbox: $(grep -m1 'killed by' "$dir/limits" || head -n1 "$dir/limits"))"
                    rm -f "$dir/limits"
                fi
                reason=$(printf '%s' "$reason" | one_line)
                tap_to_suite "$step" "$stage/logs/$step.tap" "the check did not finish (stopped after ${limit}s)" >>"$dir/suites.xml"
                echo "grade:   $name $step: $st${reason:+ - $reason} ($((SECONDS - t0)) s)"
            fi
            printf '%s\t%s\t%s\n' "$step" "$st" "$reason" >>"$stage/rows.tsv"
        done
    fi
    GRADE_EXECUTION_TIME=$((SECONDS - t_sub)) write_student_reports "$stage" "$dir/suites.xml"
    kill_leftovers "$dir" "$uid"
    # Into the class folder: the student's folder is replaced as a whole.
    rm -rf "$out.new" && cp -r "$stage" "$out.new" && rm -rf "$out" && mv "$out.new" "$out" ||
        { echo "internal: could not write $out" >"$dir/internal"; return 1; }
    [ "$keep" = 1 ] || rm -rf "$dir"/scratch "$dir"/judge "$dir"/submission "$dir"/tmp
    echo done >"$dir/done"
}

# ---------------------------------------------------------------- the class
total=${#entries[@]}
GRADE_RUN_DESC="$(nproc) cores, $jobs_n at a time, RUN_TIMEOUT=${RUN_TIMEOUT}s, $SANDBOX_DESC"
echo "grade: $total submission(s) from $subs; steps: ${steps[*]}; $jobs_n at a time; RUN_TIMEOUT=${RUN_TIMEOUT}s; $SANDBOX_DESC"
echo "grade: reports in $outdir"
t_start=$SECONDS
folders=()
for i in "${!entries[@]}"; do classify_entry "${entries[$i]}"; folders+=("$(folder_for "$NAME")"); done
declare -A pid_of=() idx_of=()
done_n=0 failed_internal=0
reap() {
    local pid rc=0 i name
    wait -n -p pid || rc=$?
    [ -n "${pid:-}" ] && [ -n "${pid_of[$pid]:-}" ] || return 0
    i=${pid_of[$pid]}; unset "pid_of[$pid]"
    done_n=$((done_n + 1))
    name=$(basename "${entries[$i]}")
    if [ -f "$work/s$i/skipped" ]; then
        echo "grade: [$done_n/$total] $name: unchanged since it was graded here: kept (FORCE=1 grades it again)"
    elif [ -f "$work/s$i/done" ]; then
        echo "grade: [$done_n/$total] $name: $(head -n1 "$outdir/${folders[$i]}/report.md" | sed 's/^# .*: //')"
    else
        failed_internal=1
        echo "grade: [$done_n/$total] $name: grading failed ($(cat "$work/s$i/internal" 2>/dev/null || echo "exit $rc"))" >&2
    fi
}
for i in "${!entries[@]}"; do
    while [ ${#pid_of[@]} -ge "$jobs_n" ]; do reap; done
    grade_student "$i" "${entries[$i]}" "${folders[$i]}" &
    pid_of[$!]=$i
done
while [ ${#pid_of[@]} -gt 0 ]; do reap; done
elapsed=$((SECONDS - t_start))
GRADE_RUN_DESC="$GRADE_RUN_DESC, $total graded in ${elapsed} s"
write_class_files "$outdir"

echo
sed -n '/^| student/,/^| \*\*passed/p' "$outdir/summary.md"
echo
echo "grade: $total submission(s) graded in ${elapsed} s"
echo "grade: summary    $outdir/summary.md"
echo "grade: CSV        $outdir/grades.csv and $outdir/grades-wide.csv"
echo "grade: reports    $outdir/STUDENT/report.md, junit.xml and results.json"
[ "$keep" = 1 ] && echo "grade: temporary folders kept in $work"
[ "$failed_internal" = 0 ] || { echo "grade: grading failed for some submissions (see above)" >&2; exit 1; }
exit 0
