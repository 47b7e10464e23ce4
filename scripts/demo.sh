#!/usr/bin/env bash
# `make demo`: from a fresh machine to a commit you can see, in one command.
#   1. install what is missing          (scripts/install-deps.sh)
#   2. build the tools and programs     (make build)
#   3. start Kafka                      (make broker-up)
#   4. the exercise's setup             (make topic; make populate)
#   5. a short consumer run             (the reference solution of step 02, 12 orders)
#   6. what the broker recorded         (make lag; make commits)
# The broker keeps running afterwards for the steps: stop it with 'make broker-down'.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BROKER=${BROKER:-127.0.0.1:${KAFKA_PORT:-9092}}
group="demo-$(date +%Y%m%d-%H%M%S)"

banner() { printf '\n== %s\n' "$*"; }

banner "1/6 dependencies";            scripts/install-deps.sh
banner "2/6 build";                   make -s build
banner "3/6 Kafka";                   scripts/broker.sh up
banner "4/6 topic 'orders' and 100 orders"
build/tools/topic -b "$BROKER" -t orders -p 3
build/tools/populate -b "$BROKER" -t orders -n 100
banner "5/6 a consumer commits 12 orders, one by one (solutions/02_manual_commit, group $group)"
build/solutions/02_manual_commit -b "$BROKER" -t orders -g "$group" -p 100 --max 12 --crash-at 0
banner "6/6 what the broker recorded"
echo "\$ make lag GROUP=$group"
build/tools/lag -b "$BROKER" -g "$group" -t orders
echo
echo "\$ make commits GROUP=$group"
build/tools/commits -b "$BROKER" -g "$group" --header
cat <<MSG

Each 'processed' line was followed by a commit of offset+1 (the next offset to read);
'make commits' shows the same commits as the broker stored them in __consumer_offsets,
and 'make lag' what is left for the group. Kafka is still running: start with
steps/01_auto_commit/README.md, and stop Kafka with 'make broker-down'.
MSG
