#!/usr/bin/env bash
# A third-party WASI command through isaac against `wasmtime run` of the
# same component with the same flags, whole process, in one hyperfine run
# per workload: ripgrep 15.2.0 (example-plugins/commands/ripgrep, crates.io,
# unmodified), each side on Cranelift's code, compiled ahead (isaac's
# compiled-code cache; `wasmtime compile` and `--allow-precompiled`):
#   - `rg -c fn SRC`: 22 MB of Rust sources in ~1200 files (directory walks,
#     opens and reads through the preopen);
#   - `rg -c QQQ BIG`: one 96 MB text file (reading);
#   - `rg --version`: start-up.
# wasmtime runs twice: with its defaults, and with isaac's limits (a 10 s
# deadline, which compiles in epoch checks, and 64 MiB of memory).
#
#   WASMTIME=/path/to/wasmtime scripts/commands-bench.sh [RUNS]   # default 10
#
# Needs hyperfine (apt install hyperfine), the example plugins
# (example-plugins/build.sh) and the wasmtime CLI of isaac's wasmtime
# version, installed once outside CI:
#   cargo install wasmtime-cli --version 48.0.8 --locked --root /var/tmp/wasmtime-cli
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-10}"
target="${CARGO_TARGET_DIR:-target}"
wasmtime="${WASMTIME:-/var/tmp/wasmtime-cli/bin/wasmtime}"
component="$PWD/example-plugins/dist/ripgrep/ripgrep.wasm"

cargo build --locked --release -p isaac-host --bin isaac
isaac="$(realpath "$target")/release/isaac"
[ -f "$component" ] || example-plugins/build.sh
"$wasmtime" --version | grep -q '^wasmtime 48\.' || { echo "commands-bench: $wasmtime is not wasmtime 48" >&2; exit 1; }

work="$(mktemp -d /var/tmp/isaac-commands-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
data="$work/data"
mkdir -p "$data/src"
registry="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)"
for crate in wasmtime-48.0.8 cranelift-codegen-0.135.8 tokio-1.54.1 regex-automata-0.4.19; do
    cp -r "$registry/$crate" "$data/src/"
done
# 96 MB of base64 text.
head -c 75000000 /dev/urandom | base64 -w 76 > "$data/big.txt"

# isaac: install, then wait for the background optimiser so both sides run
# Cranelift's code.
export ISAAC_HOME="$work/home"
unset ISAAC_CONFIG
"$isaac" plugins add example-plugins/dist/ripgrep --yes -q
for _ in $(seq 600); do
    "$isaac" run rg --version >/dev/null
    "$isaac" plugins info ripgrep | grep -q '^code: *optimized' && break
    sleep 0.5
done
"$isaac" plugins info ripgrep | grep '^code:'

"$wasmtime" compile "$component" -o "$work/rg.cwasm"
"$wasmtime" compile -W epoch-interruption=y "$component" -o "$work/rg-limits.cwasm"
plain="$wasmtime run --allow-precompiled --dir $data $work/rg.cwasm"
limits="$wasmtime run --allow-precompiled -W timeout=10s,max-memory-size=67108864 --dir $data $work/rg-limits.cwasm"
through="$isaac run --allow-read $data rg"

# Same output on every side.
for args in "-c fn $data/src" "-c QQQ $data/big.txt"; do
    a="$($through $args | sort | md5sum)"
    b="$($plain $args | sort | md5sum)"
    c="$($limits $args | sort | md5sum)"
    [ "$a" = "$b" ] && [ "$a" = "$c" ] || { echo "commands-bench: outputs differ for rg $args" >&2; exit 1; }
done

for args in "-c fn $data/src" "-c QQQ $data/big.txt" "--version"; do
    hyperfine -N --warmup 3 --runs "$runs" -i \
        -n "isaac run rg $args" "$through $args" \
        -n "wasmtime run (defaults)" "$plain $args" \
        -n "wasmtime run (isaac's limits)" "$limits $args"
done
