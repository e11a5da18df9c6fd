//! The Lua scripts that make each write one atomic step on the server: an
//! entry, its expiry and its namespace's byte count change together, and the
//! quota, increments and swaps are decided on what the server holds.
//!
//! Every entry script takes `KEYS = {entry, sizes, exp, total}` (see
//! [`Keys`](super::keys::Keys)); all four share the namespace's hash tag.
//! Numbers cross as decimal text; Lua's doubles hold byte counts and times
//! exactly (below 2^53), and counter values are never turned into numbers
//! where they could be larger (`INCRBY` does the arithmetic).

use std::sync::LazyLock;

use redis::Script;

/// Functions shared by the entry scripts: reclaim the namespace's expired
/// entries, and account for an entry's new size within a limit.
const PRELUDE: &str = r#"
local function total()
  return tonumber(redis.call('GET', KEYS[4]) or '0')
end

-- Forget the sizes of entries that expired by `now` and are gone.
local function reclaim(now, entry_prefix)
  local gone = redis.call('ZRANGE', KEYS[3], '-inf', now, 'BYSCORE')
  local freed = 0
  for _, rest in ipairs(gone) do
    if redis.call('EXISTS', entry_prefix .. rest) == 0 then
      freed = freed + tonumber(redis.call('HGET', KEYS[2], rest) or '0')
      redis.call('HDEL', KEYS[2], rest)
      redis.call('ZREM', KEYS[3], rest)
    end
  end
  if freed > 0 then redis.call('DECRBY', KEYS[4], freed) end
end

-- Whether an entry `rest` of `new` bytes fits `limit` (-1: none), reclaiming
-- expired entries first; returns false, used, more when it does not.
local function fits(rest, new, limit, now, entry_prefix)
  if limit < 0 then return true end
  reclaim(now, entry_prefix)
  local old = tonumber(redis.call('HGET', KEYS[2], rest) or '0')
  local used = total()
  if new > old and used - old + new > limit then
    return false, used, new - old
  end
  return true
end

-- Record that entry `rest` now holds `new` bytes and expires at `at` (0: never).
local function account(rest, new, at)
  local old = tonumber(redis.call('HGET', KEYS[2], rest) or '0')
  redis.call('HSET', KEYS[2], rest, new)
  if at > 0 then redis.call('ZADD', KEYS[3], at, rest) else redis.call('ZREM', KEYS[3], rest) end
  redis.call('INCRBY', KEYS[4], new - old)
end

local function store(value, at)
  if at > 0 then
    redis.call('SET', KEYS[1], value, 'PXAT', at)
  else
    redis.call('SET', KEYS[1], value)
  end
end
"#;

fn with_prelude(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}

/// Put. ARGV: rest, value, expires_at, now, limit, size, entry prefix.
/// Returns `{'ok'}` or `{'quota', used, more}`.
pub static PUT: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local rest, at, now, limit, size = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ok, used, more = fits(rest, size, limit, now, ARGV[7])
if not ok then return {'quota', tostring(used), tostring(more)} end
store(ARGV[2], at)
account(rest, size, at)
return {'ok'}
"#,
    )
});

/// Delete. ARGV: rest. Returns 1 if a live entry was removed.
pub static DELETE: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local removed = redis.call('UNLINK', KEYS[1])
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('DECRBY', KEYS[4], size)
end
return removed
"#,
    )
});

/// Delete many of one namespace. KEYS: sizes, exp, total, then the entries;
/// ARGV: their rests. Returns how many live entries were removed.
pub static DELETE_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local removed, freed = 0, 0
for i, rest in ipairs(ARGV) do
  removed = removed + redis.call('UNLINK', KEYS[i + 3])
  local size = redis.call('HGET', KEYS[1], rest)
  if size then
    freed = freed + tonumber(size)
    redis.call('HDEL', KEYS[1], rest)
    redis.call('ZREM', KEYS[2], rest)
  end
end
if freed > 0 then redis.call('DECRBY', KEYS[3], freed) end
return removed
"#,
    )
});

/// Increment with `INCRBY`'s rules. ARGV: rest, delta, expires_at of a new
/// entry, now, limit, size without the value, entry prefix. Returns
/// `{'ok', value, expires_at}`, `{'quota', used, more}` or `{'error', what}`.
pub static INCREMENT: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local rest, new_at, now, limit, base = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local before = redis.call('GET', KEYS[1])
local result = redis.pcall('INCRBY', KEYS[1], ARGV[2])
if type(result) == 'table' and result.err then return {'error', result.err} end
local value = redis.call('GET', KEYS[1])
local at = new_at
if before then
  at = redis.call('PEXPIRETIME', KEYS[1])
  if at < 0 then at = 0 end
elseif at > 0 then
  redis.call('PEXPIREAT', KEYS[1], at)
end
local ok, used, more = fits(rest, base + #value, limit, now, ARGV[7])
if not ok then
  if before then redis.call('SET', KEYS[1], before, 'KEEPTTL') else redis.call('DEL', KEYS[1]) end
  return {'quota', tostring(used), tostring(more)}
end
account(rest, base + #value, at)
return {'ok', value, tostring(at)}
"#,
    )
});

/// Compare-and-swap. ARGV: rest, has expected (`1`/`0`), expected, new,
/// expires_at, now, limit, size, entry prefix. Returns `{'swapped', 0|1}`
/// or `{'quota', used, more}`.
pub static COMPARE_AND_SWAP: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local rest, at, now, limit, size = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return {'swapped', 0} end
elseif current then
  return {'swapped', 0}
end
local ok, used, more = fits(rest, size, limit, now, ARGV[9])
if not ok then return {'quota', tostring(used), tostring(more)} end
store(ARGV[4], at)
account(rest, size, at)
return {'swapped', 1}
"#,
    )
});

/// Subtract from a counter, stopping at 0. KEYS: the counters; ARGV: name,
/// delta.
pub static SUB: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local value = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if value <= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], 0)
else
  redis.call('HINCRBY', KEYS[1], ARGV[1], '-' .. ARGV[2])
end
return 1
"#,
    )
});

/// Add to a counter if it stays within a cap. KEYS: the counters; ARGV:
/// name, delta, cap. Returns `{'ok'}` or `{'over', current}`.
pub static ADD_CAPPED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local current = redis.call('HGET', KEYS[1], ARGV[1]) or '0'
if tonumber(current) + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return {'over', current} end
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
return {'ok'}
"#,
    )
});
