#!/usr/bin/env bash
# Build every example plugin into a ready-to-install folder:
#   example-plugins/dist/NAME/{plugin.toml,NAME.wasm}
# Install one with `isaac plugins add --yes example-plugins/dist/NAME`.
#
# Languages: rust (always), python (componentize-py), js (componentize-js).
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

# Skip a language whose toolchain is missing, unless it is required.
unavailable() {
    local lang="$1" why="$2"
    if [[ "$required" == *" $lang "* ]]; then
        say "$lang is required (ISAAC_LANGS) but $why"
        exit 1
    fi
    say "skipping $lang plugins: $why (set ISAAC_LANGS to require them)"
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
    local out
    out="$(mktemp -d)"
    for manifest in "$here"/python/*/plugin.toml; do
        local dir name
        dir="$(dirname "$manifest")"
        name="$(plugin_name "$manifest")"
        "$cpy" -d "$wit" -w plugin componentize app -p "$dir" -o "$out/$name.wasm" >/dev/null
        package "$manifest" "$out/$name.wasm"
    done
    rm -rf "$out"
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
    local out
    out="$(mktemp -d)"
    for manifest in "$here"/js/*/plugin.toml; do
        local dir name
        dir="$(dirname "$manifest")"
        name="$(plugin_name "$manifest")"
        # No wasi:http: the plugin world does not offer it.
        "$cjs" --wit "$wit" --world-name plugin -d http -d fetch-event -o "$out/$name.wasm" "$dir/app.js" >/dev/null
        package "$manifest" "$out/$name.wasm"
    done
    rm -rf "$out"
}

rust_plugins
python_plugins
js_plugins
