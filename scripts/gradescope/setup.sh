#!/usr/bin/env bash
# Gradescope's setup.sh (built by `make gradescope`): run once, as root, when Gradescope
# builds the autograder's image (Ubuntu 22.04 by default). Installs what the workbook's
# grader needs:
#   - the build tools, a JDK 17 and Maven (Kafka 4.x runs on Java 17+; Maven fetches
#     Kafka's own jars from Maven Central, as `make broker-up` does natively);
#   - librdkafka 2.0 or newer: the distribution's when it is (Ubuntu 24.04: 2.3.0), else
#     librdkafka 2.0.2 (Debian 12's, the one the workbook is checked against) built from
#     the official release tarball, its sha256 pinned (Ubuntu 22.04 has 1.8.0, too old for
#     step 08's lag.c): from GitHub, else from Debian's archive, whose orig tarball of
#     2.0.2 is the same file (the same sha256);
#   - bats 1.7+ with bats-support and bats-assert: the distribution's when its bats is new
#     enough, else bats 1.11.0, bats-support 0.3.0 and bats-assert 2.1.0 from GitHub, else
#     the npm registry's packages of bats 1.11.0, bats-support 0.3.0 and bats-assert 2.2.0
#     (npm has no 2.1.0; 2.2.0 adds the stderr assertions), every tarball's sha256 pinned
#     (Ubuntu 22.04's bats is 1.2.1; the checks need bats_load_library);
#   - Kafka's jars, fetched now (the grading container may have no network).
# Each download is taken from the first of its sources that gives the pinned bytes; a
# source that cannot be reached or gives other bytes is said so and skipped, and when none
# gives them setup.sh stops. Offline (a simulation): SETUP_DOWNLOADS=DIR takes each tarball
# from DIR/<its file name> (still checked against its sha256); LIBRDKAFKA_SRC=DIR builds
# librdkafka from that source tree instead, unchecked (rdkafka-sys's vendored copy,
# `make librdkafka`). About 2 minutes on Ubuntu 22.04, librdkafka's build included (simulated:
# scripts/gradescope-sim.sh).
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive
say() { printf 'setup: %s\n' "$*"; }

LIBRDKAFKA_VERSION=2.0.2
# Each download's sources, in order: URL then the sha256 of the file there. npm packs its
# own tarballs (a package/ folder), so their sums differ from GitHub's; each was checked
# against the registry's sha512 "integrity" when it was pinned.
LIBRDKAFKA_SOURCES=(
    "https://github.com/confluentinc/librdkafka/archive/refs/tags/v$LIBRDKAFKA_VERSION.tar.gz"
    f321bcb1e015a34114c83cf1aa7b99ee260236aab096b85c003170c90a47ca9d
    "https://deb.debian.org/debian/pool/main/libr/librdkafka/librdkafka_$LIBRDKAFKA_VERSION.orig.tar.gz"
    f321bcb1e015a34114c83cf1aa7b99ee260236aab096b85c003170c90a47ca9d)
BATS_SOURCES=(
    https://github.com/bats-core/bats-core/archive/refs/tags/v1.11.0.tar.gz
    aeff09fdc8b0c88b3087c99de00cf549356d7a2f6a69e3fcec5e0e861d2f9063
    https://registry.npmjs.org/bats/-/bats-1.11.0.tgz
    a41b89d37539cf0829809c23c1eef170b262c16fbe875039bd9abd76ad4dd839)
BATS_SUPPORT_SOURCES=(
    https://github.com/bats-core/bats-support/archive/refs/tags/v0.3.0.tar.gz
    7815237aafeb42ddcc1b8c698fc5808026d33317d8701d5ec2396e9634e2918f
    https://registry.npmjs.org/bats-support/-/bats-support-0.3.0.tgz
    a0135a6533f368551b0db6d340b37ce9ee6613de2785c16713c60f9a8afedecf)
BATS_ASSERT_SOURCES=(
    https://github.com/bats-core/bats-assert/archive/refs/tags/v2.1.0.tar.gz
    98ca3b685f8b8993e48ec057565e6e2abcc541034ed5b0e81f191505682037fd
    https://registry.npmjs.org/bats-assert/-/bats-assert-2.2.0.tgz
    531482a4f05a26d6972ffe0e64fbb15614d3b8afd9b86507da20a25eb70a871d)
export KAFKA_JARS_CACHE=${KAFKA_JARS_CACHE:-/opt/kafka-commit-workbook/jars}

# A pinned tarball, checked, unpacked into DIR (its top folder stripped), from the first
# source that gives the pinned bytes.
fetch() { # DIR URL SHA256 [URL SHA256]...
    local dir=$1 f url sum got; shift
    f=$(mktemp)
    while [ $# -ge 2 ]; do
        url=$1 sum=$2; shift 2
        if [ -n "${SETUP_DOWNLOADS:-}" ] && [ -f "$SETUP_DOWNLOADS/${url##*/}" ]; then cp "$SETUP_DOWNLOADS/${url##*/}" "$f"
        elif ! curl -fsSL --connect-timeout 20 --max-time 600 --retry 2 -o "$f" "$url"; then
            say "$url: cannot download it; the next source" >&2; continue
        fi
        got=$(sha256sum <"$f" | cut -c1-64)
        if [ "$got" = "$sum" ]; then
            mkdir -p "$dir" && tar -xzf "$f" -C "$dir" --strip-components=1 || { say "$url: cannot unpack it" >&2; exit 1; }
            rm -f "$f"
            say "$url: sha256 as pinned, unpacked into $dir"
            return 0
        fi
        say "$url: sha256 mismatch (pinned $sum, got $got): not used" >&2
    done
    rm -f "$f"
    say "no source gave the pinned file for $dir: stopping" >&2
    exit 1
}
# `setup.sh --fetch DIR URL SHA256 ...`: that step alone (the tests).
if [ "${1:-}" = --fetch ]; then shift; fetch "$@"; exit 0; fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential pkg-config ca-certificates curl perl python3 \
    openjdk-17-jdk-headless maven \
    libssl-dev zlib1g-dev libsasl2-dev libsqlite3-dev sqlite3 \
    jq socat procps iproute2 netcat-openbsd util-linux parallel patch unzip zip >/dev/null

# librdkafka 2.0+.
candidate=$(apt-cache policy librdkafka-dev 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p')
if [ -n "$candidate" ] && dpkg --compare-versions "$candidate" ge 2.0; then
    say "librdkafka-dev $candidate from the distribution"
    apt-get install -y -qq --no-install-recommends librdkafka-dev >/dev/null
else
    say "the distribution's librdkafka is ${candidate:-missing}: building $LIBRDKAFKA_VERSION from source"
    b=$(mktemp -d) t=$SECONDS
    if [ -n "${LIBRDKAFKA_SRC:-}" ]; then say "from $LIBRDKAFKA_SRC instead"; cp -a "$LIBRDKAFKA_SRC/." "$b/"
    else fetch "$b" "${LIBRDKAFKA_SOURCES[@]}"; fi
    (cd "$b" && ./configure --prefix=/usr/local --disable-zstd --disable-gssapi --disable-curl --disable-lz4-ext >/dev/null &&
        make -j"$(nproc)" libs >/dev/null && make install-subdirs >/dev/null)
    ldconfig
    rm -rf "$b"
    say "librdkafka $LIBRDKAFKA_VERSION fetched, built and installed in $((SECONDS - t)) s"
fi
pkg-config --modversion rdkafka

# bats and its two libraries (where bats_load_library looks: /usr/lib/bats).
candidate=$(apt-cache policy bats 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p')
if [ -n "$candidate" ] && dpkg --compare-versions "$candidate" ge 1.7 &&
    apt-get install -y -qq --no-install-recommends bats bats-support bats-assert >/dev/null 2>&1; then
    say "bats $candidate from the distribution"
else
    fetch /opt/bats-core "${BATS_SOURCES[@]}"
    /opt/bats-core/install.sh /usr/local >/dev/null
    fetch /usr/lib/bats/bats-support "${BATS_SUPPORT_SOURCES[@]}"
    fetch /usr/lib/bats/bats-assert "${BATS_ASSERT_SOURCES[@]}"
fi
bats --version

# The workbook's tools build, and Kafka's jars are fetched, now.
cd "$SRC"
make -s tools
scripts/broker.sh jars
say "done in $SECONDS s"
