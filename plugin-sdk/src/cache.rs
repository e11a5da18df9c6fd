//! The host's cache, in the plugin's own namespace.
//!
//! The plugin's manifest must ask for it (`cache = true` under
//! `[permissions]`); otherwise every call returns [`CacheError::Denied`].
//! Entries persist across runs of the plugin, until they expire or are
//! deleted.
//!
//! ```no_run
//! use isaac_plugin_sdk::cache::{self, Expiry};
//!
//! # fn demo() -> Result<(), cache::CacheError> {
//! // Counters: atomic, whoever else counts at the same time.
//! let visits = cache::increment("visits:bars", 1)?;
//! // Any other read-modify-write: retried until no one else wrote between.
//! cache::update("notes", Expiry::Never, |old| {
//!     let mut notes = old.map(<[u8]>::to_vec).unwrap_or_default();
//!     notes.extend_from_slice(b"buy milk\n");
//!     notes
//! })?;
//! cache::set_string("last:visitor", "bars", Expiry::DefaultTtl)?;
//! cache::invalidate("session:*")?;
//! # Ok(()) }
//! ```

use crate::__bindings::isaac::plugin::cache as wit;
pub use wit::{CacheError, Expiry};

/// The value at `key`, if there is a live one.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, CacheError> {
    wit::get(key)
}

/// The value at `key` as text (invalid UTF-8 is replaced).
pub fn get_string(key: &str) -> Result<Option<String>, CacheError> {
    Ok(get(key)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Store `value` at `key`.
pub fn set(key: &str, value: &[u8], expiry: Expiry) -> Result<(), CacheError> {
    wit::set(key, value, expiry)
}

/// Store text at `key`.
pub fn set_string(key: &str, value: &str, expiry: Expiry) -> Result<(), CacheError> {
    set(key, value.as_bytes(), expiry)
}

/// Add `delta` to the decimal integer at `key` and return the sum,
/// atomically: no increment from another call or process is lost. A missing
/// or expired key counts from 0 and gets the default TTL; an existing key
/// keeps its expiry. A value that is not a decimal integer is
/// [`CacheError::Storage`] naming the key.
pub fn increment(key: &str, delta: i64) -> Result<i64, CacheError> {
    wit::increment(key, delta)
}

/// Set `key` to `new` only if its live value is `expected` (`None`: absent
/// or expired), atomically; whether it was set. See [`update`] for the
/// retry loop most plugins want.
pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: &[u8], expiry: Expiry) -> Result<bool, CacheError> {
    wit::compare_and_swap(key, expected, new, expiry)
}

/// Replace the value at `key` with `change(current)` (`None`: absent or
/// expired) and return what was stored, losing no concurrent update: when
/// another call or process wrote `key` in between, `change` runs again on
/// the newer value. `change` may thus run more than once; keep it free of
/// other effects.
pub fn update(
    key: &str,
    expiry: Expiry,
    mut change: impl FnMut(Option<&[u8]>) -> Vec<u8>,
) -> Result<Vec<u8>, CacheError> {
    loop {
        let current = get(key)?;
        let new = change(current.as_deref());
        if compare_and_swap(key, current.as_deref(), &new, expiry)? {
            return Ok(new);
        }
    }
}

/// Remove `key`; whether it was there.
pub fn delete(key: &str) -> Result<bool, CacheError> {
    wit::delete(key)
}

/// Remove every key matching the glob `pattern` (`*`, `?`, `\` escapes);
/// how many were removed.
pub fn invalidate(pattern: &str) -> Result<u32, CacheError> {
    wit::invalidate(pattern)
}

/// A sentence for `error`, naming the fix where there is one.
pub fn explain(error: &CacheError) -> String {
    match error {
        CacheError::Denied => {
            "the cache is not granted to this plugin (add `cache = true` under [permissions] in plugin.toml)".to_owned()
        }
        CacheError::TooLarge(message) => format!("too large for the cache: {message}"),
        CacheError::Storage(message) => format!("the cache failed: {message}"),
        CacheError::Quota(message) => format!("over the cache quota: {message}"),
    }
}

impl From<CacheError> for crate::Error {
    fn from(error: CacheError) -> Self {
        crate::Error::Failed(explain(&error))
    }
}
