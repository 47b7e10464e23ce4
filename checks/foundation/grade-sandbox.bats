#!/usr/bin/env bats
# checks/foundation/grade-sandbox.bats - scripts/sandbox.sh, the sandbox in which grading
# runs student code: what it hides, what it allows, and its limits. Each test runs a shell
# command inside a sandbox made here (no step, no check): a few seconds in all.
#
#   bats checks/foundation/grade-sandbox.bats

setup_file() {
    load ../test_helper/common
    workbook_setup_file
    # The sandbox is what makes grading safe: a machine where it cannot run fails here,
    # it is not skipped (a skipped test would hide a grader that refuses to grade).
    scripts_ok=$("$ROOT/scripts/sandbox.sh" check) ||
        fail "The grading sandbox cannot run here: $scripts_ok. make deps installs bubblewrap; a kernel that refuses unprivileged user namespaces must allow them (kernel.unprivileged_userns_clone, or AppArmor on Ubuntu 24.04), or grade with GRADER_SANDBOX=container in a throwaway container."
}

setup() {
    load ../test_helper/common
    D=$BATS_TEST_TMPDIR
    mkdir -p "$D/scratch" "$D/net" "$D/dbs"
    chmod 700 "$D"
    PORT=${BROKER##*:}
    local uid=""
    if [ "$(id -u)" -eq 0 ]; then uid=$((1500000000 + 2000000 + $$ % 10000)); chown -R "$uid:$uid" "$D/scratch"; fi
    mode=$([ "$(id -u)" -eq 0 ] && echo root || echo user)
    conf "$mode" "$uid" 120 $((4 << 30)) 256 $((16 << 20)) 256
    RELAY=
}

teardown() {
    [ -z "${RELAY:-}" ] || kill "$RELAY" 2>/dev/null || true
    [ -z "${OTHER:-}" ] || kill "$OTHER" 2>/dev/null || true
}

# The sandbox's configuration: MODE UID CPU AS NPROC FSIZE NOFILE
conf() {
    printf 'SB_MODE=%s\nSB_SCRATCH=%s\nSB_UID=%s\nSB_NET=%s\nSB_PORTS="%s"\nSB_DBS=%s\nSB_CPU=%s\nSB_AS=%s\nSB_NPROC=%s\nSB_FSIZE=%s\nSB_NOFILE=%s\n' \
        "$1" "$D/scratch" "$2" "$D/net" "$PORT" "$D/dbs" "$3" "$4" "$5" "$6" "$7" >"$D/conf"
}
inside() { "$ROOT/scripts/sandbox.sh" exec "$D/conf" "$@"; }
set_limit() { sed -i "s/^$1=.*/$1=$2/" "$D/conf"; }

@test "sandbox: the instructor's tree, \$HOME, the checks and other processes are hidden" {
    run inside -- sh -c "ls '$ROOT' 2>&1; ls '$HOME' 2>&1; ls '$ROOT/solutions' 2>&1; ls /proc | grep -c '^[0-9]'; cat /proc/[0-9]*/comm | sort -u | tr '\n' ' '; echo; id -u"
    assert_output --partial "cannot access '$ROOT'"
    assert_output --partial "cannot access '$HOME'"
    # Only the sandbox's own processes: bwrap's init, the shell and its commands.
    [ "$(sed -n 4p <<<"$output")" -le 6 ] || fail "other processes are visible: $output"
    ! grep -Ew 'bats|bash|timeout|make|sshd|java' <<<"$(sed -n 5p <<<"$output")" || fail "the grader's processes are visible: $output"
    [ "$(id -u)" -ne 0 ] || [ "$(sed -n 6p <<<"$output")" -ne 0 ] || fail "student code runs as root: $output"
}

@test "sandbox: only its scratch copy (and /tmp) is writable" {
    run inside -- sh -c 'touch /sandbox/ok && echo scratch-ok; touch /tmp/ok && echo tmp-ok; touch /usr/x 2>&1; touch /etc/x 2>&1; touch /x 2>&1'
    assert_line scratch-ok
    assert_line tmp-ok
    assert_output --partial "touch: cannot touch '/usr/x'"
    assert_output --partial "touch: cannot touch '/etc/x'"
    [ -f "$D/scratch/ok" ]
}

@test "sandbox: the environment is an allowlist (no SSH_AUTH_SOCK, no tokens)" {
    SSH_AUTH_SOCK=/tmp/agent.sock GITHUB_TOKEN=secret-token KAFKA_PORT=1 run inside -- env
    refute_output --partial SSH_AUTH_SOCK
    refute_output --partial secret-token
    refute_output --partial KAFKA_PORT
    assert_line "HOME=/sandbox"
    assert_line --regexp '^PATH='
}

# The checks force some scenarios with the probe's faults (WORKBOOK_FAULT, tools/probe/probe.c):
# they must happen under the grader too, whatever the fault's kind (step 06 graded without
# it failed every honest submission).
@test "sandbox: the probe's fault (WORKBOOK_FAULT, any value) reaches the program, in each mode" {
    local m
    for m in "$mode" unsafe; do
        set_limit SB_MODE "$m"
        WORKBOOK_FAULT='a-new-kind:2:1500' run inside -- env
        assert_line 'WORKBOOK_FAULT=a-new-kind:2:1500'
        refute_output --partial SB_FAULT
        run inside -- env
        refute_output --partial WORKBOOK_FAULT
    done
}

@test "sandbox: no network without --net; with it, only the broker's port on 127.0.0.1" {
    socat UNIX-LISTEN:"$D/net/$PORT.sock",fork,mode=0666 TCP:127.0.0.1:"$PORT" </dev/null >/dev/null 2>&1 3>&- &
    RELAY=$!
    # Another service on the host, which the sandbox must not reach.
    socat TCP-LISTEN:19398,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo hello' </dev/null >/dev/null 2>&1 3>&- &
    OTHER=$!
    for _ in $(seq 50); do [ -S "$D/net/$PORT.sock" ] && break; sleep 0.1; done
    run -0 socat -T 2 -u TCP:127.0.0.1:19398 -   # the host reaches it
    assert_output hello
    run inside -- sh -c "socat -T 2 -u TCP:127.0.0.1:$PORT OPEN:/dev/null,wronly 2>&1 </dev/null; echo broker=\$?"
    refute_output "broker=0"
    run inside --net -- sh -c "socat -T 1 -u OPEN:/dev/null TCP:127.0.0.1:$PORT 2>&1; echo broker=\$?; socat -T 2 -u TCP:127.0.0.1:19398 - 2>&1; echo other=\$?; socat -T 2 -u TCP:1.1.1.1:80 - 2>&1; echo outside=\$?"
    assert_line "broker=0"
    refute_line "other=0"
    refute_output --partial hello
    refute_line "outside=0"
}

@test "sandbox: CPU seconds are limited" {
    set_limit SB_CPU 1
    SECONDS=0
    run timeout 20 "$ROOT/scripts/sandbox.sh" exec "$D/conf" -- sh -c 'while :; do :; done'
    [ "$status" -eq 152 ] || fail "a busy loop was not stopped by the CPU limit's SIGXCPU (exit $status)"
    assert_output --partial "killed by SIGXCPU: it used up its CPU-time limit (1 s of CPU)"
    [ "$SECONDS" -le 10 ]
}

@test "sandbox: the address space is limited" {
    set_limit SB_AS $((128 << 20))
    run inside -- dd if=/dev/zero of=/dev/null bs=400M count=1
    assert_failure
    assert_output --partial "memory exhausted"
}

@test "sandbox: the number of processes is limited" {
    [ "$(id -u)" -eq 0 ] || skip "counted per uid: only meaningful with a uid of its own (root mode)"
    set_limit SB_NPROC 20
    run inside -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do sleep 3 & done; echo "all started"'
    assert_output --partial "fork"
    refute_output --partial "all started"
}

@test "sandbox: the size of a file is limited" {
    set_limit SB_FSIZE $((1 << 20))
    run inside -- sh -c 'head -c 5000000 /dev/zero >/sandbox/big; echo "status=$?"'
    refute_output "status=0"
    [ "$(stat -c %s "$D/scratch/big")" -le $((1 << 20)) ]
}

@test "sandbox: open files are limited" {
    set_limit SB_NOFILE 32
    run -0 inside -- sh -c 'ulimit -n'
    assert_output 32
}

@test "sandbox: a database given with --db lives outside the scratch copy, reachable by the check" {
    run -0 inside -- sh -c 'for a; do echo "arg $a"; done; echo x >"$2"' sh --db "$D/orders.db"
    assert_line "arg /run/wb/db/orders.db"
    [ -L "$D/orders.db" ]
    [ "$(cat "$D/orders.db")" = x ]
}

@test "sandbox: without bwrap grading refuses with one line, unless UNSAFE=1" {
    mkdir -p "$D/bin"
    for t in bash sh env dirname id cat sed grep head sort cut tr basename mkdir find; do ln -sf "$(command -v $t)" "$D/bin/$t"; done
    PATH=$D/bin run "$ROOT/scripts/sandbox.sh" check
    assert_failure
    assert_output --partial "bwrap (bubblewrap) is not installed"
    [ "${#lines[@]}" -eq 1 ]
}

# Output is capped by truncation (scripts/sandbox-output.pl): a verbose program keeps
# running, what is beyond SB_OUTPUT is dropped, and a last line (and SB_NOTES) says so.
@test "sandbox: output beyond SB_OUTPUT is dropped, the program keeps running, a last line says so (each mode)" {
    local m
    for m in "$mode" unsafe; do
        set_limit SB_MODE "$m"
        printf 'SB_OUTPUT=1000\nSB_NOTES=%s\n' "$D/notes" >>"$D/conf"
        rm -f "$D/notes" "$D/scratch/after"
        run -0 --separate-stderr inside -- sh -c 'head -c 300000 /dev/zero | tr "\0" o; head -c 5000 /dev/zero | tr "\0" e >&2; echo ran-on >after'
        [ -f "$D/scratch/after" ] || fail "$m: the program did not go on after printing"
        [ "$(head -n1 <<<"$output" | tr -d "\n" | wc -c)" -eq 1000 ] || fail "$m: stdout kept $(head -n1 <<<"$output" | wc -c) bytes, not 1000"
        assert_line "[sandbox: 299000 bytes of its stdout dropped: the grader keeps the first 1000 of each output; the program went on running]"
        [[ "$stderr" == *"[sandbox: 4000 bytes of its stderr dropped"* ]] || fail "$m: stderr: $stderr"
        run cat "$D/notes"
        assert_line --partial "output cut: its stdout went past the 1000 bytes the grader keeps"
        sed -i '/^SB_OUTPUT=/d; /^SB_NOTES=/d' "$D/conf"
    done
}

@test "sandbox: a program killed by a limit gets a reason that names the limit, never 'a real crash'" {
    set_limit SB_FSIZE $((1 << 20))
    run --separate-stderr inside -- sh -c 'exec head -c 5000000 /dev/zero >/sandbox/big'
    [ "$status" -eq 153 ] || fail "expected 153 (SIGXFSZ), got $status: $stderr"
    [[ "$stderr" == *"killed by SIGXFSZ: it wrote a file past the file-size limit (1048576 bytes)"* ]] || fail "stderr: $stderr"
    # What a check says of such a status (checks/test_helper/common.bash, status_meaning).
    run status_meaning 153
    assert_output --partial "file-size limit"
    refute_output --partial "a real crash"
    run status_meaning 152
    assert_output --partial "CPU-time limit"
    refute_output --partial "a real crash"
}
