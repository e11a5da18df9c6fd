//! Where each part of the cold tier lives in Redis, under the configured
//! prefix `P` (default `isaac:`):
//!
//! | what | key | type |
//! | --- | --- | --- |
//! | an entry `NS` + `REST` (`NS`: its namespace) | `P d:{NS}REST` | string, with the entry's expiry as the key's TTL |
//! | the bytes each entry of `NS` counts | `P q:{NS}sizes` | hash: `REST` → bytes |
//! | when they expire | `P q:{NS}exp` | sorted set: `REST` scored by expiry (ms) |
//! | the bytes `NS` holds | `P q:{NS}total` | integer |
//! | a host record (the hot set) | `P m:KEY` | string |
//! | the counters (statistics, usage, AI spending) | `P c` | hash: name → integer |
//!
//! `{NS}` is a Redis Cluster hash tag: a namespace's entries and their
//! bookkeeping share one slot, so the scripts that keep the quota touch one
//! node. Entries alone are under `P d:`, the prefix this host tracks for
//! invalidations, so counters and bookkeeping changing do not empty other
//! hosts' memory tiers.

use crate::cache::layout::{SEP, namespace_of};

/// The key layout under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// The layout under `prefix` (without `{` or `}`).
    pub fn new(prefix: &str) -> Self {
        Keys { prefix: prefix.to_owned() }
    }

    /// What every entry's key starts with: the prefix tracked for
    /// invalidations.
    pub fn data_prefix(&self) -> String {
        format!("{}d:", self.prefix)
    }

    /// The key of the entry `full` (a namespaced key).
    pub fn data(&self, full: &str) -> String {
        let (ns, rest) = split(full);
        format!("{}d:{{{ns}}}{rest}", self.prefix)
    }

    /// The namespaced key of an entry's Redis key, if it is one.
    pub fn full_of(&self, key: &[u8]) -> Option<String> {
        let key = std::str::from_utf8(key).ok()?;
        let tagged = key.strip_prefix(&self.prefix)?.strip_prefix("d:{")?;
        let (ns, rest) = tagged.split_once('}')?;
        Some(format!("{ns}{rest}"))
    }

    /// The bookkeeping keys of namespace `ns`: sizes, expiries, total.
    pub fn quota(&self, ns: &str) -> [String; 3] {
        ["sizes", "exp", "total"].map(|part| format!("{}q:{{{ns}}}{part}", self.prefix))
    }

    /// The key of host record `key`.
    pub fn meta(&self, key: &str) -> String {
        format!("{}m:{key}", self.prefix)
    }

    /// The record's name of a meta key.
    pub fn meta_of<'a>(&self, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(&self.prefix)?.strip_prefix("m:")
    }

    /// The hash of counters.
    pub fn counters(&self) -> String {
        format!("{}c", self.prefix)
    }

    /// A `SCAN MATCH` pattern for the entries whose namespaced key starts
    /// with `prefix` and whose rest after `namespace` matches `glob` (see
    /// [`crate::cache::glob`]): a superset of them (Redis's `?` is one byte,
    /// isaac's one character), to be filtered exactly by the caller. `None`
    /// when nothing can match (a pattern ending in a lone `\`).
    pub fn data_pattern(&self, prefix: &str, glob: Option<(&str, &str)>) -> Option<String> {
        let ns = namespace_of(prefix);
        let mut out = format!("{}d:{{", escape(&self.prefix));
        if ns.len() == prefix.len() && !ns.ends_with(SEP) {
            // Not even one whole namespace: any key that starts with it.
            out.push_str(&escape(prefix));
            out.push('*');
            return Some(out);
        }
        out.push_str(&escape(ns));
        out.push('}');
        match glob {
            Some((namespace, pattern)) if namespace == ns => out.push_str(&translate(pattern)?),
            _ => {
                out.push_str(&escape(&prefix[ns.len()..]));
                out.push('*');
            }
        }
        Some(out)
    }

    /// A `MATCH` pattern for names that start with `prefix` (meta keys
    /// under `P m:` with `under_meta`, else counter names).
    pub fn name_pattern(&self, prefix: &str, under_meta: bool) -> String {
        let base = if under_meta { escape(&self.meta("")) } else { String::new() };
        format!("{base}{}*", escape(prefix))
    }
}

/// `(namespace, rest)` of a namespaced key.
fn split(full: &str) -> (&str, &str) {
    let ns = namespace_of(full);
    (ns, &full[ns.len()..])
}

/// `text` as a Redis glob that matches only itself.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An isaac glob (`*`, `?`, `\` escapes) as a Redis glob matching at least
/// the same keys; `None` for a pattern that matches nothing.
pub fn translate(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push('*'),
            // One character: one to four bytes.
            '?' => out.push_str("?*"),
            '\\' => out.push_str(&escape(&chars.next()?.to_string())),
            c => out.push_str(&escape(&c.to_string())),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_their_namespace_as_a_hash_tag() {
        let keys = Keys::new("isaac:");
        let full = "p\u{1f}notes\u{1f}list:{a}";
        assert_eq!(keys.data(full), "isaac:d:{p\u{1f}notes\u{1f}}list:{a}");
        assert_eq!(keys.full_of(keys.data(full).as_bytes()).as_deref(), Some(full));
        assert_eq!(keys.quota("u\u{1f}")[2], "isaac:q:{u\u{1f}}total");
        assert_eq!(keys.full_of(b"isaac:q:{u\x1f}total"), None);
    }

    #[test]
    fn globs_keep_their_meaning_in_redis() {
        assert_eq!(translate("user:*").as_deref(), Some("user:*"));
        assert_eq!(translate("a?b").as_deref(), Some("a?*b"));
        assert_eq!(translate("[x]^\\*\\\\").as_deref(), Some("\\[x\\]\\^\\*\\\\"));
        assert_eq!(translate("ends\\"), None);
        let keys = Keys::new("i:");
        let ns = "p\u{1f}n\u{1f}";
        let pattern = keys.data_pattern(&format!("{ns}user:"), Some((ns, "user:[1]*"))).unwrap();
        assert_eq!(pattern, format!("i:d:{{{ns}}}user:\\[1\\]*"));
        assert_eq!(keys.data_pattern("", None).unwrap(), "i:d:{*");
        assert_eq!(keys.data_pattern(ns, None).unwrap(), format!("i:d:{{{ns}}}*"));
    }
}
