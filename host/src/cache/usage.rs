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
//!
//! A use of a tracked key is one hash-map increment (the cache's hot path);
//! the least counted key is found through a min-heap updated lazily: an entry
//! whose key was used since it was pushed is pushed again with the new count
//! when it surfaces. Each key has one heap entry, so the heap holds at most
//! `capacity`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

/// Usage counts of at most `capacity` keys.
#[derive(Debug)]
pub struct UsageCounts {
    capacity: usize,
    /// Keyed with foldhash: this map is touched on every get.
    counts: HashMap<Arc<str>, u64, foldhash::fast::RandomState>,
    /// One entry per key, with its count when pushed (possibly stale).
    heap: BinaryHeap<Reverse<Pushed>>,
}

/// A heap entry, ordered by count alone (comparing keys on ties would cost
/// a string comparison at every step of a sift).
#[derive(Debug)]
struct Pushed(u64, Arc<str>);

impl PartialEq for Pushed {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Pushed {}

impl PartialOrd for Pushed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pushed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl UsageCounts {
    /// An empty table tracking at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        UsageCounts { capacity: capacity.max(1), counts: HashMap::default(), heap: BinaryHeap::new() }
    }

    /// Count one use of `key`.
    pub fn touch(&mut self, key: &str) {
        self.add(key, 1);
    }

    /// Count `n` uses of `key`.
    pub fn add(&mut self, key: &str, n: u64) {
        if let Some(count) = self.counts.get_mut(key) {
            *count += n;
            return;
        }
        let mut count = n;
        if self.counts.len() >= self.capacity {
            // The least counted key makes room and hands on its count.
            while let Some(Reverse(Pushed(seen, least))) = self.heap.pop() {
                let current = self.counts.get(&least).copied().unwrap_or(seen);
                if current == seen {
                    self.counts.remove(&least);
                    count = seen + n;
                    break;
                }
                self.heap.push(Reverse(Pushed(current, least)));
            }
        }
        let key: Arc<str> = key.into();
        self.counts.insert(key.clone(), count);
        self.heap.push(Reverse(Pushed(count, key)));
    }

    /// Take every count, leaving the table empty.
    pub fn take(&mut self) -> Vec<(String, u64)> {
        self.heap.clear();
        self.counts.drain().map(|(k, n)| (k.to_string(), n)).collect()
    }

    /// Forget the keys `keep` says no to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.counts.retain(|key, _| keep(key));
        self.heap = self.counts.iter().map(|(key, n)| Reverse(Pushed(*n, key.clone()))).collect();
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
        for (key, n) in [("a", 3), ("b", 2), ("c", 1)] {
            usage.add(key, n);
        }
        usage.retain(|key| key != "b");
        let mut counts: Vec<(String, u64)> = usage.take();
        counts.sort();
        assert_eq!(counts, vec![("a".into(), 3), ("c".into(), 1)]);
    }
}
