#!/usr/bin/env bash
# `make memcheck`: every tool and every reference solution under valgrind, on a graceful
# exit, against the running broker (started if needed). Fails on any memory error or
# definite/indirect leak. ("still reachable" blocks belong to libsasl/OpenSSL set-up
# inside librdkafka and are not leaks.)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v valgrind >/dev/null || { echo "memcheck: valgrind is missing: run 'make deps'" >&2; exit 1; }
make -s build
rm -f build/memcheck/orders.db
# Any broker that answers will do (as for the checks); otherwise start the workbook's.
build/tools/ping -b "127.0.0.1:${KAFKA_PORT:-9092}" -t 2000 >/dev/null 2>&1 || scripts/broker.sh up >/dev/null
B=127.0.0.1:${KAFKA_PORT:-9092}
topic="memcheck-$(date +%s)-$$"
vg=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
failed=0
mkdir -p build/memcheck
check() { # description, command...   (stdout kept in build/memcheck/NAME.out)
    local what=$1; shift
    if "${vg[@]}" "$@" >"build/memcheck/${what//\//_}.out" 2>"build/memcheck.log"; then echo "ok      $what"
    else echo "FAILED  $what (exit $?)"; sed 's/^/        /' build/memcheck.log | tail -n 30; failed=1; fi
}
check "ping"      build/tools/ping -b "$B"
check "ping -g"   build/tools/ping -b "$B" -g
check "topic"     build/tools/topic -b "$B" -t "$topic" -p 3
check "populate"  build/tools/populate -b "$B" -t "$topic" -n 30
build/tools/topic -b "$B" -t "$topic-trickle" -p 3 >/dev/null
check "populate -e" build/tools/populate -b "$B" -t "$topic-trickle" -n 3 -e 10
# --exit-at-end ends each run at the end of the topic; --idle-exit only bounds the wait for
# the first assignment, which under valgrind on a busy machine took more than 2 s + a session.
# Step 09 writes invoices (--out) in transactions (--txn-id); the other steps ignore both.
build/tools/topic -b "$B" -t "$topic-invoices" -p 3 >/dev/null
for step in $(cd solutions && ls -d [0-9][0-9]_*/ | tr -d /); do
    check "solutions/$step" "build/solutions/$step" -b "$B" -t "$topic" -g "$topic-$step" \
        -p 10 --crash-at 0 --idle-exit 10 --exit-at-end --db build/memcheck/orders.db \
        --out "$topic-invoices" --txn-id "$topic-$step" \
        -X session.timeout.ms=2000 -X heartbeat.interval.ms=400
done
check "clock"     build/tools/clock -b "$B"
check "lag"       build/tools/lag -b "$B" -g "$topic-02_manual_commit" -t "$topic"
check "commits"   build/tools/commits -b "$B" -g "$topic-02_manual_commit" -t "$topic"
check "analyze"   build/tools/analyze --count 30 \
    build/memcheck/solutions_02_manual_commit.out build/memcheck/commits.out
check "timeline"  build/tools/timeline --svg build/memcheck/timeline.svg \
    build/memcheck/solutions_02_manual_commit.out build/memcheck/commits.out
check "commits --txn" build/tools/commits -b "$B" -g "$topic-09_transactions" -t "$topic" --txn
check "invoices"  build/tools/invoices -b "$B" -t "$topic-invoices" --isolation read_uncommitted \
    --duplicates --commit-as "$topic-invoice-reader"
check "forget"    build/tools/forget -b "$B" -t "$topic-trickle" -g "$topic-02_manual_commit"
[ $failed = 0 ] && echo "memcheck: clean" || { echo "memcheck: problems above"; exit 1; }
