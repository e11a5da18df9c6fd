//! L1 (hot) and L2 (warm): two LRU lists, each bounded in entries and in
//! bytes, arranged as W-TinyLFU arranges its window and main space. A new
//! entry (written, or read from L3) goes to L1, which keeps what was used
//! lately; L1's least recently used entry moves to L2 if TinyLFU admits it
//! ([`Admission`]: it was asked for more often than the entry L2 would drop
//! for it), else it leaves memory; L2 keeps what is used often, its hits
//! stay in it, and its least recently used entry leaves memory (it stays in
//! L3). An entry too large for L1's byte budget is not kept in memory.

use lru::LruCache;

use super::admission::Admission;
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
    /// Keyed with foldhash, seeded per process: a few nanoseconds a get
    /// where SipHash takes tens.
    lru: LruCache<Box<str>, Entry, foldhash::fast::RandomState>,
    bytes: usize,
    limits: TierLimits,
}

impl Tier {
    fn new(limits: TierLimits) -> Self {
        Tier { lru: LruCache::unbounded_with_hasher(foldhash::fast::RandomState::default()), bytes: 0, limits }
    }

    /// Whether `key` and `entry` fit without evicting anything.
    fn has_room(&self, key: &str, entry: &Entry) -> bool {
        self.lru.len() < self.limits.entries && self.bytes + cost(key, entry) <= self.limits.bytes
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
    /// Out of memory (still in L3): from L2, or from L1 when L2 did not
    /// admit them.
    pub dropped: u64,
}

/// L1 and L2.
pub struct MemoryTiers {
    l1: Tier,
    l2: Tier,
    admission: Admission,
}

impl MemoryTiers {
    /// Empty tiers with these limits.
    pub fn new(l1: TierLimits, l2: TierLimits) -> Self {
        // The most entries each tier can hold: its entry limit, or fewer if
        // its bytes run out first (every entry costs at least the overhead).
        // The sketch is sized for that, not for an entry limit set sky-high.
        let most = |t: TierLimits| t.entries.min(t.bytes / ENTRY_OVERHEAD);
        let admission = Admission::new(most(l1).saturating_add(most(l2)));
        MemoryTiers { l1: Tier::new(l1), l2: Tier::new(l2), admission }
    }

    /// Look `key` up at `now_ms`: L1, then L2. A hit is the most recently
    /// used of its tier; an expired entry is removed. Every lookup, found
    /// or not, counts toward the key's frequency.
    pub fn lookup(&mut self, key: &str, now_ms: u64) -> Found {
        let found = self.find(key, now_ms);
        let hash = self.admission.hash(key);
        self.admission.record(hash, matches!(found, Found::L1(_) | Found::L2(_)));
        found
    }

    fn find(&mut self, key: &str, now_ms: u64) -> Found {
        for (tier, found) in [(&mut self.l1, Found::L1 as fn(Bytes) -> Found), (&mut self.l2, Found::L2)] {
            if let Some(entry) = tier.lru.get(key) {
                if !entry.expired(now_ms) {
                    return found(entry.value.clone());
                }
                tier.remove(key);
                return Found::Expired;
            }
        }
        Found::Absent
    }

    /// Put `entry` in memory, replacing any older copy: in place if the key
    /// is in L2, else in L1, moving what no longer fits down (through
    /// admission) or out. An entry larger than L1's byte budget is not kept.
    pub fn insert(&mut self, key: Box<str>, entry: Entry) -> Moves {
        if cost(&key, &entry) > self.l1.limits.bytes {
            self.remove(&key);
            return Moves::default();
        }
        if self.l2.lru.contains(&*key) {
            return Moves { demoted: 0, dropped: self.l2.insert(key, entry).len() as u64 };
        }
        let mut moves = Moves::default();
        for (k, e) in self.l1.insert(key, entry) {
            if self.admits(&k, &e) {
                moves.demoted += 1;
                moves.dropped += self.l2.insert(k, e).len() as u64;
            } else {
                moves.dropped += 1;
            }
        }
        moves
    }

    /// Whether L2 takes `key` from L1: when it has room, or when `key` was
    /// asked for more often than L2's least recently used entry, which it
    /// would evict. On a tie the entry already in L2 stays: one-hit keys,
    /// a scan, cannot flush it.
    fn admits(&self, key: &str, entry: &Entry) -> bool {
        if self.l2.has_room(key, entry) {
            return true;
        }
        let Some((victim, _)) = self.l2.lru.peek_lru() else { return true };
        let frequency = |k: &str| self.admission.frequency(self.admission.hash(k));
        frequency(key) > frequency(victim)
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
    fn l1_overflow_moves_to_l2_and_l2_hits_stay_there() {
        let mut t = tiers(2, 2);
        for k in ["a", "b", "c"] {
            t.insert(k.into(), entry(k.as_bytes(), 0));
        }
        assert_eq!(t.lens(), (2, 1));
        assert!(matches!(t.lookup("a", 0), Found::L2(v) if &*v == b"a"));
        assert!(matches!(t.lookup("a", 0), Found::L2(_)), "a hit in L2 stays in L2");
        // d fills L2 (it has room); e pushes c down to a full L2.
        t.insert("d".into(), entry(b"d", 0));
        assert_eq!(t.lens(), (2, 2));
        assert!(matches!(t.lookup("zzz", 0), Found::Absent));
        // A write to a key in L2 replaces it there.
        t.insert("a".into(), entry(b"A", 0));
        assert!(matches!(t.lookup("a", 0), Found::L2(v) if &*v == b"A"));
    }

    #[test]
    fn a_full_l2_admits_only_what_is_asked_for_more_often_than_its_victim() {
        let mut t = tiers(1, 2);
        for k in ["a", "b", "c"] {
            t.insert(k.into(), entry(b"v", 0));
        }
        // L2 = [a, b], L1 = [c]. b is asked for once, then a five times.
        t.lookup("b", 0);
        for _ in 0..5 {
            t.lookup("a", 0);
        }
        // d pushes c, never asked for, down: L2's victim b was asked for once.
        let moves = t.insert("d".into(), entry(b"v", 0));
        assert_eq!(moves, Moves { demoted: 0, dropped: 1 });
        assert!(!t.contains("c") && t.contains("b"), "a one-hit key cannot flush L2");
        // d is asked for three times, then e pushes it down: it beats b.
        for _ in 0..3 {
            t.lookup("d", 0);
        }
        let moves = t.insert("e".into(), entry(b"v", 0));
        assert_eq!(moves, Moves { demoted: 1, dropped: 1 });
        assert!(t.contains("d") && t.contains("a") && !t.contains("b"));
    }

    #[test]
    fn expired_entries_are_removed_on_lookup() {
        let mut t = tiers(2, 2);
        t.insert("a".into(), entry(b"a", 100));
        assert!(matches!(t.lookup("a", 99), Found::L1(_)));
        assert!(matches!(t.lookup("a", 100), Found::Expired));
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
