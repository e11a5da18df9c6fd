//! Per-key usage counts in bounded memory, for warming.
//!
//! A plugin decides which keys it reads, so counting every distinct key in a
//! map would let it grow the host's memory without bound (300 000 distinct
//! keys in one call). [`UsageCounts`] keeps at most `capacity` keys with the
//! Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005): a key that is
//! not tracked while the table is full takes the place of the least counted
//! one and inherits its count plus one. Every key used more than
//! `total / capacity` times is guaranteed to be tracked, and a tracked key's
//! count overestimates its true count by at most the count it inherited:
//! exactly what warming needs (the hot set), in fixed memory.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Usage counts of at most `capacity` keys.
#[derive(Debug)]
pub struct UsageCounts {
    capacity: usize,
    counts: HashMap<Arc<str>, u64>,
    /// The same entries ordered by count, to find the least counted.
    order: BTreeSet<(u64, Arc<str>)>,
}

impl UsageCounts {
    /// An empty table tracking at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        UsageCounts { capacity: capacity.max(1), counts: HashMap::new(), order: BTreeSet::new() }
    }

    /// Count one use of `key`.
    pub fn touch(&mut self, key: &str) {
        if let Some(count) = self.counts.get_mut(key) {
            let shared = self.order.take(&(*count, Arc::from(key))).map(|(_, k)| k).unwrap_or_else(|| key.into());
            *count += 1;
            self.order.insert((*count, shared));
            return;
        }
        let mut count = 1;
        if self.counts.len() >= self.capacity
            && let Some((least, evicted)) = self.order.pop_first()
        {
            self.counts.remove(&evicted);
            count = least + 1;
        }
        let key: Arc<str> = key.into();
        self.counts.insert(key.clone(), count);
        self.order.insert((count, key));
    }

    /// Take every count, leaving the table empty.
    pub fn take(&mut self) -> Vec<(String, u64)> {
        self.order.clear();
        self.counts.drain().map(|(k, n)| (k.to_string(), n)).collect()
    }

    /// The tracked keys and their counts.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.counts.iter().map(|(k, n)| (&**k, *n))
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_heavy_keys_survive() {
        let mut usage = UsageCounts::new(8);
        for round in 0..1000 {
            usage.touch("hot-a");
            usage.touch("hot-b");
            usage.touch(&format!("cold-{round}"));
        }
        assert_eq!(usage.len(), 8);
        let counts: HashMap<String, u64> = usage.take().into_iter().collect();
        assert!(counts["hot-a"] >= 1000 && counts["hot-b"] >= 1000, "{counts:?}");
        assert!(usage.is_empty());
    }

    #[test]
    fn counts_are_exact_while_there_is_room() {
        let mut usage = UsageCounts::new(4);
        for key in ["a", "b", "a", "c", "a", "b"] {
            usage.touch(key);
        }
        let mut counts: Vec<(String, u64)> = usage.take();
        counts.sort();
        assert_eq!(counts, vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]);
    }
}
