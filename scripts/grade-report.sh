# Reports and exports for scripts/grade.sh (sourced; defines functions only).
#
# Per student folder: report.md, junit.xml, results.json (Gradescope's specification: see
# write_student_reports), rows.tsv (step, result, reason:
# what the class files are made of), provenance.txt and hashes.txt.
# Per class folder, remade from every student folder in it (so that a re-grading of some
# students merges): grades.csv (long: student,step,result,reason), grades-wide.csv
# (student,01..NN,score,max), summary.md (the table, the reasons counted per step).
# Results: pass, fail, compile-error, not-started (the starter as shipped), missing,
# not-graded. Every captured output is capped (cap_text): control and ANSI characters
# out, invalid UTF-8 replaced, lines cut at 4096 characters, the whole at 64 KiB in
# reports, its tail cut by bytes.

REPORT_CAP=${REPORT_CAP:-65536}

# stdin -> stdout, cleaned and capped at MAX bytes (its tail cut, at a character's edge).
cap_text() { # MAX_BYTES
    perl -e '
        use strict; use warnings; use Encode ();
        my $max = shift; my ($n, $cut) = (0, 0); binmode STDOUT;
        while (defined(my $l = <STDIN>)) {
            if ($n >= $max) { $cut += length $l; next }
            $l = Encode::decode("UTF-8", $l, sub { "\x{FFFD}" });
            $l =~ s/\e\[[0-?]*[ -\/]*[@-~]//g;            # ANSI CSI sequences
            $l =~ s/\e\][^\a\e]*(?:\a|\e\\)?//g;          # ANSI OSC sequences
            $l =~ s/[\x00-\x08\x0b-\x1f\x7f-\x9f\x{FFFE}\x{FFFF}]//g;
            if (length $l > 4097) { my $rest = length($l) - 4096; $l = substr($l, 0, 4096) . " [... $rest more characters cut]\n" }
            my $b = Encode::encode("UTF-8", $l);
            if ($n + length $b > $max) {
                my $keep = $max - $n; my $part = "";
                for my $ch (split //, $l) { my $e = Encode::encode("UTF-8", $ch); last if length($part) + length($e) > $keep; $part .= $e }
                $cut += length($b) - length($part); $b = $part;
            }
            print $b; $n += length $b;
        }
        print "\n[... $cut more bytes cut: at most $max are kept]\n" if $cut;' "$1"
}
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"; }
csv_field() {
    local v=$1
    if [[ "$v" == *[\",$'\n'$'\r']* ]] || [[ "$v" =~ ^[[:space:]]|[[:space:]]$ ]]; then
        printf '"%s"' "${v//\"/\"\"}"
    else printf '%s' "$v"; fi
}
one_line() { tr '\n\r\t' '   ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-400 | iconv -c -f UTF-8 -t UTF-8; }

# The first reason a check gave (as check.sh reads it): the first comment line after a
# "not ok" that is not bats' location line or the failed command, nor a shell's or a
# command's diagnostic; one of those only when there is nothing else.
first_reason() {
    awk '/^not ok/ { on = 1; next }
         /^(ok|not ok) / { if (on && fallback != "") exit }
         on && /^# / && !/^# \(/ && !/^#   [`(]/ && !/^#  (from|in) / {
             l = $0; sub(/^# +/, "", l)
             if (l ~ /^[^ ]*: line [0-9]+: / || l ~ /^[a-z][a-z0-9_.-]*: /) { if (fallback == "") fallback = l; next }
             found = l; exit }
         END { print (found != "" ? found : fallback) }' "$1"
}
tap_plan() { sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1" | head -n1; }

# A testsuite element from a step's TAP output (already capped). Tests the plan announced
# but the output does not have are reported as one error.
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
            if (state != "pass") body = body ">"
            next
        }
        /^# / && open && state == "fail" && length(text) < 65536 {
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
# A testsuite with one testcase that failed (build failure, missing) or was skipped
# (not started, not graded).
fail_suite() { # STEP CASE_NAME MESSAGE TEXT_FILE [skipped]
    if [ "${5:-}" = skipped ]; then
        printf '  <testsuite name="%s" tests="1" failures="0" errors="0" skipped="1" time="0">\n' "$1"
        printf '    <testcase classname="%s" name="%s" time="0">\n      <skipped message="%s"/>\n    </testcase>\n  </testsuite>\n' \
            "$1" "$(printf '%s' "$2" | xml_escape)" "$(printf '%s' "$3" | xml_escape)"
        return
    fi
    printf '  <testsuite name="%s" tests="1" failures="1" errors="0" skipped="0" time="0">\n' "$1"
    printf '    <testcase classname="%s" name="%s" time="0">\n' "$1" "$(printf '%s' "$2" | xml_escape)"
    printf '      <failure message="%s" type="failure">' "$(printf '%s' "$3" | xml_escape)"
    xml_escape <"$4"
    printf '</failure>\n    </testcase>\n  </testsuite>\n'
}

# Step weights: WEIGHTS_FILE lines "NN WEIGHT" (or "NN_topic WEIGHT"); default 1.
declare -A WEIGHT=()
load_weights() { # FILE
    local k w
    [ -n "$1" ] || return 0
    while read -r k w _; do
        case "$k" in ''|'#'*) continue ;; esac
        [[ "$w" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "grade: weights: '$k $w' is not 'STEP NUMBER'" >&2; return 1; }
        WEIGHT[${k%%_*}]=$w
    done <"$1"
}
weight_of() { echo "${WEIGHT[${1%%_*}]:-1}"; }

# report.md, junit.xml and results.json of one student, from OUT/rows.tsv and OUT/logs.
write_student_reports() { # OUT SUITES_FILE
    local out=$1 suites=$2 step st reason name score max w log
    name=$(sed -n 's/^name\t//p' "$out/provenance.txt")
    read -r score max < <(while IFS=$'\t' read -r step st reason; do
            w=$(weight_of "$step"); echo "$st $w"; done <"$out/rows.tsv" |
        awk '{ m += $2; if ($1 == "pass") s += $2 } END { printf "%g %g\n", s, m }')
    {
        echo "# $name: $score/$max"
        echo
        echo "Graded $(date '+%Y-%m-%d %H:%M') with the workbook's checks (RUN_TIMEOUT=${RUN_TIMEOUT}s) on $BROKER, $SANDBOX_DESC."
        echo
        echo "| step | result | points | reason |"
        echo "|---|---|---|---|"
        while IFS=$'\t' read -r step st reason; do
            w=$(weight_of "$step")
            echo "| $step | $st | $([ "$st" = pass ] && echo "$w" || echo 0)/$w | $(printf '%s' "$reason" | sed 's/|/\\|/g') |"
        done <"$out/rows.tsv"
        echo
        echo "Score: **$score/$max**"
        echo
        echo "## Provenance"
        echo
        sed -n 's/^\(source\|commit\|source_hash\|graded_at\)\t\(.*\)/- \1: \2/p' "$out/provenance.txt"
        echo "- files graded (sha256): hashes.txt"
        if [ -s "$out/notes.txt" ]; then
            echo
            echo "## Intake notes"
            echo
            sed 's/^/- /' "$out/notes.txt" | cap_text "$REPORT_CAP"
        fi
        while IFS=$'\t' read -r step st reason; do
            case "$st" in pass|not-started) continue ;; esac
            echo
            if [ "$st" = fail ] && [ -s "$out/logs/$step.tap" ]; then echo "## $step: the check's output"; log=$out/logs/$step.tap
            elif [ "$st" = compile-error ]; then echo "## $step: the compiler's message"; log=$out/logs/$step.build.log
            else echo "## $step"; log=$out/logs/$step.build.log; fi
            echo
            echo '```'
            cap_text "$REPORT_CAP" <"$log"
            echo '```'
        done <"$out/rows.tsv"
    } >"$out/report.md"
    local tests failures errors
    read -r tests failures errors < <(grep -o '<testsuite [^>]*' "$suites" |
        sed -n 's/.* tests="\([0-9]*\)" failures="\([0-9]*\)" errors="\([0-9]*\)".*/\1 \2 \3/p' |
        awk '{ t += $1; f += $2; e += $3 } END { print t + 0, f + 0, e + 0 }')
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        printf '<testsuites name="%s" tests="%d" failures="%d" errors="%d">\n' "$(printf '%s' "$name" | xml_escape)" "$tests" "$failures" "$errors"
        cat "$suites"
        echo '</testsuites>'
    } >"$out/junit.xml"
    # results.json, to Gradescope's specification: per step a scored test (its weight; the
    # reason and the log as output), then one test per check test of it (number "N.k",
    # status and output only: the points are the step's, all or nothing, as in make grade).
    # Top level: score, execution_time, output, visibility, stdout_visibility, tests (the
    # specification has no top-level max_score). GRADESCOPE_VISIBILITY (visible) and
    # GRADESCOPE_STDOUT_VISIBILITY (hidden) set the two visibilities.
    while IFS=$'\t' read -r step st reason; do
        w=$(weight_of "$step")
        case "$st" in pass) log=/dev/null ;; fail) log=$out/logs/$step.tap ;; *) log=$out/logs/$step.build.log ;; esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$st" "$w" "$reason" "$log" "$out/logs/$step.tap"
    done <"$out/rows.tsv" | GS_NAME=$name GS_TIME=${GRADE_EXECUTION_TIME:-0} GS_CAP=$REPORT_CAP \
        GS_VIS=${GRADESCOPE_VISIBILITY:-visible} GS_OUTVIS=${GRADESCOPE_STDOUT_VISIBILITY:-hidden} \
        GS_DESC="RUN_TIMEOUT=${RUN_TIMEOUT}s, $SANDBOX_DESC" perl -MJSON::PP -e '
        sub slurp { my $f = shift; open my $h, "<:raw", $f or return ""; local $/; my $t = <$h> // ""; utf8::decode($t); $t }
        sub capped { my $t = shift; return $t if length $t <= $ENV{GS_CAP}; substr($t, 0, $ENV{GS_CAP}) . "\n[... cut: at most $ENV{GS_CAP} characters are kept]\n" }
        my ($score, $max, $n, @tests) = (0, 0, 0);
        my $vis = $ENV{GS_VIS};
        while (<STDIN>) { chomp; my ($step, $st, $w, $reason, $log, $tap) = split /\t/, $_, 6;
            utf8::decode($reason); $n++;
            my $text = slurp($log);
            $max += $w; $score += $w if $st eq "pass";
            my ($num) = $step =~ /^0*(\d+)/; $num //= $n;
            push @tests, { name => $step, number => "$num", score => ($st eq "pass" ? $w + 0 : 0), max_score => $w + 0,
                           status => ($st eq "pass" ? "passed" : "failed"), output_format => "text", visibility => $vis,
                           tags => ["step", $st],
                           output => capped($st . ($reason ne "" ? ": $reason" : "") . ($text ne "" ? "\n\n$text" : "")) };
            next unless $st eq "pass" || $st eq "fail";
            # The check tests of the step, from its TAP output.
            my ($k, $cur) = (0, undef);
            for my $l (split /\n/, slurp($tap)) {
                if ($l =~ /^(ok|not ok) \d+ (.*?)(?: # in \d+ ?ms| in \d+ms)?$/) {
                    my ($ok, $t) = ($1 eq "ok", $2); $t =~ s/ # skip.*//; $t =~ s/^\d+: //;
                    $k++;
                    $cur = { name => "$step: $t", number => "$num.$k", status => ($ok ? "passed" : "failed"),
                             output => "", output_format => "text", visibility => $vis, tags => ["check"] };
                    push @tests, $cur;
                } elsif ($cur && $cur->{status} eq "failed" && $l =~ /^# ?(.*)/) {
                    $cur->{output} .= "$1\n" if length $cur->{output} < $ENV{GS_CAP};
                }
            }
        }
        my $name = $ENV{GS_NAME}; utf8::decode($name); my $desc = $ENV{GS_DESC}; utf8::decode($desc);
        print JSON::PP->new->utf8->canonical->pretty->encode({ score => $score + 0, execution_time => $ENV{GS_TIME} + 0,
            output => "$name: $score/$max, graded with the workbook'\''s checks ($desc).",
            visibility => $vis, stdout_visibility => $ENV{GS_OUTVIS}, tests => \@tests });' \
        >"$out/results.json"
}

# The class files, from every student folder under OUTDIR (sorted by name).
write_class_files() { # OUTDIR
    local outdir=$1 d name step st reason w
    local folders=() allsteps=()
    while IFS= read -r -d '' d; do [ -f "$d/rows.tsv" ] && [ -f "$d/provenance.txt" ] && folders+=("$d"); done \
        < <(find "$outdir" -mindepth 1 -maxdepth 1 -type d -print0 | sort -z)
    mapfile -t allsteps < <(cat "${folders[@]/%//rows.tsv}" /dev/null | cut -f1 | grep -v '^-$' | sort -u)
    mapfile -t folders < <(for d in "${folders[@]}"; do printf '%s\t%s\n' "$(sed -n 's/^name\t//p' "$d/provenance.txt")" "$d"; done | sort | cut -f2)
    {
        echo "student,step,result,reason"
        for d in "${folders[@]}"; do
            name=$(sed -n 's/^name\t//p' "$d/provenance.txt")
            while IFS=$'\t' read -r step st reason; do
                echo "$(csv_field "$name"),$(csv_field "$step"),$st,$(csv_field "$reason")"
            done <"$d/rows.tsv"
        done
    } >"$outdir/grades.csv.tmp" && mv "$outdir/grades.csv.tmp" "$outdir/grades.csv"
    {
        printf 'student'; for step in "${allsteps[@]}"; do printf ',%s' "${step%%_*}"; done; echo ',score,max'
        for d in "${folders[@]}"; do
            name=$(sed -n 's/^name\t//p' "$d/provenance.txt")
            printf '%s' "$(csv_field "$name")"
            local score=0 max=0 cell
            for step in "${allsteps[@]}"; do
                st=$(awk -F'\t' -v s="$step" '$1 == s { print $2 }' "$d/rows.tsv")
                w=$(weight_of "$step") cell=""
                if [ -n "$st" ]; then
                    max=$(awk -v a="$max" -v b="$w" 'BEGIN { printf "%g", a + b }')
                    if [ "$st" = pass ]; then cell=$w; score=$(awk -v a="$score" -v b="$w" 'BEGIN { printf "%g", a + b }'); else cell=0; fi
                fi
                printf ',%s' "$cell"
            done
            # A submission not graded at all has a max of 0.
            echo ",$score,$max"
        done
    } >"$outdir/grades-wide.csv.tmp" && mv "$outdir/grades-wide.csv.tmp" "$outdir/grades-wide.csv"
    {
        echo "# Grades"
        echo
        echo "${#folders[@]} submission(s) in this folder (last grading: $(date '+%Y-%m-%d %H:%M'), ${GRADE_RUN_DESC:-})."
        echo
        printf '| student |'; printf ' %s |' "${allsteps[@]}"; echo ' score |'
        printf '|---|'; printf -- '---|%.0s' "${allsteps[@]}"; echo '---|'
        for d in "${folders[@]}"; do
            name=$(sed -n 's/^name\t//p' "$d/provenance.txt")
            printf '| %s |' "$(printf '%s' "$name" | sed 's/|/\\|/g')"
            for step in "${allsteps[@]}"; do
                st=$(awk -F'\t' -v s="$step" '$1 == s { print $2 }' "$d/rows.tsv")
                printf ' %s |' "${st:--}"
            done
            if grep -q $'^-\tnot-graded' "$d/rows.tsv"; then echo " not graded |"
            else echo " $(awk -F, -v n="$(csv_field "$name")" 'NR > 1 && substr($0, 1, length(n) + 1) == n "," { print $(NF - 1) "/" $NF; exit }' "$outdir/grades-wide.csv") |"; fi
        done
        printf '| **passed** |'
        for step in "${allsteps[@]}"; do
            printf ' %s/%s |' "$(cat "${folders[@]/%//rows.tsv}" | awk -F'\t' -v s="$step" '$1 == s && $2 == "pass"' | wc -l)" \
                "$(cat "${folders[@]/%//rows.tsv}" | awk -F'\t' -v s="$step" '$1 == s' | wc -l)"
        done
        echo ' |'
        echo
        echo "Results: pass; fail (the check failed); compile-error; not-started (the starter as shipped); missing (no source for the step); not-graded."
        echo
        echo "## Why steps were not passed, counted per step"
        for step in "${allsteps[@]}" -; do
            local reasons
            reasons=$(cat "${folders[@]/%//rows.tsv}" | awk -F'\t' -v s="$step" '$1 == s && $2 != "pass" {
                    r = $2; if ($3 != "") r = r ": " $3; gsub(/[0-9]+/, "N", r); print substr(r, 1, 160) }' |
                sort | uniq -c | sort -rn)
            [ -n "$reasons" ] || continue
            echo
            echo "### ${step/#-/not graded}"
            echo
            printf '%s\n' "$reasons" | sed 's/^ *\([0-9]*\) /- \1 x /'
        done
        echo
        echo "Per student: \`STUDENT/report.md\`, \`junit.xml\`, \`results.json\` (Gradescope); the class: \`grades.csv\` (long), \`grades-wide.csv\`."
    } >"$outdir/summary.md"
}
