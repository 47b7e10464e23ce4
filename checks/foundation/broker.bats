#!/usr/bin/env bats
# The broker's life cycle: up twice, status, down, up keeps the data, reset.
# It runs a second native broker on its own ports and data folder, so the workbook's
# own broker (and any test using it) is never touched.

setup_file() {
    load ../test_helper/common
    make -s -C "$ROOT" build/tools/ping build/tools/topic >/dev/null
    export KAFKA_MODE=native
    # Below the ephemeral range (32768+), where a busy machine's client sockets could hold it.
    export KAFKA_PORT=$((22000 + RANDOM % 4000 * 2))
    export KAFKA_STATE_DIR="$BATS_FILE_TMPDIR/broker"
    export LIFE_BROKER="127.0.0.1:$KAFKA_PORT"
}

teardown_file() {
    "$ROOT/scripts/broker.sh" down >/dev/null 2>&1 || true
}

setup() {
    load ../test_helper/common
}

@test "broker: up starts a real Kafka that answers; a second up is a no-op success" {
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    assert_output --partial "up (native, Kafka"
    run -0 timeout 10 "$TOOLS/ping" -b "$LIFE_BROKER"
    pid=$(cat "$KAFKA_STATE_DIR/kafka.pid")
    run -0 timeout 30 "$ROOT/scripts/broker.sh" up
    assert_output --partial "already up"
    assert_equal "$(cat "$KAFKA_STATE_DIR/kafka.pid")" "$pid"
    # It is Apache Kafka's own broker class, started from its jars.
    run -0 tr '\0' ' ' <"/proc/$pid/cmdline"
    assert_output --partial "kafka.Kafka"
}

@test "broker: up on another port while this folder's broker runs is refused at once, and that broker keeps running" {
    # (It once waited 60 s for the other port, then killed the running broker.)
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    pid=$(cat "$KAFKA_STATE_DIR/kafka.pid")
    KAFKA_PORT=$((KAFKA_PORT + 2)) run -1 timeout 20 "$ROOT/scripts/broker.sh" up
    assert_output --partial "already runs (native, pid $pid) on port $KAFKA_PORT"
    kill -0 "$pid" || fail "the running broker was stopped"
    run -0 timeout 10 "$TOOLS/ping" -b "$LIFE_BROKER"
}

@test "broker: two ups at once start one broker: the second waits for the first" {
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    "$ROOT/scripts/broker.sh" up >"$BATS_TEST_TMPDIR/first.log" 2>&1 3>&- &
    first=$!
    run -0 timeout 180 "$ROOT/scripts/broker.sh" up
    wait "$first" || fail "the first up failed: $(cat "$BATS_TEST_TMPDIR/first.log")"
    # Exactly one JVM on this data folder, and it answers.
    assert_equal "$(pgrep -fc "kafka.Kafka $KAFKA_STATE_DIR/server.properties")" 1
    run -0 timeout 10 "$TOOLS/ping" -b "$LIFE_BROKER"
}

@test "broker: status gives mode, version, process, address and readiness" {
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    run -0 timeout 10 "$ROOT/scripts/broker.sh" status
    assert_line --regexp '^mode: +native$'
    assert_line --regexp '^version: +Apache Kafka [0-9]+\.[0-9]+\.[0-9]+$'
    assert_line --regexp "^address: +$LIFE_BROKER\$"
    assert_line --regexp '^process: +pid [0-9]+$'
    assert_line --regexp '^state: +ready$'
}

@test "broker: down stops it, nothing is left running, and up again keeps the data" {
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    run -0 timeout 30 "$TOOLS/topic" -b "$LIFE_BROKER" -t kept -p 2
    pid=$(cat "$KAFKA_STATE_DIR/kafka.pid")
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    run ! kill -0 "$pid"
    run -3 timeout 10 "$ROOT/scripts/broker.sh" status
    assert_line --regexp '^state: +stopped'
    run -1 timeout 10 "$TOOLS/ping" -b "$LIFE_BROKER" -t 500
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    run -0 timeout 30 "$TOOLS/topic" -b "$LIFE_BROKER" -t kept -p 2
    assert_output --partial "exists with 2 partitions"
}

@test "broker: reset wipes the data" {
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    run -0 timeout 30 "$TOOLS/topic" -b "$LIFE_BROKER" -t wiped -p 1
    run -0 timeout 60 "$ROOT/scripts/broker.sh" reset
    assert_output --partial "data wiped"
    run -0 timeout 120 "$ROOT/scripts/broker.sh" up
    run -0 timeout 30 "$TOOLS/topic" -b "$LIFE_BROKER" -t wiped -p 1
    assert_output --partial "created topic wiped"
}

@test "broker: a new cluster id never starts with '-', which kafka-storage would read as an option" {
    . "$ROOT/scripts/lib.sh"
    # The first three draws start with '-' (bytes 0xf8: base64 62, '+', made URL-safe '-').
    draws=$BATS_TEST_TMPDIR/draws
    echo 0 >"$draws"
    head() {
        local n; n=$(cat "$draws"); echo $((n + 1)) >"$draws"
        if [ "$n" -lt 3 ]; then printf '\xf8%.0s' {1..16}; else command head "$@"; fi
    }
    id=$(kraft_cluster_id)
    unset -f head
    [ "$(cat "$draws")" -eq 4 ] || fail "Expected kraft_cluster_id to draw again while the id starts with '-' (4 draws); it drew $(cat "$draws") time(s) and gave '$id'."
    [[ $id =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]] || fail "Expected a 22-character URL-safe id not starting with '-'; got '$id'."
    # 1,000 real ids: with the old code about 16 of them started with '-'.
    bad=$(for _ in $(seq 1000); do kraft_cluster_id; done | grep -cvE '^[A-Za-z0-9_][A-Za-z0-9_-]{21}$' || true)
    [ "$bad" -eq 0 ] || fail "Expected 1,000 ids, each 22 URL-safe characters not starting with '-'; $bad were not."
}

@test "broker: a port held by something else is refused with a clear message" {
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    # Something that is not our broker listens on the port.
    busy=$((KAFKA_PORT + 100))
    timeout 30 nc -l 127.0.0.1 "$busy" >/dev/null 3>&- &
    holder=$!
    deadline=$((SECONDS + 10))
    until ss -Hltn "sport = :$busy" | grep -q .; do
        [ $SECONDS -lt $deadline ] || fail "nc never listened on $busy"
        sleep 0.05
    done
    KAFKA_PORT=$busy KAFKA_STATE_DIR="$BATS_TEST_TMPDIR/other" run -1 timeout 30 "$ROOT/scripts/broker.sh" up
    kill "$holder" 2>/dev/null || true
    assert_output --partial "port $busy is already taken"
    assert_output --partial "KAFKA_PORT="
    run ! pgrep -f "$BATS_TEST_TMPDIR/other/server.properties"
}

@test "broker: Docker mode forced with no engine says so" {
    if docker info >/dev/null 2>&1; then skip "a Docker engine answers here"; fi
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    KAFKA_MODE=docker run -1 timeout 30 "$ROOT/scripts/broker.sh" up
    assert_output --partial "no Docker engine answers"
}

@test "broker: an unknown command prints the usage and exits 2" {
    run -2 "$ROOT/scripts/broker.sh" sideways
    assert_output --partial "usage: scripts/broker.sh"
}

@test "broker: docker-compose.yml pins the same Kafka that native mode runs" {
    run -0 grep -E '^ *image: apache/kafka:[0-9]+\.[0-9]+\.[0-9]+$' "$ROOT/docker-compose.yml"
    run -0 grep -E '^ *container_name: broker$' "$ROOT/docker-compose.yml"
    run -0 grep -F '127.0.0.1:${KAFKA_PORT:-9092}:19092' "$ROOT/docker-compose.yml"
    version=$(sed -n 's/^ *image: apache\/kafka:\(.*\)$/\1/p' "$ROOT/docker-compose.yml")
    run -0 timeout 120 "$ROOT/scripts/broker.sh" jars
    [ -f "$output/kafka_2.13-$version.jar" ] || fail "native jars of Kafka $version missing in $output"
}

# A folder of stand-in commands put first on PATH, to play a machine that lacks something.
fake_command() { # NAME BODY
    mkdir -p "$BATS_TEST_TMPDIR/fakebin"
    printf '#!/usr/bin/env bash\n%s\n' "$2" >"$BATS_TEST_TMPDIR/fakebin/$1"
    chmod +x "$BATS_TEST_TMPDIR/fakebin/$1"
}

@test "broker: a JDK older than 17 is refused with what to do" {
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    fake_command java 'echo "openjdk version \"11.0.2\" 2019-01-15" >&2'
    PATH="$BATS_TEST_TMPDIR/fakebin:$PATH" KAFKA_STATE_DIR="$BATS_TEST_TMPDIR/s" run -1 timeout 30 "$ROOT/scripts/broker.sh" up
    assert_output --partial "Java 11 found"
    assert_output --partial "make deps"
}

@test "broker: Maven that cannot resolve the jars is reported, and nothing is left half-done" {
    run -0 timeout 60 "$ROOT/scripts/broker.sh" down
    fake_command mvn 'echo "[ERROR] Could not transfer artifact org.apache.kafka:kafka_2.13" >&2; exit 1'
    PATH="$BATS_TEST_TMPDIR/fakebin:$PATH" KAFKA_JARS_CACHE="$BATS_TEST_TMPDIR/jars" \
        KAFKA_STATE_DIR="$BATS_TEST_TMPDIR/s" run -1 timeout 30 "$ROOT/scripts/broker.sh" up
    assert_output --partial "Maven could not resolve org.apache.kafka:kafka_2.13"
    assert_output --partial "maven.log"
    [ ! -e "$BATS_TEST_TMPDIR/jars/kafka-"*/libs/.complete ] || fail "a failed download was marked complete"
    run ! pgrep -f "$BATS_TEST_TMPDIR/s/server.properties"
}
