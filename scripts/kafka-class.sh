#!/usr/bin/env bash
# Runs one of Apache Kafka's own Java tools from the native jar cache, e.g.
#   scripts/kafka-class.sh org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
#       --bootstrap-server 127.0.0.1:9092 --describe --group manual-commit-group
# It is what /opt/kafka/bin/kafka-*.sh run inside the Docker image. Kafka's tools log
# warnings to stderr only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: scripts/kafka-class.sh <java class> [args...]" >&2; exit 2; }
jars=$("$ROOT/scripts/broker.sh" jars)
java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$ROOT/scripts/log4j2-tools.properties" -cp "$jars/*" "$@"
