#!/usr/bin/env bash
# Installs the servers the tests start themselves (each on a free loopback
# port, in a temporary folder), from Debian's packages:
# - redis-server, for the shared cold tier;
# - docker-registry (the CNCF distribution registry), for plugins shared
#   through OCI registries.
# and, into the toolchains' Python venv, the official OpenAI and Anthropic
# Python SDKs, which the tests point at the simulated provider.
# Run by build.rs with the example plugins' toolchains, so `cargo test` sets
# up a fresh machine; safe to run again.
#
# A server that cannot be installed (no root, no apt) is reported; its tests
# then skip with a message, except under CI=true, where they fail.
set -uo pipefail

tools="${ISAAC_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/isaac-tools}"
if ! "$tools/venv/bin/python" -c "import openai, anthropic" >/dev/null 2>&1; then
    echo "test-services.sh: installing the openai and anthropic Python SDKs into $tools/venv" >&2
    { [[ -x "$tools/venv/bin/pip" ]] || python3 -m venv "$tools/venv"; } >&2 \
        && "$tools/venv/bin/pip" install -q openai==3.57.0 anthropic==2.14.0 >&2 \
        || echo "test-services.sh: the SDKs could not be installed: their test will skip" >&2
fi

# command → Debian package
declare -A packages=([redis-server]=redis-server [docker-registry]=docker-registry)
missing=()
for command in "${!packages[@]}"; do
    command -v "$command" >/dev/null || missing+=("${packages[$command]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "test-services.sh: installing ${missing[*]} (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2
    # The tests start their own servers; the packages' services are not needed.
    for service in redis-server docker-registry; do
        { command -v service >/dev/null && service "$service" stop; } >/dev/null 2>&1 || true
    done
fi
for command in "${!packages[@]}"; do
    if ! command -v "$command" >/dev/null; then
        echo "test-services.sh: $command is not installed (apt-get install ${packages[$command]}): its tests will skip" >&2
    fi
done
exit 0
