#!/usr/bin/env bash
# Warm start-up of `isaac run hello:hello bench` beside the least a wasmtime
# host can do (examples/bare_host.rs: map hello's compiled code, link WASI,
# instantiate, call) and beside `/bin/true`, in one hyperfine run.
#
#   scripts/startup-bench.sh [PROFILE...] [-- HYPERFINE FLAGS]
#
# PROFILE: `release`, `dist` or both (default: dist); each profile's isaac is
# built and timed, and the bare host is built in the first one.
#
# Environment:
#   PLUGINS="1 500"  plugin counts, one home each (hello and N-1 distinct
#                    copies of it); every count is timed in the same run
#                    (default: 50)
#   BEFORE=DIR       also time DIR/isaac-PROFILE (binaries kept from an
#                    earlier commit), for before/after in one run
#   HOMES=DIR        keep the homes in DIR (made once, reused) instead of a
#                    temporary folder
#
# Every binary timed is a fresh copy in a temporary folder (see `fresh`).
#
# Needs hyperfine (apt install hyperfine) and the example plugins
# (example-plugins/build.sh). Prints hyperfine's table; hyperfine flags
# follow `--` (default `--warmup 30 --runs 300`), e.g. `-- --runs 50
# --export-json F`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profiles=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do profiles+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#profiles[@]} -gt 0 ] || profiles=(dist)
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--warmup 30 --runs 300)
counts="${PLUGINS:-50}"
targets="${CARGO_TARGET_DIR:-target}"

for profile in "${profiles[@]}"; do
    cargo build --locked --profile "$profile" -p isaac-host --bin isaac
done
cargo build --locked --profile "${profiles[0]}" --example bare_host
[ -f example-plugins/dist/hello/hello.wasm ] || example-plugins/build.sh
isaac="$targets/${profiles[0]}/isaac"

# Every binary is timed as a fresh copy. How a file's pages came into the
# page cache changes how many page faults a start takes: one written with
# write(2) (cp, `cargo install`, a package manager) is cached in large
# folios, and Linux 6.x maps a whole folio per fault; the linker writes its
# output through a mapping, page by page. The same bare host took 307
# faults and 2.08 ms as linked, 261 and 1.82 ms as a copy (2026-12-07).
bins="$(mktemp -d)"
scratch=("$bins")
fresh() { # NAME FILE: a fresh copy of FILE, printed
    cp "$2" "$bins/$1"
    echo "$bins/$1"
}
if [ -n "${HOMES:-}" ]; then
    homes="$HOMES"
    mkdir -p "$homes"
else
    homes="$(mktemp -d)"
    scratch+=("$homes")
fi
trap 'rm -rf "${scratch[@]}"' EXIT
unset ISAAC_HOME ISAAC_CONFIG

# A home with hello and N-1 distinct copies of it, every plugin compiled.
plant() {
    local home="$1" n="$2"
    [ -f "$home/.planted" ] && return
    mkdir -p "$home/plugins"
    cp -r example-plugins/dist/hello "$home/plugins/hello"
    python3 - "$home/plugins" "$((n - 1))" <<'PY'
import pathlib, sys
plugins, copies = pathlib.Path(sys.argv[1]), int(sys.argv[2])
wasm = (plugins / "hello" / "hello.wasm").read_bytes()

def leb128(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)

for i in range(copies):
    # A custom section makes each copy a distinct component (its own
    # sha256, its own compiled code) with the same behaviour.
    name = b"isaac-distinct"
    body = leb128(len(name)) + name + i.to_bytes(8, "little")
    folder = plugins / f"hello-{i}"
    folder.mkdir()
    (folder / f"hello-{i}.wasm").write_bytes(wasm + b"\0" + leb128(len(body)) + body)
    (folder / "plugin.toml").write_text(f'name = "hello-{i}"\nversion = "0.1.0"\ncomponent = "hello-{i}.wasm"\n')
PY
    "$isaac" --home "$home" plugins list -q >/dev/null          # compile them all once
    "$isaac" --home "$home" run hello:hello bench >/dev/null
    touch "$home/.planted"
}

bare="$(fresh bare_host "$targets/${profiles[0]}/examples/bare_host")"
for profile in "${profiles[@]}"; do
    fresh "isaac-$profile" "$targets/$profile/isaac" >/dev/null
    [ -n "${BEFORE:-}" ] && fresh "before-isaac-$profile" "$BEFORE/isaac-$profile" >/dev/null
done
commands=(/bin/true)
for n in $counts; do
    home="$homes/plugins-$n"
    plant "$home" "$n"
    sha="$("$isaac" --home "$home" plugins info hello --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')"
    artifact="$(ls "$home"/compiled/"$sha"-*.cwasm)"
    commands+=("$bare $artifact hello bench")
    for profile in "${profiles[@]}"; do
        [ -n "${BEFORE:-}" ] && commands+=("$bins/before-isaac-$profile --home $home run hello:hello bench")
        commands+=("$bins/isaac-$profile --home $home run hello:hello bench")
    done
done
hyperfine -N "${flags[@]}" "${commands[@]}"
