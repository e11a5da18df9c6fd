//! L1 (hot) and L2 (warm): two LRU lists, each bounded in entries and in
//! bytes. A new or promoted entry goes to L1; L1's least recently used entry
//! moves to L2; L2's leaves memory (it stays in L3). An entry too large for
//! L1's byte budget is not kept in memory at all.

use lru::LruCache;

use super::entry::{Bytes, Entry};

/// Bytes charged per entry on top of its key and value (list links, the
/// map slot, the `Arc` header).
const ENTRY_OVERHEAD: usize = 64;

fn cost(key: &str, entry: &Entry) -> usize {
    key.len() + entry.value.len() + ENTRY_OVERHEAD
}

/// Capacity of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Most entries.
    pub entries: usize,
    /// Most bytes of keys, values and overhead.
    pub bytes: usize,
}

struct Tier {
    lru: LruCache<Box<str>, Entry>,
    bytes: usize,
    limits: TierLimits,
}

impl Tier {
    fn new(limits: TierLimits) -> Self {
        Tier { lru: LruCache::unbounded(), bytes: 0, limits }
    }

    /// Insert (replacing any entry of the same key) and return what no
    /// longer fits, least recently used first.
    fn insert(&mut self, key: Box<str>, entry: Entry) -> Vec<(Box<str>, Entry)> {
        self.bytes += cost(&key, &entry);
        if let Some((old_key, old)) = self.lru.push(key, entry) {
            // `push` returns the replaced entry, or the one it evicted (never,
            // the list being unbounded).
            self.bytes -= cost(&old_key, &old);
        }
        let mut out = Vec::new();
        while self.lru.len() > self.limits.entries || (self.bytes > self.limits.bytes && self.lru.len() > 1) {
            let Some((k, e)) = self.lru.pop_lru() else { break };
            self.bytes -= cost(&k, &e);
            out.push((k, e));
        }
        out
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.lru.pop(key)?;
        self.bytes -= cost(key, &entry);
        Some(entry)
    }

    fn remove_where(&mut self, pred: &dyn Fn(&str) -> bool) -> Vec<Box<str>> {
        let keys: Vec<Box<str>> = self.lru.iter().filter(|(k, _)| pred(k)).map(|(k, _)| k.clone()).collect();
        for key in &keys {
            self.remove(key);
        }
        keys
    }

    fn clear(&mut self) {
        self.lru.clear();
        self.bytes = 0;
    }
}

/// What a lookup found.
#[derive(Debug)]
pub enum Found {
    /// A live entry in L1.
    L1(Bytes),
    /// A live entry in L2, now promoted to L1.
    L2(Bytes),
    /// An expired entry, now removed from memory.
    Expired,
    /// Nothing.
    Absent,
}

/// Entries that moved down or out during an insert.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moves {
    /// From L1 to L2.
    pub demoted: u64,
    /// Out of L2 (still in L3).
    pub dropped: u64,
}

/// L1 and L2.
pub struct MemoryTiers {
    l1: Tier,
    l2: Tier,
}

impl MemoryTiers {
    /// Empty tiers with these limits.
    pub fn new(l1: TierLimits, l2: TierLimits) -> Self {
        MemoryTiers { l1: Tier::new(l1), l2: Tier::new(l2) }
    }

    /// Look `key` up at `now_ms`: L1, then L2 (promoting a hit to L1).
    pub fn lookup(&mut self, key: &str, now_ms: u64) -> (Found, Moves) {
        if let Some(entry) = self.l1.lru.get(key) {
            if !entry.expired(now_ms) {
                return (Found::L1(entry.value.clone()), Moves::default());
            }
            self.l1.remove(key);
            return (Found::Expired, Moves::default());
        }
        match self.l2.remove(key) {
            Some(entry) if entry.expired(now_ms) => (Found::Expired, Moves::default()),
            Some(entry) => {
                let value = entry.value.clone();
                let moves = self.insert(key.into(), entry);
                (Found::L2(value), moves)
            }
            None => (Found::Absent, Moves::default()),
        }
    }

    /// Put `entry` in L1 (dropping any older copy), moving what no longer
    /// fits down. An entry larger than L1's byte budget is not kept.
    pub fn insert(&mut self, key: Box<str>, entry: Entry) -> Moves {
        self.l2.remove(&key);
        if cost(&key, &entry) > self.l1.limits.bytes {
            self.l1.remove(&key);
            return Moves::default();
        }
        let mut moves = Moves::default();
        for (k, e) in self.l1.insert(key, entry) {
            moves.demoted += 1;
            moves.dropped += self.l2.insert(k, e).len() as u64;
        }
        moves
    }

    /// Forget `key`; whether it was in memory.
    pub fn remove(&mut self, key: &str) -> bool {
        let in_l1 = self.l1.remove(key).is_some();
        let in_l2 = self.l2.remove(key).is_some();
        in_l1 || in_l2
    }

    /// Forget every key for which `pred` holds; how many there were.
    pub fn remove_where(&mut self, pred: &dyn Fn(&str) -> bool) -> usize {
        self.l1.remove_where(pred).len() + self.l2.remove_where(pred).len()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.l1.clear();
        self.l2.clear();
    }

    /// Entries in L1 and L2.
    pub fn lens(&self) -> (usize, usize) {
        (self.l1.lru.len(), self.l2.lru.len())
    }

    /// Bytes charged in L1 and L2.
    pub fn bytes(&self) -> (usize, usize) {
        (self.l1.bytes, self.l2.bytes)
    }

    /// Whether `key` is in memory (without touching recency).
    pub fn contains(&self, key: &str) -> bool {
        self.l1.lru.contains(key) || self.l2.lru.contains(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &[u8], expires_at: u64) -> Entry {
        Entry { value: value.into(), expires_at }
    }

    fn tiers(l1: usize, l2: usize) -> MemoryTiers {
        MemoryTiers::new(TierLimits { entries: l1, bytes: 1 << 20 }, TierLimits { entries: l2, bytes: 1 << 20 })
    }

    #[test]
    fn l1_overflow_moves_to_l2_and_l2_hits_come_back() {
        let mut t = tiers(2, 2);
        for k in ["a", "b", "c"] {
            t.insert(k.into(), entry(k.as_bytes(), 0));
        }
        assert_eq!(t.lens(), (2, 1));
        let (found, moves) = t.lookup("a", 0);
        assert!(matches!(found, Found::L2(v) if &*v == b"a"));
        assert_eq!(moves, Moves { demoted: 1, dropped: 0 });
        assert!(matches!(t.lookup("a", 0).0, Found::L1(_)));
        // d, e push b and c down; L2 holds two, so one leaves memory.
        t.insert("d".into(), entry(b"d", 0));
        let moves = t.insert("e".into(), entry(b"e", 0));
        assert_eq!(t.lens(), (2, 2));
        assert_eq!(moves.demoted, 1);
        assert!(matches!(t.lookup("zzz", 0).0, Found::Absent));
    }

    #[test]
    fn expired_entries_are_removed_on_lookup() {
        let mut t = tiers(2, 2);
        t.insert("a".into(), entry(b"a", 100));
        assert!(matches!(t.lookup("a", 99).0, Found::L1(_)));
        assert!(matches!(t.lookup("a", 100).0, Found::Expired));
        assert!(!t.contains("a"));
    }

    #[test]
    fn byte_budgets_bound_memory() {
        let mut t =
            MemoryTiers::new(TierLimits { entries: 100, bytes: 1000 }, TierLimits { entries: 100, bytes: 1000 });
        let big = vec![0u8; 600];
        t.insert("a".into(), entry(&big, 0));
        t.insert("b".into(), entry(&big, 0));
        assert_eq!(t.lens(), (1, 1));
        assert!(t.bytes().0 <= 1000 && t.bytes().1 <= 1000);
        // Larger than L1 can ever hold: not kept in memory.
        t.insert("huge".into(), entry(&vec![0u8; 5000], 0));
        assert!(!t.contains("huge"));
    }

    #[test]
    fn replacing_keeps_the_byte_count_right() {
        let mut t = tiers(10, 10);
        t.insert("a".into(), entry(&[0; 100], 0));
        t.insert("a".into(), entry(&[0; 10], 0));
        assert_eq!(t.bytes().0, 1 + 10 + ENTRY_OVERHEAD);
        assert!(t.remove("a"));
        assert_eq!(t.bytes(), (0, 0));
        assert_eq!(t.remove_where(&|_| true), 0);
    }
}
