#!/usr/bin/env bash
# The README's test command, also on a fresh machine: install what the
# tests need (scripts/setup.sh), then run every test of the workspace.
# Arguments go to `cargo test` (`./scripts/test.sh --test all -- redis`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
exec cargo test --release --workspace --locked "$@"
