// greet-js: `greet-js NAME` says hello and counts NAME's visits in the
// host's cache, so a second run says `#2` (one atomic increment, so runs at
// the same time all count), and logs one line through `log`. Without NAME it
// greets each line of stdin as it arrives (`isaac run greet-js < names.txt`).
// `ask QUESTION...` (or the question on stdin) prints the AI's answer while
// the model writes it.

import { queryStream } from "isaac:plugin/ai@0.3.0";
import { increment } from "isaac:plugin/cache@0.3.0";
import { log } from "isaac:plugin/log@0.3.0";
import { getStdin } from "wasi:cli/stdin@0.2.12";
import { getStdout } from "wasi:cli/stdout@0.2.12";

const COMMAND = "greet-js";

export function metadata() {
  return {
    name: "greet-js",
    version: "0.1.0",
    description: "Greets NAME and counts the visits (JavaScript)",
    commands: [
      { name: COMMAND, summary: "Greet NAME (or each line of stdin) and count the visits", usage: "greet-js [NAME]" },
      { name: "ask", summary: "Ask the AI; the answer is printed as it is written", usage: "ask [QUESTION...]" },
    ],
  };
}

export function run(command, args) {
  if (command === "ask") {
    return ask(args.length > 0 ? args.join(" ") : [...lines()].join("\n"));
  }
  if (command !== COMMAND) {
    throw { tag: "failed", val: `greet-js has no command \`${command}\`` };
  }
  if (args.length === 1) {
    return greet(args[0]);
  }
  if (args.length > 1) {
    throw { tag: "usage", val: "usage: greet-js [NAME]" };
  }
  for (const line of lines()) {
    // console.log writes the line to stdout at once.
    if (line.trim()) console.log(greet(line.trim()));
  }
  return "";
}

function greet(name) {
  let visits;
  try {
    // s64 is a BigInt in JavaScript.
    visits = increment(`visits:${name}`, 1n);
  } catch (e) {
    throw { tag: "failed", val: `the cache failed: ${reason(e)}` };
  }
  log("info", `greeted ${name} (visit #${visits})`);
  return `Hello, ${name}! (visit #${visits})`;
}

function ask(text) {
  const question = text.trim();
  if (!question) throw { tag: "usage", val: "usage: ask QUESTION... (or the question on stdin)" };
  const answer = ai(() => queryStream({ messages: [{ role: "user", content: question }] }));
  for (;;) {
    // The next piece as the model writes it; `undefined` once it is done.
    const piece = ai(() => answer.next());
    if (piece === undefined) return "";
    write(piece);
  }
}

// Call the AI; its error becomes the command's.
function ai(call) {
  try {
    return call();
  } catch (e) {
    throw { tag: "failed", val: `the AI failed: ${reason(e)}` };
  }
}

// The lines of stdin, each as soon as it has arrived.
function* lines() {
  const stdin = getStdin();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    let chunk;
    try {
      chunk = stdin.blockingRead(65536n);
    } catch (e) {
      if (e.payload?.tag === "closed") break;
      throw e;
    }
    pending += decoder.decode(chunk, { stream: true });
    const complete = pending.split("\n");
    pending = complete.pop();
    yield* complete;
  }
  pending += decoder.decode();
  if (pending) yield pending;
}

// Write `text` to stdout now, without adding a newline (4096 bytes at most
// per write).
let stdout;
function write(text) {
  stdout ??= getStdout();
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += 4096) stdout.blockingWriteAndFlush(bytes.subarray(at, at + 4096));
}

// What an error thrown by an import says: `e.payload` is the WIT error.
function reason(e) {
  const error = e.payload;
  if (error === undefined) return String(e);
  return error.val === undefined ? error.tag : `${error.tag}: ${error.val}`;
}
