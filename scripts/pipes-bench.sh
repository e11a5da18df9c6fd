#!/usr/bin/env bash
# Plugins in pipelines, whole process, in one hyperfine run each:
#   - `isaac run wc` over 1 GiB of random text on stdin against GNU `wc` on
#     the same file, in the C and the C.UTF-8 locale;
#   - a pass-through plugin (the `filters` fixture's `cat`: stdin to stdout
#     in 64 KiB pieces) against `cat`, 1 GiB through `head | X | wc -c`;
#   - peak RSS of isaac while 1 GiB flows through it (/usr/bin/time -v).
#
#   scripts/pipes-bench.sh [RUNS]      # hyperfine runs, default 5
#
# Needs hyperfine and GNU time (apt install hyperfine time), the example
# plugins (example-plugins/build.sh) and 2 GiB free in /var/tmp for the text.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-5}"
target="${CARGO_TARGET_DIR:-target}"
isaac="$target/release/isaac"

cargo build --locked --release -p isaac-host --bin isaac
[ -f example-plugins/dist/wordcount/wordcount.wasm ] || example-plugins/build.sh
cargo build --locked --release --target wasm32-wasip2 --manifest-path tests/fixtures/plugins/Cargo.toml \
    -p filters --target-dir "$target/guests"

text=/var/tmp/isaac-bench-text-1g
if [ ! -s "$text" ]; then
    echo "pipes-bench: writing 1 GiB of random text to $text" >&2
    # (base64 and tr end on SIGPIPE once head has its gigabyte.)
    set +o pipefail
    base64 -w 76 /dev/urandom | tr '+/' '  ' | head -c 1073741824 > "$text.part"
    set -o pipefail
    mv "$text.part" "$text"
fi

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export ISAAC_HOME="$home" ISAAC_TIERED=0
unset ISAAC_CONFIG
"$isaac" -q plugins add --yes example-plugins/dist/wordcount
mkdir -p "$home/src/filters"
cp "$target/guests/wasm32-wasip2/release/filters.wasm" "$home/src/filters/"
printf 'name = "filters"\nversion = "0.1.0"\ndescription = "filters"\ncomponent = "filters.wasm"\n' \
    > "$home/src/filters/plugin.toml"
"$isaac" -q plugins add --yes "$home/src/filters"

echo "== wc over 1 GiB of text on stdin"
hyperfine --warmup 1 --runs "$runs" \
    -n "isaac run wc" "$isaac run wc < $text" \
    -n "wc (C)" "LC_ALL=C wc < $text" \
    -n "wc (C.UTF-8)" "LC_ALL=C.UTF-8 wc < $text"

echo "== 1 GiB through a pass-through"
hyperfine --warmup 1 --runs "$runs" \
    -n "isaac run cat" "head -c 1073741824 /dev/zero | $isaac run cat | wc -c" \
    -n "cat" "head -c 1073741824 /dev/zero | cat | wc -c"

echo "== peak RSS of isaac while 1 GiB flows through it"
for cmd in "run cat" "run wc"; do
    rss=$(head -c 1073741824 /dev/zero | /usr/bin/time -v "$isaac" $cmd 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p')
    echo "isaac $cmd: $((rss / 1024)) MiB peak RSS (the guest may use up to its 64 MiB limit)"
done
