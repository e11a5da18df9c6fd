#!/usr/bin/env bash
# The demo of isaac's main job: build isaac and the example plugins, install
# the plugins into a fresh local home (state in its embedded LMDB), and run
# their commands.
#
#   ./scripts/demo.sh            home: ./.isaac-demo (recreated each run)
#   ISAAC_HOME=DIR ./scripts/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export ISAAC_HOME="${ISAAC_HOME:-$root/.isaac-demo}"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
show() { step "$*"; "$@"; }

cargo build --quiet --release -p isaac-host
"$root/example-plugins/build.sh"
isaac="$CARGO_TARGET_DIR/release/isaac"
isaac() { "$isaac" "$@"; }

rm -rf "$ISAAC_HOME"
show isaac plugins add "$root/example-plugins/dist/hello"
show isaac plugins add "$root/example-plugins/dist/wordcount"
show isaac plugins add "$root/example-plugins/dist/notes"
show isaac plugins list
show isaac run hello bars
show isaac run wc "the quick brown fox" "jumps over the lazy dog"
show isaac run wordcount:wc "one line"
show isaac run echo -v --flags "go to the plugin"
show isaac run --json hello json
show isaac plugins info wordcount
show isaac run note add "water the plants"
show isaac run note add "call Ada"
show isaac run note list        # another process: the notes came from the cache
show isaac cache set greeting "hello from the cache" --ttl 60
show isaac cache get greeting
show isaac cache stats
step "isaac run helo    # a typo: exit status 2 and a suggestion"
isaac run helo || echo "(exit status $?)"
step "time isaac run hello    # warm: compiled code comes from the cache"
time isaac run hello
