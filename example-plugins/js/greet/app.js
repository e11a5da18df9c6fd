// greet-js: `greet-js NAME` says hello and counts NAME's visits in the
// host's cache, so a second run says `#2` (one atomic increment, so runs at
// the same time all count). Logs one line through `log`.

import { increment } from "isaac:plugin/cache@0.3.0";
import { log } from "isaac:plugin/log@0.3.0";

const COMMAND = "greet-js";

export function metadata() {
  return {
    name: "greet-js",
    version: "0.1.0",
    description: "Greets NAME and counts the visits (JavaScript)",
    commands: [{ name: COMMAND, summary: "Greet NAME and count the visits", usage: "greet-js NAME" }],
  };
}

export function run(command, args) {
  if (command !== COMMAND) {
    throw { tag: "failed", val: `greet-js has no command \`${command}\`` };
  }
  if (args.length !== 1) {
    throw { tag: "usage", val: "usage: greet-js NAME" };
  }
  const name = args[0];
  const key = `visits:${name}`;
  let visits;
  try {
    // s64 is a BigInt in JavaScript.
    visits = increment(key, 1n);
  } catch (e) {
    throw { tag: "failed", val: `the cache failed: ${JSON.stringify(e.payload ?? String(e))}` };
  }
  log("info", `greeted ${name} (visit #${visits})`);
  return `Hello, ${name}! (visit #${visits})`;
}
