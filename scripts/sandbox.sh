#!/usr/bin/env bash
# The sandbox in which `make grade` runs student code (scripts/grade.sh): bubblewrap
# (Debian's bubblewrap package), for the build of a step and for every run of its program.
#
#   scripts/sandbox.sh check                  can this machine sandbox? one line, exit 0 or 1
#   scripts/sandbox.sh check-container        may the container mode run here? one line, 0 or 1
#   scripts/sandbox.sh exec CONF [--net] -- CMD [ARGS...]
#                                             run CMD inside the sandbox that CONF describes
#
# CONF is a file of shell assignments written by grade.sh (sandbox_conf below):
#   SB_MODE     root (we are root: student code runs as SB_UID, an unprivileged uid of its
#               own), user (we are not root: an unprivileged user namespace), unsafe (UNSAFE=1:
#               no sandbox at all, only the limits and the environment), container
#               (GRADER_SANDBOX=container: one submission in a throwaway container, where
#               bwrap cannot make namespaces; no namespace at all: student code runs as SB_UID
#               with the limits and the environment, and file permissions keep it from the
#               checks: the grader's folders are mode 700, see check-container below)
#   SB_SCRATCH  the student's scratch copy (Makefile, tools/ sources, steps/, build/): the
#               only place it may write; seen inside as /sandbox, the working folder
#   SB_UID      root mode: the uid student code runs as (also counts its processes)
#   SB_NET      a folder of relay sockets, one per allowed port (PORT.sock), or empty
#   SB_PORTS    the ports a program may reach on 127.0.0.1 (the broker's)
#   SB_DBS      where databases given with --db PATH (step 07's check) really live
#   SB_CPU SB_AS SB_NPROC SB_FSIZE SB_NOFILE   the rlimits (s, bytes, n, bytes, n); the CPU
#               limit's hard value is 2 s above, so that SIGXCPU (named) comes first
#   SB_OUTPUT   at most this many bytes of each of stdout and stderr are kept (default 8 MiB):
#               the program keeps running, the rest is dropped, and a last line says so
#   SB_NOTES    a file where each cut output and each limit that killed a program is written
#               down (one line each), for the report; optional
#
# What student code sees: /usr (and /bin, /lib... links to it) and /etc read-only, a fresh
# /tmp, /proc of its own pid namespace (no other process: not the grader's, not bats',
# no /proc/PID/cwd into the instructor's tree), a minimal /dev, its scratch copy at
# /sandbox. Not the instructor's tree, not $HOME, not the checks, not the tools. The
# environment is an allowlist (PATH, HOME, LANG, TMPDIR, the probe's two variables and its
# fault, WORKBOOK_FAULT, whatever its value);
# bwrap dies with its parent. Network: a namespace of its own, where only 127.0.0.1:PORT
# for each allowed port answers, relayed (socat) to the same port on the host; without
# --net (the build) no network at all.
# The probe (tools/probe/probe.c, LD_PRELOAD) still works: its library is bound read-only and
# its output file (WORKBOOK_PROBE) read-write, at /run/wb/.
# Output: stdout and stderr reach the caller through pipes (perl filters, outside the limits),
# so a verbose program is never killed by the file-size limit for its output; what is
# beyond SB_OUTPUT is dropped. A program killed by a limit (SIGXCPU, SIGXFSZ) gets a last
# stderr line that names the limit.
# Signals: INT and TERM (timeout's, Ctrl+C tests) reach the program through its process
# group; bwrap itself ignores them so that it waits for the program's own ending, and
# the program gets the default handling back (env --default-signal).
set -uo pipefail
SB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

sandbox_check() {
    command -v bwrap >/dev/null 2>&1 || { echo "bwrap (bubblewrap) is not installed: make deps, or UNSAFE=1 to grade without a sandbox"; return 1; }
    command -v socat >/dev/null 2>&1 || { echo "socat is not installed (it relays the broker into the sandbox): make deps, or UNSAFE=1"; return 1; }
    local err
    if [ "$(id -u)" -eq 0 ]; then
        err=$(bwrap --ro-bind / / --dev /dev --proc /proc --unshare-ipc --unshare-pid --unshare-net --unshare-uts --die-with-parent \
            --cap-add CAP_SETUID --cap-add CAP_SETGID \
            setpriv --reuid 65534 --regid 65534 --clear-groups /bin/true 2>&1) ||
            { echo "bwrap cannot create namespaces here ($err): UNSAFE=1 to grade without a sandbox"; return 1; }
    else
        err=$(bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --unshare-user --die-with-parent /bin/true 2>&1) ||
            { echo "bwrap cannot create unprivileged namespaces here ($err; see kernel.unprivileged_userns_clone): UNSAFE=1 to grade without a sandbox"; return 1; }
    fi
    return 0
}

# The container mode (GRADER_SANDBOX=container) only where a container is the sandbox:
# Docker's /.dockerenv, Podman's /run/.containerenv, $container (systemd's convention), or
# the cgroup of pid 1; GRADER_CONTAINER=1 says so explicitly (run_autograder), 0 denies it.
in_container() {
    case "${GRADER_CONTAINER:-}" in 1) return 0 ;; 0) return 1 ;; esac
    { [ -e /.dockerenv ] || [ -e /run/.containerenv ] || [ -n "${container:-}" ]; } && return 0
    grep -qE 'docker|kubepods|containerd|libpod|lxc' /proc/1/cgroup 2>/dev/null
}
# ROOT: the workbook, which an unprivileged uid must not be able to read.
container_check() { # [ROOT]
    in_container || { echo "GRADER_SANDBOX=container runs student code without namespaces, so only in a throwaway container; none detected here (no /.dockerenv, /run/.containerenv, \$container or container cgroup): GRADER_CONTAINER=1 if this is one"; return 1; }
    [ "$(id -u)" -eq 0 ] || { echo "GRADER_SANDBOX=container needs root (student code runs as an unprivileged uid of its own)"; return 1; }
    command -v setpriv >/dev/null 2>&1 || { echo "GRADER_SANDBOX=container needs setpriv (util-linux)"; return 1; }
    if [ -n "${1:-}" ] && setpriv --reuid 65534 --regid 65534 --clear-groups sh -c 'cat "$1/Makefile" || ls "$1/checks"' sh "$1" >/dev/null 2>&1; then
        echo "the workbook ($1) is readable by other users, so student code could read its checks and solutions: chmod 700 it, or a folder above it (run_autograder does)"; return 1
    fi
    return 0
}
# After the program: the output filters end (2 s at most: a grandchild may hold the pipes),
# then a program killed by a limit gets a last stderr line naming it (and a note); the
# program's status is returned (128+N for signal N, as bwrap and a shell report it).
sandbox_done() { # STATUS
    local rc=$1 n=0 why=""
    exec {out_fd}>&- {err_fd}>&-
    while { kill -0 "$out_pid" || kill -0 "$err_pid"; } 2>/dev/null && [ $n -lt 100 ]; do sleep 0.02; n=$((n + 1)); done
    kill "$out_pid" "$err_pid" 2>/dev/null
    case "$rc" in
        152) why="killed by SIGXCPU: it used up its CPU-time limit ($SB_CPU s of CPU), a limit of the grader's sandbox, not a crash" ;;
        153) why="killed by SIGXFSZ: it wrote a file past the file-size limit ($SB_FSIZE bytes), a limit of the grader's sandbox, not a crash" ;;
    esac
    if [ -n "$why" ]; then
        echo "[sandbox: $why]" >&2
        [ -z "${SB_NOTES:-}" ] || echo "$why" >>"$SB_NOTES"
    fi
    return "$rc"
}

sandbox_exec() { # CONF [--net] -- CMD ARGS...
    local conf=$1 net=0; shift
    [ "${1:-}" = --net ] && { net=1; shift; }
    [ "${1:-}" = -- ] && shift
    # shellcheck disable=SC1090
    . "$conf"
    local args=() a prev="" db_dir="" preload="" probe=""
    # --db PATH (absolute, outside): the database lives in SB_DBS/<n>/, PATH becomes a link
    # to it (the check reads it there), and the program is given /run/wb/db/NAME.
    for a in "$@"; do
        if [ "$prev" = --db ] && [[ "$a" == /* ]] && [ -n "${SB_DBS:-}" ] && [ "$SB_MODE" != unsafe ]; then
            db_dir=$SB_DBS/$(printf '%s' "$(dirname "$a")" | sha256sum | cut -c1-12)
            mkdir -p "$db_dir"
            case "$SB_MODE" in root|container) chown "$SB_UID:$SB_UID" "$db_dir" ;; esac
            find "$db_dir" -mindepth 1 ! -type f -delete 2>/dev/null   # no links for the judge to follow
            [ -e "$a" ] || [ -L "$a" ] || ln -s "$db_dir/$(basename "$a")" "$a"
            if [ "$SB_MODE" = container ]; then a=$db_dir/$(basename "$a"); else a=/run/wb/db/$(basename "$a"); fi
        fi
        args+=("$a"); prev=$a
    done
    # The probe: its library, and the file it writes.
    if [ -n "${LD_PRELOAD:-}" ] && [ -n "${WORKBOOK_PROBE:-}" ]; then
        preload=$LD_PRELOAD probe=$WORKBOOK_PROBE
        unset LD_PRELOAD WORKBOOK_PROBE    # for the program only, not for bwrap and the relays
        : >>"$probe"
        case "$SB_MODE" in root|container) chown "$SB_UID" "$probe" ;; esac
    fi
    # The probe's fault (WORKBOOK_FAULT, any kind): a check's scenario that relies on it
    # must happen under the grader too. For the program only.
    local fault=${WORKBOOK_FAULT:-}
    unset WORKBOOK_FAULT
    local envs=(PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8 TMPDIR=/tmp)
    local limits=(--cpu="$SB_CPU:$((SB_CPU + 2))" --as="$SB_AS" --fsize="$SB_FSIZE" --nofile="$SB_NOFILE" --nproc="$SB_NPROC")
    trap '' INT TERM HUP QUIT   # bwrap waits for the program; the program gets them (below)
    # Its output through the cap (outside the limits): two filters, children of this shell,
    # so that the program (or bwrap) stays its direct child and dies with it (a check's
    # kill -9 reaches this shell: bwrap's --die-with-parent, setpriv's --pdeathsig).
    local cap=${SB_OUTPUT:-$((8 << 20))} out_fd err_fd out_pid err_pid
    exec {out_fd}> >(exec perl "$SB_HERE/sandbox-output.pl" "$cap" stdout "${SB_NOTES:-}")
    out_pid=$!
    exec {err_fd}> >(exec perl "$SB_HERE/sandbox-output.pl" "$cap" stderr "${SB_NOTES:-}" >&2)
    err_pid=$!
    local rc=0
    if [ "$SB_MODE" = unsafe ]; then
        local u=(env -i "${envs[@]}" HOME="$SB_SCRATCH")
        [ -z "$preload" ] || u+=(LD_PRELOAD="$preload" WORKBOOK_PROBE="$probe")
        [ -z "$fault" ] || u+=(WORKBOOK_FAULT="$fault")
        (cd "$SB_SCRATCH" && exec prlimit "${limits[@]}" -- setpriv --pdeathsig KILL -- \
            env --default-signal=INT,TERM,HUP,QUIT "${u[@]}" "${args[@]}") >&"$out_fd" 2>&"$err_fd" || rc=$?
        sandbox_done "$rc"
        return
    fi
    # The container mode: no namespace; an unprivileged uid, the limits, the environment.
    # The probe's file is handed over open (its folder is the grader's, mode 700) and its
    # library copied where that uid may read it.
    if [ "$SB_MODE" = container ]; then
        local c=(env -i "${envs[@]}" HOME="$SB_SCRATCH") pfd
        if [ -n "$preload" ]; then
            cmp -s "$preload" "$SB_DBS/libprobe.so" || install -m 644 "$preload" "$SB_DBS/libprobe.so"
            exec {pfd}>>"$probe"
            c+=(LD_PRELOAD="$SB_DBS/libprobe.so" WORKBOOK_PROBE=/proc/self/fd/$pfd)
        fi
        [ -z "$fault" ] || c+=(WORKBOOK_FAULT="$fault")
        (cd "$SB_SCRATCH" && exec prlimit "${limits[@]}" -- \
            setpriv --reuid "$SB_UID" --regid "$SB_UID" --clear-groups --no-new-privs --pdeathsig KILL -- \
            env --default-signal=INT,TERM,HUP,QUIT "${c[@]}" "${args[@]}") >&"$out_fd" 2>&"$err_fd" || rc=$?
        [ -z "$db_dir" ] || find "$db_dir" -mindepth 1 ! -type f -delete 2>/dev/null
        sandbox_done "$rc"
        return
    fi

    local bw=(bwrap --die-with-parent --unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup-try --hostname sandbox
        --ro-bind /usr /usr --ro-bind /etc /etc
        --proc /proc --dev /dev --perms 1777 --tmpfs /tmp --tmpfs /run --perms 0755 --dir /run/wb
        --bind "$SB_SCRATCH" /sandbox --chdir /sandbox)
    local d
    for d in bin lib lib64 lib32 libx32 sbin; do
        if [ -L "/$d" ]; then bw+=(--symlink "$(readlink "/$d")" "/$d")
        elif [ -d "/$d" ]; then bw+=(--ro-bind "/$d" "/$d"); fi
    done
    [ -z "$preload" ] || bw+=(--ro-bind "$preload" /run/wb/libprobe.so --bind "$probe" /run/wb/probe)
    [ -z "$db_dir" ] || bw+=(--bind "$db_dir" /run/wb/db)
    [ "$net" = 1 ] && [ -n "${SB_NET:-}" ] && bw+=(--ro-bind "$SB_NET" /run/net)
    # Inside: the relays (one per port, each answering on 127.0.0.1:PORT; in a session of their
    # own, so that the signals sent to the program's group leave them be), then the program.
    local inner='
        for p in $SB_PORTS; do
            setsid socat TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/run/net/$p.sock >/dev/null 2>&1 &
        done
        for p in $SB_PORTS; do
            hex=$(printf "%04X" "$p"); n=0
            until grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A" /proc/net/tcp; do
                n=$((n + 1)); [ $n -lt 400 ] || { echo "sandbox: the relay for port $p did not start" >&2; exit 125; }
                sleep 0.005
            done
        done
        unset SB_PORTS p hex n
        [ -z "$SB_PRELOAD" ] || export LD_PRELOAD=$SB_PRELOAD WORKBOOK_PROBE=/run/wb/probe
        unset SB_PRELOAD
        [ -z "$SB_FAULT" ] || export WORKBOOK_FAULT="$SB_FAULT"
        unset SB_FAULT
        exec env --default-signal=INT,TERM,HUP,QUIT "$@"'
    local ports=""
    [ "$net" = 1 ] && [ -n "${SB_NET:-}" ] && ports=$SB_PORTS
    local run=(env -i "${envs[@]}" HOME=/sandbox SB_PORTS="$ports" SB_PRELOAD="${preload:+/run/wb/libprobe.so}" SB_FAULT="$fault")
    if [ "$SB_MODE" = root ]; then
        bw+=(--cap-add CAP_SETUID --cap-add CAP_SETGID --
             setpriv --reuid "$SB_UID" --regid "$SB_UID" --clear-groups --no-new-privs)
    else
        bw+=(--unshare-user --uid 1000 --gid 1000 --)
    fi
    prlimit "${limits[@]}" -- "${bw[@]}" "${run[@]}" /bin/sh -c "$inner" sh "${args[@]}" >&"$out_fd" 2>&"$err_fd" || rc=$?
    [ -z "$db_dir" ] || find "$db_dir" -mindepth 1 ! -type f -delete 2>/dev/null
    sandbox_done "$rc"
}

case "${1:-}" in
    check) sandbox_check ;;
    check-container) container_check "${2:-}" ;;
    exec) shift; sandbox_exec "$@" ;;
    *) echo "usage: scripts/sandbox.sh check | check-container [ROOT] | exec CONF [--net] -- CMD [ARGS...]" >&2; exit 2 ;;
esac
