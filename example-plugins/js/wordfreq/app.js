// wordfreq-js: `wordfreq TEXT...` prints how often each word of TEXT occurs
// (`COUNT WORD` lines, the most frequent first, like `sort | uniq -c | sort
// -rn`) and adds the counts to totals kept in the host's cache; without TEXT
// it counts stdin (`isaac run wordfreq < book.txt`), read in pieces.
// `wordfreq-top [N]` prints the N most frequent words of every text counted
// so far (10 without N); `wordfreq-reset` forgets them.
//
// The totals are one JSON value under one key, updated with
// compare-and-swap: two runs at the same time both count, and the totals
// never expire. Its world is greet-js's (wit/ is a link to it), the one
// `isaac new --lang js` writes: the plugin world plus WASI stdin and stdout.

// `delete` is a reserved word: imported under another name.
import { compareAndSwap, delete as del, get } from "isaac:plugin/cache@0.3.0";
import { getStdin } from "wasi:cli/stdin@0.2.12";

const TOTALS = "totals";
const TOP = 10;

export function metadata() {
  return {
    name: "wordfreq-js",
    version: "0.1.0",
    description: "Counts the words of a text and keeps their totals (JavaScript)",
    commands: [
      { name: "wordfreq", summary: "Count the words of TEXT (or stdin) and add them to the totals", usage: "wordfreq [TEXT...]" },
      { name: "wordfreq-top", summary: "The most frequent words counted so far", usage: "wordfreq-top [N]" },
      { name: "wordfreq-reset", summary: "Forget the totals", usage: "wordfreq-reset" },
    ],
  };
}

export function run(command, args) {
  switch (command) {
    case "wordfreq": {
      const counts = args.length > 0 ? count(args.join(" ")) : countStdin();
      update((totals) => {
        for (const [word, n] of counts) totals.set(word, (totals.get(word) ?? 0) + n);
      });
      return table(counts);
    }
    case "wordfreq-top": {
      const top = args.length === 0 ? TOP : Number(args[0]);
      if (args.length > 1 || !Number.isInteger(top) || top < 1) {
        throw { tag: "usage", val: "usage: wordfreq-top [N] (N a whole number, 1 or more)" };
      }
      return table(read().totals, top);
    }
    case "wordfreq-reset": {
      if (args.length > 0) throw { tag: "usage", val: "usage: wordfreq-reset" };
      const forgotten = read().totals.size;
      cache(() => del(TOTALS));
      return `forgot ${forgotten} word${forgotten === 1 ? "" : "s"}`;
    }
    default:
      throw { tag: "failed", val: `wordfreq-js has no command \`${command}\`` };
  }
}

// How often each word of `text` occurs: a word is a run of characters other
// than white space and ASCII punctuation (an apostrophe stays in its word:
// `don't`), compared in lower case. (The engine has no Unicode property
// escapes such as `\p{L}`: it is built without ICU.)
const WORD = /[^\s!-&(-/:-@[-`{-~]+/g;

function count(text, counts = new Map()) {
  for (const [word] of text.toLowerCase().matchAll(WORD)) {
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

// How often each word of stdin occurs, read in pieces: each piece is
// counted up to its last white space, since its last word may go on in the
// next piece.
function countStdin() {
  const stdin = getStdin();
  const decoder = new TextDecoder();
  const counts = new Map();
  let pending = "";
  for (let piece = nextPiece(stdin); piece !== undefined; piece = nextPiece(stdin)) {
    pending += decoder.decode(piece, { stream: true });
    const cut = pending.search(/\s\S*$/);
    if (cut >= 0) {
      count(pending.slice(0, cut), counts);
      pending = pending.slice(cut);
    }
  }
  return count(pending + decoder.decode(), counts);
}

// What has arrived on `stdin` (64 KiB at most), waiting for it;
// `undefined` at its end (`blockingRead` throws `closed`).
function nextPiece(stdin) {
  try {
    return stdin.blockingRead(65536n);
  } catch (e) {
    if (e.payload?.tag === "closed") return undefined;
    throw e;
  }
}

// `COUNT WORD` lines of `counts` (a Map), the most frequent first, then in
// alphabetical order; the first `top` of them.
function table(counts, top = Infinity) {
  const rows = [...counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
  return rows
    .slice(0, top)
    .map(([word, n]) => `${n} ${word}`)
    .join("\n");
}

// The totals (a Map, kept as JSON `[[word, count], ...]`) and the bytes
// they were read from (`undefined`: none yet).
function read() {
  const bytes = cache(() => get(TOTALS));
  const totals = new Map(bytes === undefined ? [] : JSON.parse(new TextDecoder().decode(bytes)));
  return { bytes, totals };
}

// Change the totals with `change`, retrying when another run changed them
// between the read and the write: no count is lost.
function update(change) {
  for (;;) {
    const { bytes, totals } = read();
    change(totals);
    const next = new TextEncoder().encode(JSON.stringify([...totals]));
    if (cache(() => compareAndSwap(TOTALS, bytes, next, { tag: "never" }))) return;
  }
}

// Call the cache; its error becomes the command's.
function cache(call) {
  try {
    return call();
  } catch (e) {
    const error = e.payload;
    const why = error === undefined ? String(e) : error.val === undefined ? error.tag : `${error.tag}: ${error.val}`;
    throw { tag: "failed", val: `the cache failed: ${why}` };
  }
}
