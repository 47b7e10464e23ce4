#!/usr/bin/env bash
# `make grade SUBMISSIONS=DIR`: grade a class's submissions with the steps' own checks.
#
# DIR holds one entry per student: a folder, or a tarball (.tar.gz, .tgz, .tar), named
# after the student. In it, the student's steps/ folder: at the top, or in the one folder
# at the top (a GitHub download, say), or the step folders themselves (NN_topic/).
#
# Each submission is graded on its own, several at once (-j):
#   1. a private temporary folder (mode 700) gets the instructor's workbook without
#      steps/ and solutions/ (the Makefile, tools/ and its built binaries, the step checks)
#      and the student's steps/ (symbolic links dropped; a tarball is extracted there
#      after its entries were checked: no absolute paths, no "..", no links);
#   2. each step is built there (make build/steps/NN_topic): a step that is missing or
#      does not compile fails, and the report carries the compiler's message;
#   3. each step's check runs there (checks/NN_topic.bats, on the copy's build), on its
#      own topics and groups on the shared broker, in a session of its own: every program
#      run is bounded by RUN_TIMEOUT (the checks' own bound), the whole check by
#      CHECK_TIMEOUT, and whatever is left of the session afterwards is killed.
#      The checks judge from the broker's record of commits, so a program that prints
#      the expected lines without consuming and committing fails.
#   4. the folder is removed (unless --keep).
#
# Reports, in OUTDIR (default build/grades/YYYYmmdd-HHMMSS):
#   STUDENT/report.md   per step: pass or fail, the reason, the check's output or the
#                       compiler's message; the score n/N
#   STUDENT/junit.xml   one testsuite per step (a build failure is a failed testcase)
#   STUDENT/logs/       each step's TAP output and build log
#   grades.csv          student,step,result,reason (RFC 4180 quoting)
#   summary.md          the class: student x step, totals per step and per student
#
# Usage: scripts/grade.sh [-j N] [-o OUTDIR] [--steps 01,02] [--keep] DIR
#   -j N        grade N submissions at once (default: the number of cores)
#   -o OUTDIR   where the reports go (default build/grades/<date-time>)
#   --steps L   only these steps (comma-separated numbers or names; default: all)
#   --keep      keep the temporary folders (their paths are printed)
# Environment: RUN_TIMEOUT (s, default 25) bounds each program run inside a check;
# CHECK_TIMEOUT (s, default: 2 x RUN_TIMEOUT + 10 per test, + 30) bounds each check;
# BROKER (default 127.0.0.1:${KAFKA_PORT:-9092}).
# Exit status: 0 when grading ran (whatever the grades), 2 on a usage error, 1 when
# grading itself failed.
set -uo pipefail
if [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" -eq 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
    echo "grade: needs bash 5.1 or newer (this is $BASH_VERSION)" >&2; exit 1
fi
for tool in setsid timeout tar make bats; do
    command -v "$tool" >/dev/null || { echo "grade: needs $tool (make deps)" >&2; exit 1; }
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "grade: $*" >&2; exit 1; }

jobs_n=$(nproc 2>/dev/null || echo 2)
outdir="" keep=0 only="" subs=""
while [ $# -gt 0 ]; do
    case "$1" in
        -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs_n=$2; shift ;;
        -j*) jobs_n=${1#-j} ;;
        -o) [ $# -ge 2 ] || { usage >&2; exit 2; }; outdir=$2; shift ;;
        --steps) [ $# -ge 2 ] || { usage >&2; exit 2; }; only=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "grade: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) [ -z "$subs" ] || { echo "grade: one DIR only" >&2; usage >&2; exit 2; }; subs=$1 ;;
    esac
    shift
done
if [ -z "$subs" ]; then echo "grade: which submissions? give a DIR (make grade SUBMISSIONS=DIR)" >&2; usage >&2; exit 2; fi
[ -d "$subs" ] || { echo "grade: $subs is not a directory" >&2; usage >&2; exit 2; }
[[ "$jobs_n" =~ ^[1-9][0-9]*$ ]] || { echo "grade: -j wants a number, not '$jobs_n'" >&2; exit 2; }
subs=$(cd "$subs" && pwd)
case "$outdir" in ""|/*) ;; *) outdir=$PWD/$outdir ;; esac   # relative to where we were called
cd "$ROOT"
. scripts/lib.sh

RUN_TIMEOUT=${RUN_TIMEOUT:-25}
BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
export RUN_TIMEOUT BROKER

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

# The students: folders and tarballs, by name.
students=() sources=()
declare -A seen=()
while IFS= read -r -d '' entry; do
    base=$(basename "$entry")
    case "$base" in .*|__MACOSX) continue ;; esac
    if [ -d "$entry" ]; then name=$base
    else case "$base" in
        *.tar.gz) name=${base%.tar.gz} ;; *.tgz) name=${base%.tgz} ;; *.tar) name=${base%.tar} ;;
        *) echo "grade: skipping $base (neither a folder nor a .tar.gz/.tgz/.tar)" >&2; continue ;;
    esac; fi
    name=$(printf '%s' "$name" | tr -c 'A-Za-z0-9._@+-' '_')
    base=$name n=2
    while [ -n "${seen[$name]:-}" ]; do name=$base-$n; n=$((n + 1)); done
    seen[$name]=1
    students+=("$name"); sources+=("$entry")
done < <(find "$subs" -mindepth 1 -maxdepth 1 \( -type d -o -type f \) -print0 | sort -z)
[ ${#students[@]} -gt 0 ] || die "no submissions in $subs (one folder or tarball per student)"

# The tools every check needs, built once here and copied; and a broker that answers.
make -s tools || die "could not build the tools"
if ! build/tools/ping -b "$BROKER" -t 3000 >/dev/null 2>&1; then
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

# ---------------------------------------------------------------- processes
sessions_of() { # DIR: the session ids recorded under DIR
    cat "$1"/*/sid "$1"/sid 2>/dev/null | tr -d ' ' | grep -E '^[0-9]+$' || true
}
in_session() { ps -e -o pid=,sid= | awk -v s="$1" '$2 == s { print $1 }'; }
# Every process of DIR's sessions, and any process whose command line names DIR.
leftovers() {
    local sid pat
    for sid in $(sessions_of "$1"); do in_session "$sid"; done
    pat=$(printf '%s/' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g')
    pgrep -f -- "$pat" || true
}
kill_leftovers() { # DIR: TERM, then KILL what is still there
    local pids
    pids=$(leftovers "$1" | sort -u | grep -vx "$$" || true)
    [ -n "$pids" ] || return 0
    kill -TERM $pids 2>/dev/null; sleep 1
    pids=$(leftovers "$1" | sort -u | grep -vx "$$" || true)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    return 0
}
descendants() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done; }
interrupted() {
    trap - INT TERM
    echo; echo "grade: interrupted: stopping every check" >&2
    local d pids
    pids=$(descendants $$); [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
    for d in "$work"/*/; do [ -d "$d" ] && kill_leftovers "${d%/}"; done
    pids=$(descendants $$); [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    [ "$keep" = 1 ] || rm -rf "$work"
    exit 130
}
trap interrupted INT TERM
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT

# ---------------------------------------------------------------- text helpers
xml_escape() { tr -d '\000-\010\013\014\016-\037' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"; }
csv_field() {
    local v=$1
    if [[ "$v" == *[\",$'\n'$'\r']* ]] || [[ "$v" =~ ^[[:space:]]|[[:space:]]$ ]]; then
        printf '"%s"' "${v//\"/\"\"}"
    else printf '%s' "$v"; fi
}
one_line() { tr '\n\r\t' '   ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-400; }
# The first reason a check gave (as check.sh reads it): the first comment line after a
# "not ok" that is not bats' location line or the failed command, nor a shell's or a
# command's diagnostic ("FILE: line N: PID Killed ..." when a timeout killed a program,
# "tail: cannot open ..."); one of those only when there is nothing else.
first_reason() {
    awk '/^not ok/ { on = 1; next }
         /^(ok|not ok) / { if (on && fallback != "") exit }
         on && /^# / && !/^# \(/ && !/^#   [`(]/ && !/^#  (from|in) / {
             l = $0; sub(/^# +/, "", l)
             if (l ~ /^[^ ]*: line [0-9]+: / || l ~ /^[a-z][a-z0-9_.-]*: /) { if (fallback == "") fallback = l; next }
             found = l; exit }
         END { print (found != "" ? found : fallback) }' "$1"
}
# A testsuite element from a step's TAP output. Tests the plan announced but the output
# does not have (the check was stopped) are reported as one error.
tap_to_suite() { # STEP TAP NOTE_IF_INCOMPLETE
    awk -v step="$1" -v note="$3" '
        function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
                          gsub(/"/, "\\&quot;", s); gsub(/\047/, "\\&apos;", s); return s }
        function close_case() {
            if (!open) return
            if (state == "fail") body = body "\n" "      <failure message=\"" esc(msg) "\" type=\"failure\">" esc(text) "</failure>\n    </testcase>"
            else if (state == "skip") body = body "\n" "      <skipped/>\n    </testcase>"
            else body = body " />"
            open = 0
        }
        /^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; next }
        /^(ok|not ok) [0-9]+/ {
            close_case(); n++; open = 1; text = ""; msg = ""
            line = $0; t = 0
            if (match(line, / # in [0-9]+ ms$/)) { t = substr(line, RSTART + 6) + 0; line = substr(line, 1, RSTART - 1) }
            else if (match(line, / in [0-9]+ms$/)) { t = substr(line, RSTART + 4) + 0; line = substr(line, 1, RSTART - 1) }
            state = (line ~ /^not ok/) ? "fail" : "pass"
            if (line ~ / # skip/) { state = "skip"; skipped++; sub(/ # skip.*/, "", line) }
            sub(/^(not ok|ok) [0-9]+ /, "", line)
            if (state == "fail") failures++
            time += t / 1000
            body = body "\n" sprintf("    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"", esc(step), esc(line), t / 1000)
            if (state == "fail") body = body ">"
            if (state == "skip") body = body ">"
            next
        }
        /^# / && open && state == "fail" {
            l = substr($0, 3); text = text (text == "" ? "" : "\n") l
            if (msg == "" && l !~ /^\(/ && l !~ /^  [`(]/ && l !~ /^ (from|in) / && l !~ /^[^ ]*: line [0-9]+: / && l !~ /^[a-z][a-z0-9_.-]*: /) { msg = l; sub(/^ +/, "", msg) }
        }
        END {
            close_case()
            errors = 0
            if (plan == 0 && n == 0 || n < plan) {
                errors = 1
                body = body "\n" sprintf("    <testcase classname=\"%s\" name=\"%s: the check did not finish\" time=\"0\">\n      <error message=\"%s\" type=\"error\">%s</error>\n    </testcase>", esc(step), esc(step), esc(note), esc(note))
            }
            printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">%s\n  </testsuite>\n", esc(step), n + errors, failures, errors, skipped, time, body
        }' "$2"
}
# A testsuite with one failed testcase (a missing step, a build failure).
fail_suite() { # STEP CASE_NAME MESSAGE TEXT_FILE
    printf '  <testsuite name="%s" tests="1" failures="1" errors="0" skipped="0" time="0">\n' "$1"
    printf '    <testcase classname="%s" name="%s" time="0">\n' "$1" "$(printf '%s' "$2" | xml_escape)"
    printf '      <failure message="%s" type="failure">' "$(printf '%s' "$3" | xml_escape)"
    xml_escape <"$4"
    printf '</failure>\n    </testcase>\n  </testsuite>\n'
}

# ---------------------------------------------------------------- one student
# Where the student's steps/ is, under ROOT_DIR: ROOT_DIR/steps, or the steps/ of the one
# folder at the top, or ROOT_DIR itself when it holds the step folders.
find_steps() {
    local r=$1 c=()
    [ -d "$r/steps" ] && { echo "$r/steps"; return; }
    while IFS= read -r -d '' d; do [ -d "$d/steps" ] && c+=("$d/steps"); done \
        < <(find "$r" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name __MACOSX -print0)
    [ ${#c[@]} -eq 1 ] && { echo "${c[0]}"; return; }
    compgen -G "$r/[0-9][0-9]_*/" >/dev/null && { echo "$r"; return; }
    return 1
}
# A tarball's entries, checked before anything is extracted.
tar_problem() {
    local list
    list=$(tar -tvf "$1" 2>&1) || { echo "it cannot be read as a tar archive: $(echo "$list" | tail -n 1)"; return; }
    echo "$list" | grep -q '^[lhcbp]' && { echo "it holds links or special files"; return; }
    tar -tf "$1" | awk '/^\// || /(^|\/)\.\.(\/|$)/ { bad = 1 } END { exit !bad }' &&
        { echo "it holds absolute paths or '..'"; return; }
    return 0
}

grade_student() { # NAME SOURCE
    local name=$1 src=$2 dir=$work/$1 out=$outdir/$1 wb st sd why step rc t0 reason tests limit score=0
    dir=$work/$name; wb=$dir/workbook; out=$outdir/$name
    mkdir -p "$dir" "$out/logs" && chmod 700 "$dir"
    : >"$out/rows.tsv"; : >"$dir/suites.xml"
    # The instructor's workbook, without steps/ and solutions/.
    mkdir -p "$wb/checks" "$wb/build" "$dir/tmp"
    cp -a Makefile tools "$wb/" && cp -a build/tools "$wb/build/" &&
        cp -a checks/test_helper "$wb/checks/" && cp -a checks/[0-9][0-9]_*.bats "$wb/checks/" ||
        { echo "internal: could not copy the workbook" >"$dir/internal"; return 1; }
    # The student's steps/.
    why=""
    if [ -d "$src" ]; then
        sd=$(find_steps "$src") || why="no steps/ folder in the submission"
    else
        why=$(tar_problem "$src")
        if [ -z "$why" ]; then
            mkdir -p "$dir/submission"
            if tar -xf "$src" -C "$dir/submission" --no-same-owner --no-same-permissions 2>"$dir/tar.err"; then
                sd=$(find_steps "$dir/submission") || why="no steps/ folder in the tarball"
            else why="the tarball could not be extracted: $(tail -n 1 "$dir/tar.err")"; fi
        else why="the tarball was refused: $why"; fi
    fi
    mkdir -p "$wb/steps"
    if [ -z "$why" ]; then
        cp -R "$sd/." "$wb/steps/" 2>"$dir/cp.err" || why="its steps/ could not be copied: $(tail -n 1 "$dir/cp.err")"
        find "$wb/steps" -type l -delete 2>/dev/null   # nothing may point outside the folder
        rm -rf "$dir/submission"
    fi

    for step in "${steps[@]}"; do
        st=fail reason=""
        if [ -n "$why" ]; then
            reason=$why; echo "$why" >"$out/logs/$step.build.log"
            fail_suite "$step" "$step: submitted" "$reason" "$out/logs/$step.build.log" >>"$dir/suites.xml"
        elif ! compgen -G "$wb/steps/$step/*.c" >/dev/null; then
            reason="missing: no steps/$step/*.c in the submission"; echo "$reason" >"$out/logs/$step.build.log"
            fail_suite "$step" "$step: submitted" "$reason" "$out/logs/$step.build.log" >>"$dir/suites.xml"
        elif ! (cd "$wb" && timeout -k 5 120 make -s "build/steps/$step") >"$out/logs/$step.build.log" 2>&1; then
            reason="does not compile: $(grep -m1 -E 'error|undefined reference|No rule' "$out/logs/$step.build.log" | one_line)"
            [ "$reason" != "does not compile: " ] || reason="does not compile: $(tail -n 1 "$out/logs/$step.build.log" | one_line)"
            fail_suite "$step" "$step: compiles" "$reason" "$out/logs/$step.build.log" >>"$dir/suites.xml"
        else
            tests=$(grep -c '^@test' "checks/$step.bats")
            limit=${CHECK_TIMEOUT:-$(( tests * (2 * RUN_TIMEOUT + 10) + 30 ))}
            t0=$SECONDS rc=0
            # In a session of its own, from inside the copy: the check finds the workbook
            # (and the programs it runs) by walking up from checks/ to the Makefile.
            (cd "$wb" && exec setsid -w bash -c 'ps -o sid= -p $$ >"$0"; exec "$@"' "$dir/sid" \
                env -u WORKBOOK_BIN WORKBOOK_TARGET=steps TMPDIR="$dir/tmp" \
                timeout -k 5 "$limit" bats --formatter tap --timing "checks/$step.bats") \
                >"$out/logs/$step.tap" 2>&1 </dev/null || rc=$?
            kill_leftovers "$dir"
            # Paths inside the temporary copy read better without it.
            sed -i "s|$(printf '%s/' "$wb" | sed 's/[][\.*^$|]/\\&/g')||g" "$out/logs/$step.tap"
            if [ "$rc" -eq 0 ]; then
                st=pass
            elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
                reason="the check did not end within ${limit}s and was stopped; $(first_reason "$out/logs/$step.tap")"
                reason=${reason%; }
            else
                reason=$(first_reason "$out/logs/$step.tap")
                grep -q 'setup_file failed' "$out/logs/$step.tap" && reason="the check could not set up (is the broker up?): $reason"
                [ -n "$reason" ] || reason="the check failed (exit $rc): $(tail -n 1 "$out/logs/$step.tap" | one_line)"
            fi
            reason=$(printf '%s' "$reason" | one_line)
            tap_to_suite "$step" "$out/logs/$step.tap" "the check did not finish (stopped after ${limit}s)" >>"$dir/suites.xml"
            echo "grade:   $name $step: $st${reason:+ - $reason} ($((SECONDS - t0)) s)"
        fi
        [ "$st" = pass ] && score=$((score + 1))
        printf '%s\t%s\t%s\n' "$step" "$st" "$reason" >>"$out/rows.tsv"
    done
    write_student_reports "$name" "$score"
    kill_leftovers "$dir"
    [ "$keep" = 1 ] || rm -rf "$dir"
    echo "$score" >"$out/.score"
}

write_student_reports() { # NAME SCORE
    local name=$1 score=$2 out=$outdir/$1 step st reason
    local n=${#steps[@]}
    {
        echo "# $name: $score/$n"
        echo
        echo "Graded $(date '+%Y-%m-%d %H:%M') with the workbook's checks (RUN_TIMEOUT=${RUN_TIMEOUT}s) on $BROKER."
        echo
        echo "| step | result | reason |"
        echo "|---|---|---|"
        while IFS=$'\t' read -r step st reason; do
            echo "| $step | $st | $(printf '%s' "$reason" | sed 's/|/\\|/g') |"
        done <"$out/rows.tsv"
        echo
        echo "Score: **$score/$n**"
        while IFS=$'\t' read -r step st reason; do
            [ "$st" = fail ] || continue
            echo
            if [ -s "$out/logs/$step.tap" ] && [[ "$reason" != "does not compile"* ]]; then
                echo "## $step: the check's output"
                echo
                echo '```'
                cat "$out/logs/$step.tap"
                echo '```'
            else
                case "$reason" in "does not compile"*) echo "## $step: the compiler's message" ;; *) echo "## $step" ;; esac
                echo
                echo '```'
                cat "$out/logs/$step.build.log"
                echo '```'
            fi
        done <"$out/rows.tsv"
    } >"$out/report.md"
    local tests failures errors
    tests=$(grep -o '<testsuite [^>]*' "$work/$name/suites.xml" | sed -n 's/.* tests="\([0-9]*\)".*/\1/p' | awk '{s += $1} END {print s + 0}')
    failures=$(grep -o '<testsuite [^>]*' "$work/$name/suites.xml" | sed -n 's/.* failures="\([0-9]*\)".*/\1/p' | awk '{s += $1} END {print s + 0}')
    errors=$(grep -o '<testsuite [^>]*' "$work/$name/suites.xml" | sed -n 's/.* errors="\([0-9]*\)".*/\1/p' | awk '{s += $1} END {print s + 0}')
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        printf '<testsuites name="%s" tests="%d" failures="%d" errors="%d">\n' "$(printf '%s' "$name" | xml_escape)" "$tests" "$failures" "$errors"
        cat "$work/$name/suites.xml"
        echo '</testsuites>'
    } >"$out/junit.xml"
}

# ---------------------------------------------------------------- the class
total=${#students[@]}
echo "grade: $total submission(s) from $subs; steps: ${steps[*]}; $jobs_n at a time; RUN_TIMEOUT=${RUN_TIMEOUT}s"
echo "grade: reports in $outdir"
t_start=$SECONDS
declare -A pid_of=()
done_n=0 failed_internal=0
reap() {
    local pid rc=0 name
    wait -n -p pid || rc=$?
    [ -n "${pid:-}" ] && [ -n "${pid_of[$pid]:-}" ] || return 0
    name=${pid_of[$pid]}; unset "pid_of[$pid]"
    done_n=$((done_n + 1))
    if [ -f "$outdir/$name/.score" ]; then
        echo "grade: [$done_n/$total] $name: $(cat "$outdir/$name/.score")/${#steps[@]}"
    else
        failed_internal=1
        echo "grade: [$done_n/$total] $name: grading failed ($(cat "$work/$name/internal" 2>/dev/null || echo "exit $rc"))" >&2
    fi
}
for i in "${!students[@]}"; do
    while [ ${#pid_of[@]} -ge "$jobs_n" ]; do reap; done
    grade_student "${students[$i]}" "${sources[$i]}" &
    pid_of[$!]=${students[$i]}
done
while [ ${#pid_of[@]} -gt 0 ]; do reap; done
elapsed=$((SECONDS - t_start))

# grades.csv and summary.md, in the students' order.
{
    echo "student,step,result,reason"
    for name in "${students[@]}"; do
        [ -f "$outdir/$name/rows.tsv" ] || continue
        while IFS=$'\t' read -r step st reason; do
            echo "$(csv_field "$name"),$(csv_field "$step"),$st,$(csv_field "$reason")"
        done <"$outdir/$name/rows.tsv"
    done
} >"$outdir/grades.csv"

summary_table() {
    local name step st reason row n=${#steps[@]}
    declare -A passed=()
    printf '| student |'; printf ' %s |' "${steps[@]}"; echo ' total |'
    printf '|---|'; printf -- '---|%.0s' "${steps[@]}"; echo '---|'
    for name in "${students[@]}"; do
        row="| $name |"
        local score=0
        for step in "${steps[@]}"; do
            st=$(awk -F'\t' -v s="$step" '$1 == s { print $2 }' "$outdir/$name/rows.tsv" 2>/dev/null)
            [ -n "$st" ] || st="not graded"
            [ "$st" = pass ] && { score=$((score + 1)); passed[$step]=$(( ${passed[$step]:-0} + 1 )); }
            row+=" $st |"
        done
        echo "$row $score/$n |"
    done
    row="| **passed** |"
    local all=0
    for step in "${steps[@]}"; do row+=" ${passed[$step]:-0}/$total |"; all=$((all + ${passed[$step]:-0})); done
    echo "$row $all/$((total * n)) |"
}
{
    echo "# Grades"
    echo
    echo "$total submission(s) from \`$subs\`, graded $(date '+%Y-%m-%d %H:%M') on $(nproc) cores, $jobs_n at a time, in ${elapsed} s (RUN_TIMEOUT=${RUN_TIMEOUT}s)."
    echo
    summary_table
    echo
    echo "Per student: \`STUDENT/report.md\` (the reasons, the checks' output, the compiler's messages) and \`STUDENT/junit.xml\`; every step's result and reason: \`grades.csv\`."
} >"$outdir/summary.md"

echo
summary_table
rm -f "$outdir"/*/.score "$outdir"/*/rows.tsv
echo
echo "grade: $total submission(s) graded in ${elapsed} s"
echo "grade: summary    $outdir/summary.md"
echo "grade: CSV        $outdir/grades.csv"
echo "grade: reports    $outdir/STUDENT/report.md and junit.xml"
[ "$keep" = 1 ] && echo "grade: temporary folders kept in $work"
[ "$failed_internal" = 0 ] || { echo "grade: grading failed for some submissions (see above)" >&2; exit 1; }
exit 0
