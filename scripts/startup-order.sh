#!/usr/bin/env bash
# Regenerate host/startup-order/PROFILE.txt: the functions a warm `isaac
# run` executes, which host/build.rs has the linker lay out first in the
# `isaac` binary of that profile (docs/performance.md, "The start-up code
# in one place").
#
#   scripts/startup-order.sh [PROFILE] [RUNS]
#
# PROFILE: `release` (default; the tests' and startup-bench's binaries) or
# `dist` (what users install). Rust's symbol names carry a hash of the profile, so each has
# its own list; `dist` is built here with `-C strip=none` in RUSTFLAGS,
# which keeps the symbols without changing their names (a separate build
# of every crate: ~10 minutes on two cores).
#
# Samples RUNS (default 600) runs of `isaac run hello:hello` with
# `perf record` at 100 kHz and adds every function of the binary that was
# seen to the list, in the binary's own order (neighbours stay neighbours).
# A run is short, so each pass sees most but not all of them: the list
# keeps what earlier passes saw (delete the file to start afresh), and
# names the binary no longer has are dropped. Needs perf (apt install
# linux-perf) and the example plugins (example-plugins/build.sh). Run it
# again when the start-up path changes much: a function missing from the
# list still works, it is only laid out with the rest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${1:-release}"
runs="${2:-600}"
usage() { echo "usage: scripts/startup-order.sh [release|dist] [RUNS]" >&2; exit 2; }
[[ "$profile" =~ ^(release|dist)$ && "$runs" =~ ^[1-9][0-9]*$ ]] || usage
list="host/startup-order/$profile.txt"
targets="${CARGO_TARGET_DIR:-target}"
# The builds whose `isaac` gets the list. `release` has two: `cargo build`'s
# (startup-bench's) and the one `cargo test --workspace` runs, with
# isaac-host's `testing` feature on, which changes the names.
case "$profile" in
release) builds=("cargo build --locked --release -p isaac-host --bin isaac"
                 "cargo test --locked --release --workspace --no-run") ;;
*) builds=("env RUSTFLAGS='${RUSTFLAGS:-} -C strip=none' cargo build --locked --profile $profile -p isaac-host --bin isaac") ;;
esac
[ -f example-plugins/dist/hello/hello.wasm ] || example-plugins/build.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset ISAAC_HOME ISAAC_CONFIG
[ -f "$list" ] && cp "$list" "$work/earlier" || : >"$work/earlier"
: >"$work/ordered"
for build in "${builds[@]}"; do
    eval "$build"
    cp "$targets/$profile/isaac" "$work/isaac"
    rm -rf "$work/home"
    "$work/isaac" --home "$work/home" plugins add example-plugins/dist/hello >/dev/null
    "$work/isaac" --home "$work/home" run hello:hello warm >/dev/null
    perf record -q -F 100000 -o "$work/perf.data" -- \
        sh -c "for i in \$(seq $runs); do '$work/isaac' --home '$work/home' run hello:hello order >/dev/null; done"
    perf report -i "$work/perf.data" --no-demangle --dso isaac --sort sym -F sym --stdio </dev/null 2>/dev/null |
        sed -n 's/^ *\[\.\] //p' >"$work/seen"
    [ -s "$work/seen" ] || { echo "perf saw no function of isaac (is perf allowed here?)" >&2; exit 1; }
    cat "$work/earlier" >>"$work/seen"
    nm --defined-only -n "$work/isaac" | awk 'NR == FNR { seen[$1]; next } ($3 in seen) { print $3 }' "$work/seen" - \
        >>"$work/ordered"
done
awk '!done[$0]++' "$work/ordered" >"$list"
echo "$list: $(wc -l <"$list") functions"
