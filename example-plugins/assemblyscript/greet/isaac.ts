// isaac.ts: the isaac:plugin@0.3.0 world for AssemblyScript, written by hand.
//
// There is no wit-bindgen for AssemblyScript, so this file is the glue the
// other languages get generated: it lifts and lowers the values of the
// component model's canonical ABI (see docs/plugins/assemblyscript.md for
// each layout). Strings cross as UTF-16, AssemblyScript's own encoding:
// the core module is embedded with `wasm-tools component embed --encoding
// utf16`, so the host reads and writes UTF-16 code units and no string is
// converted here.
//
// Memory: the module is compiled with `--runtime stub`, a bump allocator
// that never frees. isaac runs every call in a fresh instance, so nothing
// needs freeing: the instance and its memory go when the call ends, and
// the plugin's `memory_mb` limit bounds what one call allocates.

// ---------------------------------------------------------------- memory

/** The allocator the host calls to place arguments and returned values. */
export function cabi_realloc(ptr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // The stub allocator aligns every block to 16 bytes: enough for any
  // canonical-ABI type (8 at most).
  return ptr == 0 ? heap.alloc(newSize) : heap.realloc(ptr, newSize);
}

/** A string at `ptr`, `units` UTF-16 code units long. */
function liftString(ptr: usize, units: usize): string {
  return String.UTF16.decodeUnsafe(ptr, units << 1);
}

/** Write `text` as a (pointer, length) pair at `at`. AssemblyScript strings
 * are UTF-16 in memory already, and the stub runtime never moves or frees
 * them: the host reads them in place. */
function lowerString(at: usize, text: string): void {
  store<u32>(at, changetype<usize>(text));
  store<u32>(at, text.length, 4);
}

/** Bytes at `ptr`, `len` long, copied into a new array. */
function liftBytes(ptr: usize, len: usize): Uint8Array {
  const bytes = new Uint8Array(<i32>len);
  memory.copy(bytes.dataStart, ptr, len);
  return bytes;
}

// ---------------------------------------------------------------- log

@external("isaac:plugin/log@0.3.0", "log")
declare function logImport(level: i32, ptr: usize, units: usize): void;

/** How important a log message is (the `level` enum, in order). */
export enum Level {
  Trace,
  Debug,
  Info,
  Warn,
  Error,
}

/** Record one message; the host prints it on stderr when asked (`-v`). */
export function log(level: Level, message: string): void {
  logImport(level, changetype<usize>(message), message.length);
}

/** AssemblyScript's `abort` (a failed assertion, an index out of range):
 * log the message at error level, then trap. The build points `abort` here
 * (`--use abort=isaac/isaacAbort`), so the module imports nothing from
 * `env`. */
export function isaacAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  const what = message == null ? "abort" : message;
  const where = file == null ? "" : ` at ${file}:${line}:${column}`;
  log(Level.Error, what + where);
  unreachable();
}

// ---------------------------------------------------------------- cache

const CACHE_ERRORS: string[] = ["denied", "too-large", "storage", "quota"];

/** The answer of a cache call: `error` is null when it worked, else
 * `KIND: MESSAGE` (`denied`: the plugin was not granted `cache = true`). */
export class Cached<T> {
  constructor(public value: T, public error: string | null) {}
}

/** The `cache-error` variant at `at` as text. */
function liftCacheError(at: usize): string {
  const tag = load<u8>(at);
  const kind = CACHE_ERRORS[tag];
  return tag == 0 ? kind : `${kind}: ${liftString(load<u32>(at, 4), load<u32>(at, 8))}`;
}

// Return areas the host writes a call's result into. A call uses its area
// before the next call: one each is enough.
const INCREMENT_AREA = memory.data(24, 8); // result<s64, cache-error>
const GET_AREA = memory.data(16, 4); // result<option<list<u8>>, cache-error>
const SET_AREA = memory.data(16, 4); // result<_, cache-error>

@external("isaac:plugin/cache@0.3.0", "increment")
declare function incrementImport(keyPtr: usize, keyUnits: usize, delta: i64, ret: usize): void;

@external("isaac:plugin/cache@0.3.0", "get")
declare function getImport(keyPtr: usize, keyUnits: usize, ret: usize): void;

@external("isaac:plugin/cache@0.3.0", "set")
declare function setImport(keyPtr: usize, keyUnits: usize, valuePtr: usize, valueLen: usize, expiry: i32, seconds: u32, ret: usize): void;

/** Add `delta` to the counter at `key` atomically; the sum. */
export function increment(key: string, delta: i64): Cached<i64> {
  incrementImport(changetype<usize>(key), key.length, delta, INCREMENT_AREA);
  // The payload of a result with an s64 in it starts at offset 8.
  if (load<u8>(INCREMENT_AREA) == 0) return new Cached<i64>(load<i64>(INCREMENT_AREA, 8), null);
  return new Cached<i64>(0, liftCacheError(INCREMENT_AREA + 8));
}

/** The live value at `key`, or null. */
export function get(key: string): Cached<Uint8Array | null> {
  getImport(changetype<usize>(key), key.length, GET_AREA);
  if (load<u8>(GET_AREA) != 0) return new Cached<Uint8Array | null>(null, liftCacheError(GET_AREA + 4));
  if (load<u8>(GET_AREA, 4) == 0) return new Cached<Uint8Array | null>(null, null);
  return new Cached<Uint8Array | null>(liftBytes(load<u32>(GET_AREA, 8), load<u32>(GET_AREA, 12)), null);
}

/** Store `value` at `key` for `seconds` (-1: the host's default TTL; 0:
 * never expires). */
export function set(key: string, value: Uint8Array, seconds: i64 = -1): Cached<bool> {
  // The `expiry` variant: default-ttl, seconds(u32), never.
  const expiry = seconds < 0 ? 0 : seconds == 0 ? 2 : 1;
  const secs = <u32>min<i64>(max<i64>(seconds, 0), <i64>u32.MAX_VALUE);
  setImport(changetype<usize>(key), key.length, value.dataStart, value.length, expiry, secs, SET_AREA);
  if (load<u8>(SET_AREA) == 0) return new Cached<bool>(true, null);
  return new Cached<bool>(false, liftCacheError(SET_AREA + 4));
}

// ---------------------------------------------------------------- exports

/** One command the plugin offers (`command-info`). */
export class CommandInfo {
  constructor(public name: string, public summary: string, public usage: string) {}
}

/** What the plugin says about itself (`plugin-info`). */
export class PluginInfo {
  constructor(public name: string, public version: string, public description: string, public commands: CommandInfo[]) {}
}

/** What `run` returns: `ok` text for stdout, or a `usage` (exit 2) or
 * `failed` (exit 1) error. */
export class Outcome {
  private constructor(public tag: u8, public text: string) {}
  static ok(text: string): Outcome { return new Outcome(0, text); }
  static usage(message: string): Outcome { return new Outcome(1, message); }
  static failed(message: string): Outcome { return new Outcome(2, message); }
}

const METADATA_AREA = memory.data(32, 4); // plugin-info
const RUN_AREA = memory.data(16, 4); // result<string, error>

/** Lower `info` for the `metadata` export: four strings' pointer and length
 * pairs, then the commands' array (24 bytes each: three strings). */
export function exportMetadata(info: PluginInfo): usize {
  lowerString(METADATA_AREA, info.name);
  lowerString(METADATA_AREA + 8, info.version);
  lowerString(METADATA_AREA + 16, info.description);
  const count = info.commands.length;
  const array = heap.alloc(<usize>count * 24);
  for (let i = 0; i < count; i++) {
    const command = info.commands[i];
    const at = array + <usize>i * 24;
    lowerString(at, command.name);
    lowerString(at + 8, command.summary);
    lowerString(at + 16, command.usage);
  }
  store<u32>(METADATA_AREA, array, 24);
  store<u32>(METADATA_AREA, count, 28);
  return METADATA_AREA;
}

/** Lift the `run` export's arguments (a string, a list of strings: each
 * element a pointer and a length), call `handler`, lower its outcome as
 * `result<string, error>`: the result's tag, then at offset 4 the ok
 * string, or the `error` variant's tag and at offset 8 its message. */
export function exportRun(
  commandPtr: usize,
  commandUnits: usize,
  argsPtr: usize,
  argsLen: usize,
  handler: (command: string, args: string[]) => Outcome,
): usize {
  const args = new Array<string>(<i32>argsLen);
  for (let i: usize = 0; i < argsLen; i++) {
    const at = argsPtr + i * 8;
    args[<i32>i] = liftString(load<u32>(at), load<u32>(at, 4));
  }
  const outcome = handler(liftString(commandPtr, commandUnits), args);
  if (outcome.tag == 0) {
    store<u8>(RUN_AREA, 0);
    lowerString(RUN_AREA + 4, outcome.text);
  } else {
    store<u8>(RUN_AREA, 1);
    store<u8>(RUN_AREA, outcome.tag - 1, 4);
    lowerString(RUN_AREA + 8, outcome.text);
  }
  return RUN_AREA;
}
