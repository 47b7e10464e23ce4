#!/usr/bin/env bash
# Installs what the workbook needs and is missing, on Debian or Ubuntu (apt-get).
# Idempotent: a second run installs nothing. macOS: see README.md (Homebrew).
#
#   librdkafka-dev pkg-config gcc make   build the steps and tools
#   bats bats-support bats-assert        run the checks
#   kcat                                 poke at topics by hand (README, troubleshooting)
#   default-jdk-headless maven           native broker mode: Kafka's own jars on the JDK
#   iproute2 procps coreutils nc         ss, pgrep, timeout, nc: process handling and tests
#   jq perl                              the tests read Kafka's own offsets formatter (JSON)
#   valgrind                             'make memcheck'
#   libsqlite3-dev sqlite3               step 07 writes orders to SQLite; its check reads them
#   parallel                             the checks run a step's tests side by side (bats --jobs)
#   bubblewrap                           'make grade' runs student code in a sandbox (bwrap)
#   socat                                'make grade' relays the broker into the sandbox's network
#   unzip zip                            'make grade' takes .zip submissions; its tests make them
#   patch                                the self-check builds known-wrong solutions from patches
#   python3 python3-yaml                 tests: a silent listener; docker-compose.yml read as YAML
#   libxml2-utils                        tests: xmllint reads the timeline's SVG
#   inotify-tools                        'make watch' waits for a save (it polls without it)
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in librdkafka-dev pkg-config gcc make bats bats-support bats-assert kcat \
           maven iproute2 procps coreutils netcat-openbsd valgrind jq perl \
           libsqlite3-dev sqlite3 parallel \
           bubblewrap \
           socat \
           unzip zip patch python3 python3-yaml libxml2-utils inotify-tools; do
    have_pkg "$pkg" || need+=("$pkg")
done
# Any JDK 17+ will do (Kafka 4.x needs 17); take Debian's default only when none is there.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1 || true)
[ "${java_major:-0}" -ge 17 ] || need+=(default-jdk-headless)

if [ ${#need[@]} -eq 0 ]; then
    echo "deps: everything is installed"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
    echo "deps: missing ${need[*]}, and this is not a Debian/Ubuntu system: see README.md (Homebrew on macOS)" >&2
    exit 1
}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "deps: done"
