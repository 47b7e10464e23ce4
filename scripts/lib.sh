# Shared by the workbook's scripts: `. "$ROOT/scripts/lib.sh"` from the workbook's top
# folder. It only defines functions.

# The step folders, in order (01_auto_commit 02_manual_commit ...), of steps/ or of DIR.
workbook_steps() { # [DIR]
    (cd "${1:-steps}" 2>/dev/null && ls -d [0-9][0-9]_*/ 2>/dev/null | tr -d /) || true
}

# A new KRaft cluster id: 16 random bytes in URL-safe base64, 22 characters. Drawn again
# while it starts with '-', as Kafka's own Uuid.randomUuid() does: kafka-storage would read
# such an id as an option ("--cluster-id/-t: expected one argument"), 1 time in 64.
kraft_cluster_id() {
    local id
    while id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); [ "${id:0:1}" = - ]; do :; done
    printf '%s\n' "$id"
}

# Sets STEP_DIR to the step folder that WANT names: "01", "1", "01_auto_commit" or
# "auto_commit". Otherwise one line, as PROG, naming the steps, and exit 2.
resolve_step() { # PROG WANT
    local prog=$1 want=$2 all
    all=$(workbook_steps)
    [[ $want =~ ^[0-9]$ ]] && want=0$want
    STEP_DIR=$(printf '%s\n' $all |
        awk -v w="$want" 'w != "" && ($0 == w || substr($0, 1, 3) == w "_" || substr($0, 4) == w)' | head -n1)
    [ -n "$STEP_DIR" ] ||
        { echo "$prog: no step '$2'; the steps are: $(echo $all) (STEP=01 or STEP=1 will do)" >&2; exit 2; }
}

# What a step's check judged: its sources under TARGET (steps or solutions), the kit and
# the check. scripts/check.sh records it with each result; `make status` compares.
source_hash() { # TARGET STEP
    { cat "$1/$2"/*.c tools/step/step.c tools/step/step.h "checks/$2.bats" 2>/dev/null || true; } |
        sha256sum | cut -c1-16
}

# Every process below PID (children first, then theirs), one a line. `timeout` puts
# itself in a process group of its own, so a group kill would miss what it runs: walk the
# tree instead.
descendants() { # PID
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done
}

# Stop everything below PID: TERM, a moment to clean up, then KILL what is left.
kill_tree() { # PID
    local pids
    pids=$(descendants "$1")
    [ -n "$pids" ] || return 0
    kill -TERM $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(descendants "$1"); [ -n "$pids" ] || return 0
        sleep 0.1
    done
    kill -KILL $pids 2>/dev/null || true
}

# Stop every process that carries WORKBOOK_RUN=MARK in its environment: what a run
# started, even when its parent is gone (bats under GNU parallel leaves the programs of
# an interrupted test to init, where no tree walk finds them). Export WORKBOOK_RUN=MARK
# first; every child inherits it.
kill_marked() { # MARK
    local mark=$1 p pids=
    [ -n "$mark" ] || return 0
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" != $$ ] || continue
        tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "WORKBOOK_RUN=$mark" && pids+=" ${p#/proc/}"
    done
    [ -n "$pids" ] || return 0
    kill -TERM $pids 2>/dev/null || true
    sleep 0.3
    kill -KILL $pids 2>/dev/null || true
}
