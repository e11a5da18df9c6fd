#!/usr/bin/env bash
# Installs what the tests need, once; safe to run again (it installs only
# what is missing):
# - the toolchains of every example plugin language (example-plugins/
#   toolchains.sh: the wasm32-wasip2 target, componentize-py, ...; into
#   ISAAC_TOOLS, default ~/.cache/isaac-tools, and clang-19 with apt), and
#   the third-party CLI of the command examples (ripgrep, built once);
# - the servers the tests start themselves, each on a free loopback port in
#   a temporary folder (Debian's packages, with apt as root): redis-server,
#   for the shared cold tier, and docker-registry (the CNCF distribution
#   registry), for plugins shared through OCI registries;
# - the official OpenAI and Anthropic Python SDKs (into the toolchains'
#   venv), which a test points at the simulated provider.
#
# `cargo build` and `cargo test` install nothing; scripts/test.sh (the
# README's test command) runs this first. A test whose toolchain or server
# is missing fails, naming it and this script.
#
# Exits 1 when something could not be installed (no root for apt, no
# network), naming each with the command that installs it.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wit="$root/wit"
tools="${ISAAC_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/isaac-tools}"
install=1
say() { echo "setup.sh: $*" >&2; }
# shellcheck source=../example-plugins/toolchains.sh
source "$root/example-plugins/toolchains.sh"

missing=()
# Note what SETUP (a setup_* or apt_tools call) could not make ready.
need() { "$@" || missing+=("$why (install: $hint)"); }

# thirdparty: the third-party CLI the command examples package (ripgrep,
# built once for wasm32-wasip2).
for lang in rust python js c go zig cpp assemblyscript thirdparty; do
    need "setup_$lang"
done

# The servers (command and Debian package share the name). The tests start
# their own; the service a package starts is stopped.
export DEBIAN_FRONTEND=noninteractive
for server in redis-server docker-registry; do
    present "$server" && continue
    need apt_tools "$server" "$server" "$server"
    { command -v service && service "$server" stop; } >/dev/null 2>&1 || true
done

# The official AI SDKs, at the versions tests/fixtures/ai/sdk_clients.py was written against.
setup_sdks() {
    "$tools/venv/bin/python" -c "import openai, anthropic" >/dev/null 2>&1 && return 0
    want "the openai and anthropic Python SDKs" "$tools/venv/bin/pip install openai==3.57.0 anthropic==2.14.0" || return 1
    { tools_venv && "$tools/venv/bin/pip" install -q openai==3.57.0 anthropic==2.14.0; } >&2 \
        || { missing "the openai and anthropic Python SDKs could not be installed" "pip install openai==3.57.0 anthropic==2.14.0"; return 1; }
}
need setup_sdks

if [[ ${#missing[@]} -gt 0 ]]; then
    say "not installed; the tests that need them will fail:"
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi
say "ready: every toolchain and server the tests use is installed"
