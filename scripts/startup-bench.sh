#!/usr/bin/env bash
# Warm start-up of `isaac run hello:hello bench` with 50 plugins installed
# (hello and 49 distinct copies of it), beside the least a wasmtime host can
# do (examples/bare_host.rs: map hello's compiled code, link WASI,
# instantiate, call) and beside `isaac --version`, in one hyperfine run.
#
#   scripts/startup-bench.sh [PROFILE]     # PROFILE: dist (default) or release
#
# Needs hyperfine (apt install hyperfine) and the example plugins
# (example-plugins/build.sh). Prints hyperfine's table; hyperfine flags may
# follow the profile (default `--runs=300`), e.g. `--runs=50 --export-json F`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
profile="${1:-dist}"
shift || true
target="${CARGO_TARGET_DIR:-target}/$profile"

cargo build --locked --profile "$profile" -p isaac-host --bin isaac
cargo build --locked --profile "$profile" --example bare_host
[ -f example-plugins/dist/hello/hello.wasm ] || example-plugins/build.sh

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export ISAAC_HOME="$home"
unset ISAAC_CONFIG
mkdir -p "$home/plugins"
cp -r example-plugins/dist/hello "$home/plugins/hello"
python3 - "$home/plugins" <<'PY'
import pathlib, sys
plugins = pathlib.Path(sys.argv[1])
wasm = (plugins / "hello" / "hello.wasm").read_bytes()

def leb128(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)

for i in range(49):
    # A custom section makes each copy a distinct component (its own
    # sha256, its own compiled code) with the same behaviour.
    name = b"isaac-distinct"
    body = leb128(len(name)) + name + i.to_bytes(8, "little")
    folder = plugins / f"hello-{i}"
    folder.mkdir()
    (folder / f"hello-{i}.wasm").write_bytes(wasm + b"\0" + leb128(len(body)) + body)
    (folder / "plugin.toml").write_text(f'name = "hello-{i}"\nversion = "0.1.0"\ncomponent = "hello-{i}.wasm"\n')
PY
"$target/isaac" plugins list -q >/dev/null          # compile all 50 once
"$target/isaac" run hello:hello bench >/dev/null
sha="$("$target/isaac" plugins info hello --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')"
artifact="$(ls "$home"/compiled/"$sha"-*.cwasm)"

hyperfine -N --warmup 30 "${@:---runs=300}" \
    "$target/examples/bare_host $artifact hello bench" \
    "$target/isaac run hello:hello bench" \
    "$target/isaac --version"
