// greet-as: `greet-as NAME` says hello and counts NAME's visits in the
// host's cache, so a second run says `#2` (one atomic increment, so runs at
// the same time all count). Logs one line through `log`.
// The world's glue is isaac.ts (hand-written: there is no wit-bindgen for
// AssemblyScript); this file is the plugin.

import { CommandInfo, Level, Outcome, PluginInfo, exportMetadata, exportRun, increment, log } from "./isaac";

export { cabi_realloc } from "./isaac";

const COMMAND = "greet-as";

export function metadata(): usize {
  return exportMetadata(
    new PluginInfo("greet-as", "0.1.0", "Greets NAME and counts the visits (AssemblyScript)", [
      new CommandInfo(COMMAND, "Greet NAME and count the visits", "greet-as NAME"),
    ]),
  );
}

export function run(command: usize, commandLen: usize, args: usize, argsLen: usize): usize {
  return exportRun(command, commandLen, args, argsLen, greet);
}

function greet(command: string, args: string[]): Outcome {
  if (command != COMMAND) return Outcome.failed(`greet-as has no command \`${command}\``);
  if (args.length != 1) return Outcome.usage("usage: greet-as NAME");
  const name = args[0];
  const visits = increment(`visits:${name}`, 1);
  if (visits.error != null) return Outcome.failed(`the cache failed: ${visits.error}`);
  log(Level.Info, `greeted ${name} (visit #${visits.value})`);
  return Outcome.ok(`Hello, ${name}! (visit #${visits.value})`);
}
