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
//! let visits = cache::get_string("visits:bars")?.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0) + 1;
//! cache::set_string("visits:bars", &visits.to_string(), Expiry::Never)?;
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
