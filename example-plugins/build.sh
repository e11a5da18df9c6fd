#!/usr/bin/env bash
# Build every example plugin into a ready-to-install folder:
#   example-plugins/dist/NAME/{plugin.toml,NAME.wasm}
# Install one with `isaac plugins add example-plugins/dist/NAME`.
#
# Environment:
#   ISAAC_DIST        where the plugin folders go (default: example-plugins/dist)
#   CARGO_TARGET_DIR  cargo's target directory; the guests build in its `guests/`
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="${ISAAC_DIST:-$here/dist}"
target="${CARGO_TARGET_DIR:-$here/rust/target}/guests"

rust_plugins() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
        echo "build.sh: adding the wasm32-wasip2 target (rustup target add wasm32-wasip2)" >&2
        rustup target add wasm32-wasip2 >&2
    fi
    cargo build --quiet --release --target wasm32-wasip2 \
        --manifest-path "$here/rust/Cargo.toml" --target-dir "$target"
    for manifest in "$here"/rust/*/plugin.toml; do
        local crate_dir crate name
        crate_dir="$(dirname "$manifest")"
        crate="$(basename "$crate_dir")"
        name="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -1)"
        mkdir -p "$dist/$name"
        cp "$manifest" "$dist/$name/plugin.toml"
        cp "$target/wasm32-wasip2/release/${crate//-/_}.wasm" "$dist/$name/$name.wasm"
        echo "built $dist/$name" >&2
    done
}

rust_plugins
