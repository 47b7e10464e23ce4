#!/usr/bin/env bash
# The workbook's Kafka broker: one real Apache Kafka node, in one of two modes.
#
#   docker  the official apache/kafka image, through docker-compose.yml
#   native  the same Kafka version's own jars from Maven Central, on the local JDK
#
# Usage: scripts/broker.sh up|down|status|logs|reset|ping
#
# Environment:
#   KAFKA_MODE=docker|native   force a mode (default: docker when an engine answers)
#   KAFKA_PORT=9092            client port, on 127.0.0.1 only (controller: KAFKA_PORT+1)
#   KAFKA_STATE_DIR=DIR        native mode's data, log and pid (default: .broker/native)
#   KAFKA_JARS_CACHE=DIR       where the jars are cached (default: ~/.cache/kafka-commit-workbook)
#   KAFKA_HEAP_OPTS            the JVM heap (default: -Xms256m -Xmx512m)
#   KAFKA_READY_TIMEOUT=60     seconds to wait for the broker to answer
#   FOLLOW=1                   `logs` keeps following
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/lib.sh"
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=$((PORT + 1))
ADDRESS=127.0.0.1:$PORT
STATE=${KAFKA_STATE_DIR:-$ROOT/.broker/native}
CACHE=${KAFKA_JARS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-commit-workbook}
HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-60}
# The single place the Kafka version is pinned: the image tag in docker-compose.yml.
VERSION=$(sed -n 's/^ *image: *apache\/kafka:\([0-9.]*\).*/\1/p' "$ROOT/docker-compose.yml")
JARS=$CACHE/kafka-$VERSION/libs
PING=$ROOT/build/tools/ping

say() { printf 'broker: %s\n' "$*"; }
die() { printf 'broker: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------- helpers

docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

compose() {
    if docker compose version >/dev/null 2>&1; then docker compose -f "$ROOT/docker-compose.yml" "$@"
    elif command -v docker-compose >/dev/null 2>&1; then docker-compose -f "$ROOT/docker-compose.yml" "$@"
    else die "Docker has no compose plugin: install docker-compose-plugin (or docker-compose)"; fi
}

native_pid() {
    local pid
    [ -f "$STATE/kafka.pid" ] || return 1
    pid=$(cat "$STATE/kafka.pid")
    kill -0 "$pid" 2>/dev/null || return 1
    # The pid file may be stale and the number reused: it must be our JVM.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $STATE/server.properties" || return 1
    echo "$pid"
}

docker_running() {
    docker_engine && [ "$(docker inspect -f '{{.State.Running}}' broker 2>/dev/null)" = true ]
}

# Which mode is running now, if any; else which one `up` would pick.
current_mode() {
    if native_pid >/dev/null; then echo native
    elif docker_running; then echo docker
    else echo none; fi
}

chosen_mode() {
    case "${KAFKA_MODE:-auto}" in
        native) echo native ;;
        docker)
            docker_engine || die "KAFKA_MODE=docker, but no Docker engine answers ('docker info' failed): start Docker, or use KAFKA_MODE=native"
            echo docker ;;
        auto) if docker_engine; then echo docker; else echo native; fi ;;
        *) die "KAFKA_MODE must be docker or native, not '$KAFKA_MODE'" ;;
    esac
}

ensure_ping() {
    [ -x "$PING" ] || make -s -C "$ROOT" build/tools/ping >/dev/null \
        || die "could not build build/tools/ping: run 'make deps' to install librdkafka and a C compiler"
}

ready() { ensure_ping; "$PING" -b "$ADDRESS" -t 1500 >/dev/null 2>&1; }
# Up for the checks: it answers, and as a group coordinator too. A broker started on old
# data first loads every group's commits; until then no consumer can join a group.
ready_for_groups() { ensure_ping; "$PING" -b "$ADDRESS" -t 1500 -g >/dev/null 2>&1; }

# Who holds a TCP port on this machine, as "pid/command", or nothing.
port_owner() {
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\2\/\1/p' | head -n1
}

port_taken() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_ready() { # $1: pid to watch (native) or empty
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ! ready_for_groups; do
        if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then
            printf 'broker: Kafka exited during start-up; the end of its log (%s):\n' "$STATE/broker.log" >&2
            tail -n 15 "$STATE/broker.log" "$STATE/stdout.log" 2>/dev/null >&2 || true
            exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            [ -n "${1:-}" ] && { kill "$1" 2>/dev/null || true; }
            die "Kafka did not answer at $ADDRESS within ${READY_TIMEOUT}s; see 'make broker-logs'"
        fi
        sleep 0.2
    done
}

# --------------------------------------------------------------------- native

need_java() {
    command -v java >/dev/null 2>&1 || die "no Java found: Kafka $VERSION needs a JDK 17 or newer; run 'make deps'"
    local major
    major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [ "${major:-0}" -ge 17 ] || die "Java $major found, Kafka $VERSION needs 17 or newer; run 'make deps' or set JAVA_HOME"
}

fetch_jars() {
    [ -f "$JARS/.complete" ] && return 0
    command -v mvn >/dev/null 2>&1 || die "no Maven found: it fetches Kafka's jars from Maven Central; run 'make deps'"
    say "fetching Apache Kafka $VERSION's jars from Maven Central into $JARS (once)..." >&2
    mkdir -p "$JARS" "$STATE"
    if ! mvn -B -q -f "$ROOT/scripts/kafka-jars.pom.xml" -Dkafka.version="$VERSION" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS" \
            >"$STATE/maven.log" 2>&1; then
        rm -rf "$JARS"
        die "Maven could not resolve org.apache.kafka:kafka_2.13:$VERSION (log: $STATE/maven.log): check the network or Maven's proxy settings (~/.m2/settings.xml)"
    fi
    [ -n "$(ls "$JARS"/kafka_2.13-"$VERSION".jar 2>/dev/null)" ] || die "Maven finished but kafka_2.13-$VERSION.jar is missing in $JARS"
    touch "$JARS/.complete"
}

write_properties() {
    mkdir -p "$STATE/data"
    {
        echo "# Written by scripts/broker.sh from scripts/broker.env; edits are overwritten."
        grep -E '^KAFKA_[A-Z0-9_]+=' "$ROOT/scripts/broker.env" | while IFS='=' read -r key value; do
            key=${key#KAFKA_}
            printf '%s=%s\n' "$(printf '%s' "$key" | tr 'A-Z_' 'a-z.')" "$value"
        done
        echo "listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
        echo "advertised.listeners=PLAINTEXT://127.0.0.1:$PORT"
        echo "controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT"
        echo "log.dirs=$STATE/data"
    } >"$STATE/server.properties"
    cat >"$STATE/log4j2.properties" <<EOF
# Kafka's log goes to a file; 'make broker-logs' shows it.
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $STATE/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
EOF
}

java_cmd() { # sets JAVA_CMD: the JVM line every native Kafka process uses
    # shellcheck disable=SC2206 # HEAP holds several JVM flags
    JAVA_CMD=(java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$STATE/log4j2.properties"
        -cp "$JARS/*")
}

native_up() {
    local pid
    if pid=$(native_pid); then
        if ready; then say "already up (native, pid $pid, $ADDRESS)"; return 0; fi
        # One data folder, one broker: the one running may listen on another port.
        local running
        running=$(sed -n 's|^listeners=PLAINTEXT://[^:]*:\([0-9]*\),.*|\1|p' "$STATE/server.properties" 2>/dev/null)
        [ -z "$running" ] || [ "$running" = "$PORT" ] ||
            die "this workbook's broker already runs (native, pid $pid) on port $running, with the data in ${STATE#"$ROOT"/}: use KAFKA_PORT=$running, or stop it first (KAFKA_PORT=$running make broker-down); a second broker needs a data folder of its own (KAFKA_STATE_DIR=DIR)"
        say "native broker (pid $pid) is starting; waiting for it to answer..."
        wait_ready "$pid"; say "up (native, Kafka $VERSION, pid $pid, $ADDRESS)"; return 0
    fi
    for p in "$PORT" "$CONTROLLER_PORT"; do
        if port_taken "$p"; then
            die "port $p is already taken by $(port_owner "$p" || true) which is not this workbook's broker: stop it, or choose other ports with KAFKA_PORT=19092 make broker-up"
        fi
    done
    need_java
    fetch_jars
    write_properties
    java_cmd
    if [ ! -f "$STATE/data/meta.properties" ]; then
        # KRaft keeps the cluster's identity in the data folder: format it once.
        local cluster_id
        cluster_id=$(kraft_cluster_id)
        "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/server.properties" \
            >"$STATE/format.log" 2>&1 || { cat "$STATE/format.log" >&2; die "formatting the KRaft storage failed"; }
    fi
    : >"$STATE/stdout.log"
    # setsid + nohup: the broker outlives this shell and the terminal; fd 3 closed so a
    # bats test that starts it does not wait on it.
    setsid nohup "${JAVA_CMD[@]}" kafka.Kafka "$STATE/server.properties" \
        >"$STATE/stdout.log" 2>&1 </dev/null 3>&- 9>&- &
    pid=$!
    echo "$pid" >"$STATE/kafka.pid"
    wait_ready "$pid"
    say "up (native, Kafka $VERSION, pid $pid, $ADDRESS, data in ${STATE#"$ROOT"/})"
}

native_down() {
    local pid
    pid=$(native_pid) || { rm -f "$STATE/kafka.pid"; say "not running (native)"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    # A controlled shutdown takes a few seconds; do not leave a half-dead JVM behind.
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
    rm -f "$STATE/kafka.pid"
    say "down (native, pid $pid stopped; data kept in ${STATE#"$ROOT"/})"
}

# --------------------------------------------------------------------- docker

docker_up() {
    if docker_running && ready; then say "already up (docker, container broker, $ADDRESS)"; return 0; fi
    if ! docker_running && port_taken "$PORT"; then
        die "port $PORT is already taken by $(port_owner "$PORT" || true) which is not this workbook's broker: stop it, or use KAFKA_PORT=19092 make broker-up"
    fi
    compose up -d >&2 9>&-
    wait_ready ""
    say "up (docker, apache/kafka:$VERSION, container broker, $ADDRESS)"
}

# --------------------------------------------------------------------- commands

# One up, down or reset at a time per data folder: two at once would start two JVMs on
# one folder, or stop a broker another command is still starting. (flock, util-linux;
# the lock is let go when this script ends. The broker itself never holds it: 9>&-.)
lock() {
    command -v flock >/dev/null 2>&1 || return 0
    mkdir -p "$(dirname "$STATE")"
    exec 9>>"$STATE.lock"
    flock -n 9 && return 0
    say "another broker command is running for $STATE; waiting for it to finish..." >&2
    flock -w 300 9 || die "another broker command has held $STATE.lock for 5 minutes; is one stuck? (fuser $STATE.lock)"
}

down() {
    case "$(current_mode)" in
        native) native_down ;;
        docker) compose down >&2; say "down (docker; data kept in the broker-data volume)" ;;
        none) say "not running" ;;
    esac
}

cmd=${1:-}
case "$cmd" in
    up)
        lock
        case "$(current_mode)" in
            native) native_up ;;
            docker) docker_up ;;
            none) mode=$(chosen_mode)   # exits here when the forced mode cannot run
                  if [ "$mode" = docker ]; then docker_up; else native_up; fi ;;
        esac ;;
    down)
        lock
        down ;;
    reset)
        lock
        down
        rm -rf "$STATE/data"
        if docker_engine; then compose down -v >/dev/null 2>&1 || true; fi
        say "data wiped: the next 'make broker-up' starts an empty Kafka" ;;
    status)
        mode=$(current_mode)
        printf '%-9s %s\n' mode: "$mode" version: "Apache Kafka $VERSION" address: "$ADDRESS"
        case "$mode" in
            native) printf '%-9s %s\n' process: "pid $(native_pid)" data: "$STATE/data" log: "$STATE/broker.log" ;;
            docker) printf '%-9s %s\n' process: "container broker ($(docker inspect -f '{{.Config.Image}}' broker))" ;;
        esac
        if [ "$mode" != none ] && ready; then printf '%-9s %s\n' state: ready
        elif [ "$mode" != none ]; then printf '%-9s %s\n' state: "starting (not answering yet)"; exit 1
        else printf '%-9s %s\n' state: "stopped (start it with: make broker-up)"; exit 3; fi ;;
    logs)
        case "$(current_mode)" in
            docker) if [ "${FOLLOW:-0}" = 1 ]; then compose logs -f broker; else compose logs --tail 100 broker; fi ;;
            *) [ -f "$STATE/broker.log" ] || die "no broker log yet ($STATE/broker.log): start the broker with 'make broker-up'"
               if [ "${FOLLOW:-0}" = 1 ]; then tail -n 100 -F "$STATE/broker.log"; else tail -n 100 "$STATE/broker.log"; fi ;;
        esac ;;
    ping) ready || die "no Kafka broker answers at $ADDRESS (start one with: make broker-up)" ;;
    jars) need_java; fetch_jars; echo "$JARS" ;;
    *) echo "usage: scripts/broker.sh up|down|status|logs|reset|ping|jars" >&2; exit 2 ;;
esac
