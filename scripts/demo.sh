#!/usr/bin/env bash
# The demo of isaac's main job: build isaac and the example plugins, install
# the plugins into a fresh local home (state in its embedded LMDB), and run
# their commands.
#
#   ./scripts/demo.sh            home: ./.isaac-demo (recreated each run)
#
# The demo always uses its own home, whatever ISAAC_HOME says, and deletes
# only a home it created itself (marked by a `.isaac-demo` file inside).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
demo_home="$root/.isaac-demo"
marker="$demo_home/.isaac-demo"
if [ -e "$demo_home" ] && [ ! -f "$marker" ]; then
    echo "error: $demo_home exists but was not created by this demo; move it away and run the demo again" >&2
    exit 1
fi
export ISAAC_HOME="$demo_home"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
show() { step "$*"; "$@"; }

cargo build --quiet --release -p isaac-host
"$root/example-plugins/build.sh"
isaac="$CARGO_TARGET_DIR/release/isaac"
isaac() { "$isaac" "$@"; }

# Only the demo's own home, marked when it was created, is ever deleted.
if [ -f "$marker" ]; then rm -rf "$demo_home"; fi
mkdir -p "$demo_home" && touch "$marker"
show isaac plugins add "$root/example-plugins/dist/hello"
show isaac plugins add "$root/example-plugins/dist/wordcount"
show isaac plugins add --yes "$root/example-plugins/dist/notes"    # it asks for the cache: --yes grants it
for lang in rs py js c go zig cpp as; do
    if [ -d "$root/example-plugins/dist/greet-$lang" ]; then
        "$isaac" plugins add --yes "$root/example-plugins/dist/greet-$lang" > /dev/null
    fi
done
show isaac plugins list
show isaac run hello bars
show isaac run wc "the quick brown fox" "jumps over the lazy dog"
show isaac run wordcount:wc "one line"
show isaac run echo -v --flags "go to the plugin"
show isaac run --json hello json
show isaac plugins info wordcount
work="$(mktemp -d)"
printf 'one two three\nfour five\n' > "$work/notes.txt"
step "isaac run --allow-read notes.txt wc notes.txt    # read access to one file, for one run"
( cd "$work" && "$isaac" run --allow-read notes.txt wc notes.txt )
step "cat notes.txt | isaac run wc    # a plugin is a Unix filter: stdin in, output out"
"$isaac" run wc < "$work/notes.txt"
show isaac run note add "water the plants"
show isaac run note add "call Ada"
show isaac run note list        # another process: the notes came from the cache
for lang in rs py js c go zig cpp as; do
    if [ -d "$ISAAC_HOME/plugins/greet-$lang" ]; then
        show isaac run greet-$lang bars
        show isaac run greet-$lang bars    # visit #2: counted in the plugin's cache
    fi
done
step "20 × isaac run greet-rs ada, at once    # one atomic increment each: no visit lost"
for _ in $(seq 20); do "$isaac" run greet-rs ada > /dev/null & done
wait
show isaac run greet-rs ada        # visit #21
show isaac cache incr --plugin greet-rs visits:ada 10    # the same counter from the command line
show isaac cache set greeting "hello from the cache" --ttl 60
show isaac cache get greeting
show isaac cache stats
step "python3 -m http.server &    # a web server on loopback stands in for the internet"
web="$(mktemp -d)"
printf 'isaac fetched this page\nthrough wasi:http, from a granted host\n' > "$web/page.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$web" > "$web/log" 2>&1 &
web_pid=$!
trap 'kill $web_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "Serving HTTP" "$web/log" && break; sleep 0.1; done
web_port="$(sed -n 's|^Serving HTTP on [0-9.]* port \([0-9]*\).*|\1|p' "$web/log")"
# The fetch example, granted that server only.
cp -r "$root/example-plugins/dist/fetch" "$work/fetch"
sed -i "s|^http = .*|http = { allowed_hosts = [\"http://127.0.0.1:$web_port\"], max_requests = 5 }|" "$work/fetch/plugin.toml"
show isaac plugins add --yes "$work/fetch"
show isaac run fetch "http://127.0.0.1:$web_port/page.txt"
step "isaac -v run fetch https://example.com/    # not granted: denied, and -v says why"
isaac -v run fetch https://example.com/ || echo "(exit status $?)"
step "isaac ai simulate --port 0 --latency 500ms &    # a simulated AI provider on loopback"
sim_log="$(mktemp)"
"$isaac" ai simulate --port 0 --latency 500ms 2> "$sim_log" &
sim_pid=$!
trap 'kill $sim_pid $web_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "simulated AI provider" "$sim_log" && break; sleep 0.1; done
sim_addr="$(sed -n 's|^simulated AI provider on http://\([0-9.:]*\) .*|\1|p' "$sim_log")"
cat > "$ISAAC_HOME/config.toml" <<TOML
[ai.providers.sim]
kind = "openai"
base_url = "http://$sim_addr/v1"
model = "sim-1"
price_input_per_mtok = 3.0
price_output_per_mtok = 15.0
TOML
show isaac plugins add --yes "$root/example-plugins/dist/summarize"
step "time isaac run summarize <three texts>    # one batch: three answers in the time of one"
time isaac run summarize "isaac hosts plugins" "plugins are components" "the cache has three tiers"
step "git diff | isaac run summarize    # the answer streams through the plugin as the model writes it"
printf 'isaac now gives plugins stdin and streams their output\n' | "$isaac" run summarize
show isaac ai query "What is isaac?"
show isaac ai query "What is isaac?" --json     # again: from the response cache
show isaac ai stats
step "isaac run helo    # a typo: exit status 2 and a suggestion"
isaac run helo || echo "(exit status $?)"
step "time isaac run hello    # warm: compiled code comes from the cache"
time isaac run hello
