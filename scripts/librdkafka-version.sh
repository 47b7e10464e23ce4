#!/usr/bin/env bash
# `make librdkafka V=2.12.1`: the workbook against another librdkafka than the
# system's. It builds that version from the source vendored in the Rust crate rdkafka-sys
# (fetched with cargo from crates.io), then, in a copy of this tree built against it:
#   - every check on the reference solutions (they must pass);
#   - every check on the starters (each must fail);
#   - the self-check (the starters, every known-wrong solution, every alternative).
# The broker must be up (make broker-up); the copy uses the same KAFKA_PORT.
#
#   scripts/librdkafka-version.sh VERSION [--build-only]
#
# Kept in build/librdkafka/VERSION/: prefix/ (the library), tree/ (the copy), *.log. Prints
# one line per part, then the librdkafka that the programs really loaded.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'librdkafka-version: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

version=${1:-}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    { echo "usage: scripts/librdkafka-version.sh VERSION [--build-only]   (e.g. 2.3.0, 2.12.1)" >&2; exit 2; }
build_only=${2:-}
command -v cargo >/dev/null || die "cargo is needed to fetch rdkafka-sys (rustup.rs, or Debian's cargo)"
dir=$ROOT/build/librdkafka/$version
prefix=$dir/prefix
mkdir -p "$dir"

# The newest rdkafka-sys that vendors this librdkafka: its version ends in +VERSION.
if [ ! -f "$prefix/lib/pkgconfig/rdkafka.pc" ]; then
    crate=$(curl -fsS --max-time 60 https://index.crates.io/rd/ka/rdkafka-sys |
        sed -n 's/.*"vers": *"\([^"]*+'"${version//./\\.}"'\)".*/\1/p' | tail -n1) ||
        die "cannot read crates.io's index for rdkafka-sys"
    [ -n "$crate" ] || die "no rdkafka-sys release vendors librdkafka $version (see https://crates.io/crates/rdkafka-sys/versions)"
    say "fetching rdkafka-sys $crate with cargo"
    mkdir -p "$dir/fetch"
    printf '[package]\nname = "fetch-librdkafka"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "lib.rs"\n[dependencies]\nrdkafka-sys = "=%s"\n' \
        "${crate%%+*}" >"$dir/fetch/Cargo.toml"
    : >"$dir/fetch/lib.rs"
    (cd "$dir/fetch" && cargo fetch -q) || die "cargo fetch failed"
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"rdkafka-sys-$crate"/librdkafka | head -n1)
    [ -d "$src" ] || die "rdkafka-sys $crate has no librdkafka folder"
    say "building librdkafka $version (about a minute)"
    rm -rf "$dir/src"
    cp -r "$src" "$dir/src"
    t=$SECONDS
    (cd "$dir/src" && ./configure --prefix="$prefix" --disable-zstd --disable-gssapi --disable-curl \
        --disable-lz4-ext && make -j"$(nproc)" libs && make install-subdirs) >"$dir/build.log" 2>&1 ||
        { tail -n 20 "$dir/build.log" >&2; die "the build failed (log: $dir/build.log)"; }
    say "built in $((SECONDS - t)) s"
fi

# A copy of the tree, so that the workbook's own build/ stays as it is.
rm -rf "$dir/tree"
mkdir -p "$dir/tree"
(cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$dir/tree")
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export LDLIBS="-Wl,-rpath,$prefix/lib"   # the Makefile appends -lrdkafka
cd "$dir/tree"
make -s build tools >"$dir/make.log" 2>&1 || { tail -n 20 "$dir/make.log" >&2; die "the workbook does not build against $version (log: $dir/make.log)"; }
loaded=$(ldd build/solutions/02_manual_commit | awk '/librdkafka/ {print $3}')
[ "$loaded" = "$prefix/lib/librdkafka.so.1" ] || die "the programs load $loaded, not $prefix/lib/librdkafka.so.1"
say "the workbook builds against $version (-Werror), and loads $loaded"
[ "$build_only" = --build-only ] && exit 0

status=0
part() { # NAME EXPECT(pass|fail) COMMAND...
    local name=$1 want=$2 got t=$SECONDS; shift 2
    if "$@" >"$dir/$name.log" 2>&1; then got=pass; else got=fail; fi
    printf '%-16s %s (wanted: %s) in %d s; log %s\n' "$name" "$got" "$want" "$((SECONDS - t))" "$dir/$name.log"
    [ "$got" = "$want" ] || status=1
}
part solutions pass scripts/check.sh solutions
# The starters: every step's check must fail, one by one.
for s in $(cd steps && ls -d [0-9][0-9]_*/ | tr -d /); do
    part "starter-${s%%_*}" fail scripts/check.sh steps "${s%%_*}"
done
part selfcheck pass bats $(command -v parallel >/dev/null && echo --jobs 4) checks/foundation/selfcheck.bats
printf 'librdkafka %s: %s\n' "$version" "$([ $status = 0 ] && echo "as on the system's: every solution passes, every starter and mutant fails" || echo DIFFERS)"
exit $status
