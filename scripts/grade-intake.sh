# Intake for scripts/grade.sh (sourced; defines functions only): what is taken from a
# submission, and what is refused.
#
# A submission is a folder, or an archive (.tar, .tar.gz, .tgz, .zip), named after the
# student. Anything else gets a "not graded" row. An archive is checked before anything is
# extracted: at most GRADE_MAX_ARCHIVE bytes (default 20 MiB), GRADE_MAX_ENTRIES entries
# (2000), GRADE_MAX_UNPACKED bytes once extracted (100 MiB); no absolute path, no "..", no
# link, no device; extraction is bounded by GRADE_EXTRACT_TIMEOUT seconds (30).
# In the submission, its steps/: at the top, or deeper (a GitHub download, a folder in a
# folder), or the step folders themselves; the shallowest wins, and when there are several
# at the same depth the submission is not graded (an ambiguous layout). Symbolic links are
# never followed (a steps/ that is a link is not a steps/ folder).
# From steps/ only the workbook's own step folders are taken, and in them only regular
# files with a safe name (^[A-Za-z0-9_.-]+\.[ch]$, at most GRADE_MAX_FILE bytes, 1 MiB).
# Everything left out is listed in the student's notes.

SAFE_NAME_RE='^[A-Za-z0-9_.-]+\.[ch]$'
GRADE_MAX_ARCHIVE=${GRADE_MAX_ARCHIVE:-$((20 << 20))}
GRADE_MAX_ENTRIES=${GRADE_MAX_ENTRIES:-2000}
GRADE_MAX_UNPACKED=${GRADE_MAX_UNPACKED:-$((100 << 20))}
GRADE_MAX_FILE=${GRADE_MAX_FILE:-$((1 << 20))}
GRADE_EXTRACT_TIMEOUT=${GRADE_EXTRACT_TIMEOUT:-30}

# The kind of a top-level entry, and the student's name from it: sets KIND (dir, tar, zip,
# link, unknown) and NAME (the original name, UTF-8 kept, minus the archive's extension).
classify_entry() { # PATH
    local base
    base=$(basename "$1")
    NAME=$base KIND=unknown
    if [ -L "$1" ]; then KIND=link
    elif [ -d "$1" ]; then KIND=dir
    elif [ -f "$1" ]; then
        case "$base" in
            *.tar.gz) KIND=tar NAME=${base%.tar.gz} ;; *.tgz) KIND=tar NAME=${base%.tgz} ;;
            *.tar) KIND=tar NAME=${base%.tar} ;; *.zip) KIND=zip NAME=${base%.zip} ;;
        esac
    fi
}

# Why an archive must not be extracted (nothing when it may). Lists it first.
archive_problem() { # KIND PATH
    local kind=$1 f=$2 size list n total
    size=$(stat -c %s "$f")
    [ "$size" -le "$GRADE_MAX_ARCHIVE" ] || { echo "the archive is $size bytes, more than the $GRADE_MAX_ARCHIVE allowed"; return; }
    if [ "$kind" = tar ]; then
        list=$(timeout "$GRADE_EXTRACT_TIMEOUT" tar -tvf "$f" 2>&1) || { echo "it cannot be read as a tar archive: $(printf '%s' "$list" | tail -n 1 | cut -c1-200)"; return; }
        n=$(printf '%s\n' "$list" | grep -c .)
        [ "$n" -le "$GRADE_MAX_ENTRIES" ] || { echo "it has $n entries, more than the $GRADE_MAX_ENTRIES allowed"; return; }
        printf '%s\n' "$list" | grep -q '^[^-d]' && { echo "it holds links or special files"; return; }
        total=$(printf '%s\n' "$list" | awk '{ s += $3 } END { printf "%d", s }')
        [ "$total" -le "$GRADE_MAX_UNPACKED" ] || { echo "it unpacks to $total bytes, more than the $GRADE_MAX_UNPACKED allowed"; return; }
        timeout "$GRADE_EXTRACT_TIMEOUT" tar -tf "$f" | awk '/^\// || /(^|\/)\.\.(\/|$)/ { bad = 1 } END { exit !bad }' &&
            { echo "it holds absolute paths or '..'"; return; }
    else
        list=$(timeout "$GRADE_EXTRACT_TIMEOUT" zipinfo -l "$f" 2>&1) || { echo "it cannot be read as a zip archive: $(printf '%s' "$list" | tail -n 1 | cut -c1-200)"; return; }
        n=$(printf '%s\n' "$list" | grep -cE '^[-dlrwxsStT?]{10} ')
        [ "$n" -le "$GRADE_MAX_ENTRIES" ] || { echo "it has $n entries, more than the $GRADE_MAX_ENTRIES allowed"; return; }
        # Unix modes in the listing: the first letter says what an entry is.
        printf '%s\n' "$list" | grep -E '^[-dlrwxsStT?]{10} ' | grep -q '^[^-d]' && { echo "it holds links or special files"; return; }
        total=$(printf '%s\n' "$list" | grep -E '^[-dlrwxsStT?]{10} ' | awk '{ s += $4 } END { printf "%d", s }')
        [ "$total" -le "$GRADE_MAX_UNPACKED" ] || { echo "it unpacks to $total bytes, more than the $GRADE_MAX_UNPACKED allowed"; return; }
        timeout "$GRADE_EXTRACT_TIMEOUT" zipinfo -1 "$f" | awk '/^\// || /(^|\/)\.\.(\/|$)/ || /\\/ { bad = 1 } END { exit !bad }' &&
            { echo "it holds absolute paths or '..'"; return; }
    fi
    return 0
}

# Extract an archive (already checked) into DEST; prints why it failed.
extract_archive() { # KIND PATH DEST
    local err
    mkdir -p "$3"
    if [ "$1" = tar ]; then
        err=$(timeout "$GRADE_EXTRACT_TIMEOUT" tar -xf "$2" -C "$3" --no-same-owner --no-same-permissions 2>&1) ||
            { echo "the archive could not be extracted in ${GRADE_EXTRACT_TIMEOUT}s: $(printf '%s' "$err" | tail -n 1 | cut -c1-200)"; return 1; }
    else
        err=$(timeout "$GRADE_EXTRACT_TIMEOUT" unzip -qq -o "$2" -d "$3" 2>&1) ||
            { echo "the archive could not be extracted in ${GRADE_EXTRACT_TIMEOUT}s: $(printf '%s' "$err" | tail -n 1 | cut -c1-200)"; return 1; }
    fi
    # Whatever the tools did: nothing but folders and regular files stays.
    find "$3" -mindepth 1 ! -type d ! -type f -delete 2>/dev/null
    return 0
}

# Where the steps are under ROOT_DIR: sets STEPS_AT (a folder) and LAYOUT_NOTE; returns 1
# with WHY set when there is none, or when the layout is ambiguous. Never follows links.
find_steps() { # ROOT_DIR
    local r=$1 cand=() d depth best=99 picks=()
    LAYOUT_NOTE="" WHY="" STEPS_AT=""
    # Folders named steps/; only when there is none, folders that hold step folders
    # (NN_topic/) themselves.
    while IFS= read -r -d '' d; do cand+=("$d"); done < <(
        find -P "$r" -mindepth 1 -maxdepth 4 \( -name '.*' -o -name __MACOSX \) -prune -o -type d -name steps -print0 | sort -z)
    [ ${#cand[@]} -gt 0 ] || while IFS= read -r -d '' d; do cand+=("$d"); done < <(
        find -P "$r" -mindepth 0 -maxdepth 3 \( -name '.*' -o -name __MACOSX \) -prune -o -type d \
            -exec sh -c 'for s in "$1"/[0-9][0-9]_*/; do [ -d "$s" ] && [ ! -L "${s%/}" ] && exit 0; done; exit 1' sh {} \; -print0 | sort -z)
    if [ ${#cand[@]} -eq 0 ]; then
        if find -P "$r" -maxdepth 4 -name steps -type l | grep -q .; then
            WHY="its steps/ is a symbolic link (links are never followed)"
        else
            WHY="no steps/ folder (nor step folders NN_topic/) in the submission"
        fi
        return 1
    fi
    for d in "${cand[@]}"; do
        depth=$(printf '%s' "${d#"$r"}" | tr -cd / | wc -c)
        if [ "$depth" -lt "$best" ]; then best=$depth picks=("$d")
        elif [ "$depth" -eq "$best" ]; then picks+=("$d"); fi
    done
    if [ ${#picks[@]} -gt 1 ]; then
        WHY="ambiguous layout: steps found in $(for d in "${picks[@]}"; do printf '%s; ' "${d#"$r"/}"; done | sed 's/; $//')"
        return 1
    fi
    STEPS_AT=${picks[0]}
    if [ ${#cand[@]} -gt 1 ]; then
        LAYOUT_NOTE="several places hold steps: graded ${STEPS_AT#"$r"/}, the shallowest; ignored: $(for d in "${cand[@]}"; do [ "$d" = "$STEPS_AT" ] || printf '%s; ' "${d#"$r"/}"; done | sed 's/; $//')"
    fi
    return 0
}

# Copy the safe files of the workbook's steps from FROM (a steps folder) into TO; every
# entry left out is written to NOTES, one line each.
take_steps() { # FROM TO NOTES STEP...
    local from=$1 to=$2 notes=$3 e base step size; shift 3
    local -A known=()
    for step in "$@"; do known[$step]=1; done
    for step in $(workbook_steps "$ROOT/steps"); do known[$step]=1; done
    while IFS= read -r -d '' e; do
        base=$(basename "$e")
        if [ -L "$e" ]; then echo "ignored: steps/$base (a symbolic link)" >>"$notes"; continue; fi
        if [ ! -d "$e" ]; then echo "ignored: steps/$base (not a step folder)" >>"$notes"; continue; fi
        if [ -z "${known[$base]:-}" ]; then echo "ignored: steps/$base/ (not one of the workbook's steps)" >>"$notes"; continue; fi
        mkdir -p "$to/$base"
        while IFS= read -r -d '' f; do
            local fb
            fb=$(basename "$f")
            if [ -L "$f" ]; then echo "ignored: steps/$base/$fb (a symbolic link)" >>"$notes"
            elif [ -d "$f" ]; then echo "ignored: steps/$base/$fb/ (a folder)" >>"$notes"
            elif [ ! -f "$f" ]; then echo "ignored: steps/$base/$fb (not a regular file)" >>"$notes"
            elif ! [[ "$fb" =~ $SAFE_NAME_RE ]]; then
                case "$fb" in *.md|*.txt) ;; *) echo "ignored: steps/$base/$(printf '%q' "$fb") (not a safe source name: letters, digits, _ . - and .c or .h)" >>"$notes" ;; esac
            else
                size=$(stat -c %s "$f")
                if [ "$size" -gt "$GRADE_MAX_FILE" ]; then echo "ignored: steps/$base/$fb ($size bytes, more than $GRADE_MAX_FILE)" >>"$notes"
                else cat <"$f" >"$to/$base/$fb"; fi
            fi
        done < <(find -P "$e" -mindepth 1 -maxdepth 1 -print0 | sort -z)
    done < <(find -P "$from" -mindepth 1 -maxdepth 1 ! -name '.*' -print0 | sort -z)
}

# The commit of a git repository at DIR (or above it, up to TOP), read from .git without
# running git (its hooks and configuration are the student's): prints it, or nothing.
git_commit_of() { # DIR TOP
    local d=$1 top=$2 head ref
    while :; do
        if [ -d "$d/.git" ] && [ ! -L "$d/.git" ] && [ -f "$d/.git/HEAD" ] && [ ! -L "$d/.git/HEAD" ]; then
            head=$(head -c 200 "$d/.git/HEAD")
            if [[ "$head" =~ ^ref:\ (refs/[A-Za-z0-9/_.-]+) ]]; then
                ref=${BASH_REMATCH[1]}
                if [ -f "$d/.git/$ref" ] && [ ! -L "$d/.git/$ref" ]; then head -c 40 "$d/.git/$ref"
                elif [ -f "$d/.git/packed-refs" ]; then awk -v r="$ref" '$2 == r { print $1; exit }' "$d/.git/packed-refs"; fi
                echo " ($ref)"
            elif [[ "$head" =~ ^[0-9a-f]{40} ]]; then echo "${head:0:40} (detached)"; fi
            return
        fi
        [ "$d" != "$top" ] && [ "$d" != / ] || return 0
        d=$(dirname "$d")
    done
}

# The hashes of what is graded: "sha256  steps/NN/file" lines, in order.
file_hashes() { # STEPS_COPY
    (cd "$1/.." && find steps -type f -print0 | sort -z | xargs -0r sha256sum)
}

# Is STEP (in the copy) the starter as shipped? steps/.starters.sha256 lists the shipped
# starters' hashes (carriage returns removed).
untouched_starter() { # STEPS_COPY STEP
    local f h want n=0
    [ -f "$ROOT/steps/.starters.sha256" ] || return 1
    grep -q "  steps/$2/" "$ROOT/steps/.starters.sha256" || return 1
    for f in "$1/$2"/*.c; do
        [ -f "$f" ] || return 1
        h=$(tr -d '\r' <"$f" | sha256sum | cut -d' ' -f1)
        want=$(awk -v p="steps/$2/$(basename "$f")" '$2 == p { print $1 }' "$ROOT/steps/.starters.sha256")
        [ "$h" = "$want" ] || return 1
        n=$((n + 1))
    done
    [ "$n" -eq "$(grep -c "  steps/$2/" "$ROOT/steps/.starters.sha256")" ]
}
