//! One stored function: `MAGIC | TAG | VALUE`, where `TAG` is
//! HMAC-SHA256, under a key only the home's LMDB state holds, of the
//! namespace, the function's cache key and the value. A file that is
//! truncated, corrupted, renamed onto another key or written by anyone
//! without the key fails the check and is never handed to Cranelift.

use sha2::{Digest, Sha256};

/// The first bytes of every record (and its format's version).
const MAGIC: &[u8; 8] = b"isaacfn1";
const TAG: usize = 32;
/// Bytes before the value.
pub const HEADER: usize = MAGIC.len() + TAG;

/// The key the tags are made with.
pub type Secret = [u8; 32];

/// HMAC-SHA256 (RFC 2104) of `parts`, one after another, under `key` (at
/// most a block, 64 bytes).
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn tag(secret: &Secret, namespace: &str, key: &[u8], value: &[u8]) -> [u8; 32] {
    // Lengths first, so no two (namespace, key) pairs give the same bytes.
    let lengths = [namespace.len() as u64, key.len() as u64].map(u64::to_le_bytes).concat();
    hmac(secret, &[&lengths, namespace.as_bytes(), key, value])
}

/// The record of `value` under `key`.
pub fn seal(secret: &Secret, namespace: &str, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(HEADER + value.len());
    record.extend_from_slice(MAGIC);
    record.extend_from_slice(&tag(secret, namespace, key, value));
    record.extend_from_slice(value);
    record
}

/// The value of `record` if it was sealed under this secret, namespace and
/// key; `None` for anything else.
pub fn open<'a>(secret: &Secret, namespace: &str, key: &[u8], record: &'a [u8]) -> Option<&'a [u8]> {
    if record.len() < HEADER || &record[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (stored, value) = record[MAGIC.len()..].split_at(TAG);
    let expected = tag(secret, namespace, key, value);
    // Constant time: how far a forged tag matches says nothing.
    let difference = stored.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (difference == 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: Secret = [7; 32];

    #[test]
    fn hmac_matches_rfc_4231() {
        let hex = |bytes: [u8; 32]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        // Test case 1: key 20 × 0x0b, "Hi There" (given in two parts).
        let case_1 = hmac(&[0x0b; 20], &[b"Hi ", b"There"]);
        assert_eq!(hex(case_1), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        // Test case 2: key "Jefe".
        let case_2 = hmac(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(hex(case_2), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_record_opens_only_with_its_secret_namespace_and_key() {
        let record = seal(&SECRET, "ns", b"key", b"machine code");
        assert_eq!(open(&SECRET, "ns", b"key", &record), Some(&b"machine code"[..]));
        assert_eq!(open(&[8; 32], "ns", b"key", &record), None, "another home's secret");
        assert_eq!(open(&SECRET, "other", b"key", &record), None, "another engine");
        assert_eq!(open(&SECRET, "ns", b"yek", &record), None, "renamed onto another key");
        assert_eq!(open(&SECRET, "n", b"skey", &record), None, "the same bytes split elsewhere");
    }

    #[test]
    fn a_changed_or_truncated_record_does_not_open() {
        let record = seal(&SECRET, "ns", b"key", b"machine code");
        for i in 0..record.len() {
            let mut flipped = record.clone();
            flipped[i] ^= 1;
            assert_eq!(open(&SECRET, "ns", b"key", &flipped), None, "byte {i} flipped");
        }
        for len in 0..record.len() {
            assert_eq!(open(&SECRET, "ns", b"key", &record[..len]), None, "cut to {len} bytes");
        }
        let mut longer = record.clone();
        longer.push(0);
        assert_eq!(open(&SECRET, "ns", b"key", &longer), None);
    }
}
