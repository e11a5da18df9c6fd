//! Cache entries: a value and when it expires, in memory and encoded for L3.
//!
//! L3 encoding: one version byte (1), the expiry as 8 bytes little-endian
//! (milliseconds since the Unix epoch; 0 for never), then the value.

use std::sync::Arc;
use std::time::Duration;

/// A cached value, shared without copying between tiers and callers.
pub type Bytes = Arc<[u8]>;

/// When a new entry expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// After the configured default TTL (`[cache] default_ttl_secs`).
    Default,
    /// After this long.
    After(Duration),
    /// Never (notes, settings).
    Never,
}

/// A value with its expiry time (ms since the epoch; 0: never).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Bytes,
    /// When it expires; 0 for never.
    pub expires_at: u64,
}

impl Entry {
    /// Whether the entry has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        expired(self.expires_at, now_ms)
    }
}

/// Whether an entry expiring at `expires_at` has expired at `now_ms`.
pub fn expired(expires_at: u64, now_ms: u64) -> bool {
    expires_at != 0 && expires_at <= now_ms
}

/// The integer a counter's value holds: canonical decimal text (`0`, or an
/// optional `-` and digits without a leading zero) within `i64`, as Redis's
/// `INCRBY` reads it; `None` for anything else.
pub fn integer(value: &[u8]) -> Option<i64> {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    let canonical = match digits {
        [b'0'] => value.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

const VERSION: u8 = 1;
/// Bytes before the value.
pub const HEADER: usize = 9;

/// Encode for L3.
pub fn encode(expires_at: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + value.len());
    out.push(VERSION);
    out.extend_from_slice(&expires_at.to_le_bytes());
    out.extend_from_slice(value);
    out
}

/// Decode from L3: `(expires_at, value)`, or `None` for bytes this version
/// cannot read.
pub fn decode(bytes: &[u8]) -> Option<(u64, &[u8])> {
    if bytes.len() < HEADER || bytes[0] != VERSION {
        return None;
    }
    let expires_at = u64::from_le_bytes(bytes[1..HEADER].try_into().ok()?);
    Some((expires_at, &bytes[HEADER..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = encode(42, b"value");
        assert_eq!(decode(&bytes), Some((42, &b"value"[..])));
        assert_eq!(decode(b"\x02whatever"), None);
        assert_eq!(decode(b"\x01"), None);
        assert!(expired(10, 10) && !expired(10, 9) && !expired(0, u64::MAX));
    }

    #[test]
    fn integers_are_canonical_decimal_text() {
        for (text, want) in
            [("0", Some(0)), ("42", Some(42)), ("-7", Some(-7)), ("9223372036854775807", Some(i64::MAX))]
        {
            assert_eq!(integer(text.as_bytes()), want, "{text}");
        }
        assert_eq!(integer(b"-9223372036854775808"), Some(i64::MIN));
        for text in ["", "-", "-0", "007", "+1", " 1", "1 ", "1.0", "x", "9223372036854775808", "\u{663}"] {
            assert_eq!(integer(text.as_bytes()), None, "{text:?}");
        }
    }
}
