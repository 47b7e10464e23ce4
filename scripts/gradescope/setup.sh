#!/usr/bin/env bash
# Gradescope's setup.sh (built by `make gradescope`): run once, as root, when Gradescope
# builds the autograder's image (Ubuntu 22.04 by default). Installs what the workbook's
# grader needs:
#   - the build tools, a JDK 17 and Maven (Kafka 4.x runs on Java 17+; Maven fetches
#     Kafka's own jars from Maven Central, as `make broker-up` does natively);
#   - librdkafka 2.0 or newer: the distribution's when it is (Ubuntu 24.04: 2.3.0), else
#     librdkafka 2.0.2 (Debian 12's, the one the workbook is checked against) built from
#     the official release tarball on GitHub, its sha256 pinned (Ubuntu 22.04 has 1.8.0,
#     too old for step 08's lag.c);
#   - bats 1.7+ with bats-support and bats-assert: the distribution's when its bats is new
#     enough, else bats 1.11.0, bats-support 0.3.0 and bats-assert 2.1.0, their tarballs'
#     sha256 pinned (Ubuntu 22.04's bats is 1.2.1; the checks need bats_load_library);
#   - Kafka's jars, fetched now (the grading container may have no network).
# Offline (a simulation): SETUP_DOWNLOADS=DIR takes each tarball from DIR/<its file name>
# (still checked against its sha256); LIBRDKAFKA_SRC=DIR builds librdkafka from that source
# tree instead (rdkafka-sys's vendored copy, `make librdkafka`). About 3 to 5 minutes.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive
say() { printf 'setup: %s\n' "$*"; }

LIBRDKAFKA_VERSION=2.0.2
LIBRDKAFKA_SHA256=f321bcb1e015a34114c83cf1aa7b99ee260236aab096b85c003170c90a47ca9d
BATS_VERSION=1.11.0 BATS_SHA256=aeff09fdc8b0c88b3087c99de00cf549356d7a2f6a69e3fcec5e0e861d2f9063
BATS_SUPPORT_VERSION=0.3.0 BATS_SUPPORT_SHA256=7815237aafeb42ddcc1b8c698fc5808026d33317d8701d5ec2396e9634e2918f
BATS_ASSERT_VERSION=2.1.0 BATS_ASSERT_SHA256=98ca3b685f8b8993e48ec057565e6e2abcc541034ed5b0e81f191505682037fd
export KAFKA_JARS_CACHE=${KAFKA_JARS_CACHE:-/opt/kafka-commit-workbook/jars}

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential pkg-config ca-certificates curl perl python3 \
    openjdk-17-jdk-headless maven \
    libssl-dev zlib1g-dev libsasl2-dev libsqlite3-dev sqlite3 \
    jq socat procps iproute2 netcat-openbsd util-linux parallel patch unzip zip >/dev/null

# A pinned tarball, checked, unpacked into DIR (its top folder stripped).
fetch() { # URL SHA256 DIR
    local f
    f=$(mktemp)
    if [ -n "${SETUP_DOWNLOADS:-}" ] && [ -f "$SETUP_DOWNLOADS/${1##*/}" ]; then cp "$SETUP_DOWNLOADS/${1##*/}" "$f"
    else curl -fsSL --retry 3 -o "$f" "$1"; fi
    echo "$2  $f" | sha256sum -c --quiet - || { say "$1: sha256 mismatch" >&2; exit 1; }
    mkdir -p "$3" && tar -xzf "$f" -C "$3" --strip-components=1
    rm -f "$f"
}

# librdkafka 2.0+.
candidate=$(apt-cache policy librdkafka-dev 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p')
if [ -n "$candidate" ] && dpkg --compare-versions "$candidate" ge 2.0; then
    say "librdkafka-dev $candidate from the distribution"
    apt-get install -y -qq --no-install-recommends librdkafka-dev >/dev/null
else
    say "the distribution's librdkafka is ${candidate:-missing}: building $LIBRDKAFKA_VERSION from source"
    b=$(mktemp -d)
    if [ -n "${LIBRDKAFKA_SRC:-}" ]; then say "from $LIBRDKAFKA_SRC instead"; cp -a "$LIBRDKAFKA_SRC/." "$b/"
    else fetch "https://github.com/confluentinc/librdkafka/archive/refs/tags/v$LIBRDKAFKA_VERSION.tar.gz" "$LIBRDKAFKA_SHA256" "$b"; fi
    (cd "$b" && ./configure --prefix=/usr/local --disable-zstd --disable-gssapi --disable-curl --disable-lz4-ext >/dev/null &&
        make -j"$(nproc)" libs >/dev/null && make install-subdirs >/dev/null)
    ldconfig
    rm -rf "$b"
fi
pkg-config --modversion rdkafka

# bats and its two libraries (where bats_load_library looks: /usr/lib/bats).
candidate=$(apt-cache policy bats 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p')
if [ -n "$candidate" ] && dpkg --compare-versions "$candidate" ge 1.7 &&
    apt-get install -y -qq --no-install-recommends bats bats-support bats-assert >/dev/null 2>&1; then
    say "bats $candidate from the distribution"
else
    fetch "https://github.com/bats-core/bats-core/archive/refs/tags/v$BATS_VERSION.tar.gz" "$BATS_SHA256" /opt/bats-core
    /opt/bats-core/install.sh /usr/local >/dev/null
    fetch "https://github.com/bats-core/bats-support/archive/refs/tags/v$BATS_SUPPORT_VERSION.tar.gz" "$BATS_SUPPORT_SHA256" /usr/lib/bats/bats-support
    fetch "https://github.com/bats-core/bats-assert/archive/refs/tags/v$BATS_ASSERT_VERSION.tar.gz" "$BATS_ASSERT_SHA256" /usr/lib/bats/bats-assert
fi
bats --version

# The workbook's tools build, and Kafka's jars are fetched, now.
cd "$SRC"
make -s tools
scripts/broker.sh jars
say "done"
