#!/usr/bin/env bash
# Installs the servers the tests start themselves (each on a free loopback
# port, in a temporary folder): redis-server, Debian's package, for the
# shared cold tier. Run by build.rs with the example plugins' toolchains, so
# `cargo test` sets up a fresh machine; safe to run again.
#
# A server that cannot be installed (no root, no apt) is reported; its tests
# then skip with a message, except under CI=true, where they fail.
set -uo pipefail

if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "test-services.sh: installing redis-server (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
    # The tests start their own servers; the package's service is not needed.
    { command -v service >/dev/null && service redis-server stop; } >/dev/null 2>&1 || true
fi
if ! command -v redis-server >/dev/null; then
    echo "test-services.sh: redis-server is not installed (apt-get install redis-server): its tests will skip" >&2
fi
exit 0
