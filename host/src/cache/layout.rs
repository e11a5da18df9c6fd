//! The key layout of L3. A cache entry's key starts with its owner's
//! namespace: `u␟` for the user, `p␟NAME␟` for plugin `NAME`, `s␟NAME␟` for a
//! host service, where `␟` is [`SEP`] (U+001F), which no name contains. The
//! host's own records (meta space) and counters have the fixed names below.

/// Separates the parts of a namespaced key; cannot occur in a namespace name.
pub(super) const SEP: char = '\u{1f}';

/// Keys of one owner. The host prefixes every key with its namespace, so no
/// key or pattern of one owner reaches another's entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// The user's own keys (`isaac cache get KEY`).
    pub fn user() -> Self {
        Namespace { prefix: format!("u{SEP}") }
    }

    /// The keys of plugin `name` (a valid plugin name: `[a-z0-9-]+`).
    pub fn plugin(name: &str) -> Self {
        Namespace { prefix: format!("p{SEP}{name}{SEP}") }
    }

    /// The keys of a host service, such as the AI response cache.
    pub fn service(name: &str) -> Self {
        Namespace { prefix: format!("s{SEP}{name}{SEP}") }
    }

    /// The stored form of `key`.
    pub fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }

    /// What every key of the namespace starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whose keys these are, for messages: ``plugin `NAME` ``, `the user`,
    /// or ``the host's `NAME` ``.
    pub fn owner(&self) -> String {
        let name = self.prefix.trim_end_matches(SEP).split(SEP).nth(1).unwrap_or("");
        match self.prefix.as_bytes().first() {
            Some(b'p') => format!("plugin `{name}`"),
            Some(b's') => format!("the host's `{name}`"),
            _ => "the user".to_owned(),
        }
    }
}

/// The namespace of a data key: everything up to and including the
/// separator that ends the owner's name (see [`Namespace`]).
pub fn namespace_of(key: &str) -> &str {
    let seps = if key.starts_with('u') { 1 } else { 2 };
    match key.match_indices(SEP).nth(seps - 1) {
        Some((i, _)) => &key[..=i],
        None => key,
    }
}

/// The counter of statistic `NAME` is `stats/NAME` (see [`stats::NAMES`](super::stats::NAMES)).
pub(super) const STATS_PREFIX: &str = "stats/";
/// The usage count of a data key `FULL` is the counter `use/FULL`.
pub(super) const USAGE_PREFIX: &str = "use/";
/// The meta record of the hot set: the most used keys, as JSON.
pub(super) const HOT: &str = "hot";
/// The meta record of when L3 was last swept (ms, 8 bytes little-endian).
pub(super) const LAST_SWEEP: &str = "last-sweep";
