//! L1 (hot) and L2 (warm), arranged as W-TinyLFU arranges its window and
//! main space, L2 split as Caffeine splits its main space (a segmented LRU:
//! probation and protected).
//!
//! - A new entry (written, or read from L3) enters L1, an LRU list that
//!   keeps what was used lately. An L1 hit makes the entry L1's most
//!   recently used.
//! - L1's least recently used entry moves to L2's probation segment if
//!   TinyLFU admits it ([`Admission`]: L2 has room, or the entry was asked
//!   for more often than the entry L2 would drop for it), else it leaves
//!   memory (it stays in L3).
//! - A hit in probation moves the entry to protected; protected's least
//!   recently used entry, when it no longer fits, goes back to the front of
//!   probation. A hit in protected keeps it there.
//! - How much of L2 protected may hold (0 to 80 %) and how long the
//!   admission sketch remembers follow the hit rate together ([`Bias`]):
//!   much and long for a stable popular set, little and short (L2 close to
//!   a plain LRU) when popularity moves.
//! - L2 drops probation's least recently used entry first (protected's
//!   when probation is empty). So an entry asked for once in L2 leaves
//!   before any asked for twice, and a burst of new popular keys displaces
//!   the entries that were admitted but not asked for again.
//!
//! All three segments live in one [`Lists`]: one hash of the key (shared
//! with the admission filter) and one table probe find it in any tier; an
//! L1 hit then moves one entry to the front of its list. An entry too large
//! for L1's byte budget is not kept in memory.

use super::admission::Admission;
use super::bias::Bias;
use super::entry::{Bytes, Entry};
use super::lists::{ENTRY_OVERHEAD, Lists, cost};

/// The lists of [`Lists`]: L1, then L2's two segments.
const WINDOW: usize = 0;
const PROBATION: usize = 1;
const PROTECTED: usize = 2;

/// Capacity of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierLimits {
    /// Most entries.
    pub entries: usize,
    /// Most bytes of keys, values and overhead.
    pub bytes: usize,
}

impl TierLimits {
    /// `part / whole` of these limits.
    fn share(self, part: usize, whole: usize) -> TierLimits {
        let of = |n: usize| usize::try_from(n as u128 * part as u128 / whole.max(1) as u128).unwrap_or(usize::MAX);
        TierLimits { entries: of(self.entries), bytes: of(self.bytes) }
    }
}

/// What a lookup found.
#[derive(Debug)]
pub enum Found {
    /// A live entry in L1.
    L1(Bytes),
    /// A live entry in L2 (probation or protected).
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
    lists: Lists<3>,
    l1: TierLimits,
    l2: TierLimits,
    /// Protected's part of L2, which `bias` moves.
    protected: TierLimits,
    bias: Bias,
    /// Whether L2 has been half full: `bias` counts lookups from then on.
    warm: bool,
    admission: Admission,
}

impl MemoryTiers {
    /// Empty tiers with these limits.
    pub fn new(l1: TierLimits, l2: TierLimits) -> Self {
        // The most entries each tier can hold: its entry limit, or fewer if
        // its bytes run out first (every entry costs at least the overhead).
        // The sketch is sized for that, not for an entry limit set sky-high.
        let most = |t: TierLimits| t.entries.min(t.bytes / ENTRY_OVERHEAD);
        let capacity = most(l1).saturating_add(most(l2));
        let bias = Bias::new(capacity);
        let admission = Admission::new(capacity, bias.period());
        let (part, whole) = bias.protected();
        let protected = l2.share(part, whole);
        MemoryTiers { lists: Lists::new(), l1, l2, protected, bias, warm: false, admission }
    }

    /// Look `key` up at `now_ms`. A hit in L1 or protected is the most
    /// recently used of its segment; a hit in probation moves to protected;
    /// an expired entry is removed. Every lookup, found or not, counts
    /// toward the key's frequency and (once L2 is half full) the hit rate
    /// the bias follows.
    pub fn lookup(&mut self, key: &str, now_ms: u64) -> Found {
        let hash = self.admission.hash(key);
        let found = match self.lists.find(hash, key) {
            None => Found::Absent,
            Some(slot) if self.lists.entry(slot).expired(now_ms) => {
                self.lists.remove(slot);
                Found::Expired
            }
            Some(slot) => {
                let value = self.lists.entry(slot).value.clone();
                match self.lists.list(slot) {
                    WINDOW => {
                        self.lists.touch(slot);
                        Found::L1(value)
                    }
                    PROBATION => {
                        self.lists.move_to(slot, PROTECTED);
                        self.fit_protected();
                        Found::L2(value)
                    }
                    _ => {
                        self.lists.touch(slot);
                        Found::L2(value)
                    }
                }
            }
        };
        self.admission.record(hash);
        if (self.warm || self.warmed()) && self.bias.record(matches!(found, Found::L1(_) | Found::L2(_))) {
            self.admission.set_period(self.bias.period());
            let (part, whole) = self.bias.protected();
            self.protected = self.l2.share(part, whole);
            self.fit_protected();
        }
        found
    }

    /// Whether L2 is half full (by entries or bytes), from now on.
    fn warmed(&mut self) -> bool {
        self.warm = self.l2_len() >= self.l2.entries / 2 || self.l2_bytes() >= self.l2.bytes / 2;
        self.warm
    }

    /// Put `entry` in memory, replacing any older copy: in place if the key
    /// is in memory, else in L1, moving what no longer fits down (through
    /// admission) or out. An entry larger than L1's byte budget is not kept.
    pub fn insert(&mut self, key: Box<str>, entry: Entry) -> Moves {
        let hash = self.admission.hash(&key);
        let found = self.lists.find(hash, &key);
        if cost(&key, &entry) > self.l1.bytes {
            if let Some(slot) = found {
                self.lists.remove(slot);
            }
            return Moves::default();
        }
        let mut moves = Moves::default();
        match found {
            Some(slot) => {
                self.lists.replace(slot, entry);
                self.fit_protected();
            }
            None => {
                self.lists.push(hash, key, entry, WINDOW);
            }
        }
        self.fit_l1(&mut moves);
        moves.dropped += self.fit_l2(None);
        moves
    }

    /// Move L1's least recently used entries down (through admission) or
    /// out until L1 is within its limits; a lone entry stays.
    fn fit_l1(&mut self, moves: &mut Moves) {
        while over(self.l1, self.lists.len(WINDOW), self.lists.bytes(WINDOW)) {
            let Some(candidate) = self.lists.lru(WINDOW) else { break };
            if self.admits(candidate) {
                self.lists.move_to(candidate, PROBATION);
                moves.demoted += 1;
                moves.dropped += self.fit_l2(Some(candidate));
            } else {
                self.lists.remove(candidate);
                moves.dropped += 1;
            }
        }
    }

    /// Drop L2's victims until L2 is within its limits; how many. `spare`,
    /// just admitted, is dropped only when nothing else is left.
    fn fit_l2(&mut self, spare: Option<u32>) -> u64 {
        let mut dropped = 0;
        while over(self.l2, self.l2_len(), self.l2_bytes()) {
            let victim = match self.victim() {
                Some(v) if Some(v) == spare && self.lists.len(PROTECTED) > 0 => self.lists.lru(PROTECTED),
                v => v,
            };
            let Some(victim) = victim else { break };
            self.lists.remove(victim);
            dropped += 1;
        }
        dropped
    }

    /// Send protected's least recently used entries back to probation until
    /// protected is within its share; a lone entry stays.
    fn fit_protected(&mut self) {
        while over(self.protected, self.lists.len(PROTECTED), self.lists.bytes(PROTECTED)) {
            let Some(slot) = self.lists.lru(PROTECTED) else { break };
            self.lists.move_to(slot, PROBATION);
        }
    }

    /// The entry L2 drops next: probation's least recently used, or
    /// protected's when probation is empty.
    fn victim(&self) -> Option<u32> {
        self.lists.lru(PROBATION).or_else(|| self.lists.lru(PROTECTED))
    }

    /// Whether L2 takes L1's `candidate`: when it has room, or when the
    /// candidate was asked for more often than L2's victim. On a tie the
    /// entry already in L2 stays: one-hit keys, a scan, cannot flush it.
    fn admits(&self, candidate: u32) -> bool {
        let fits = self.l2_len() < self.l2.entries
            && self.l2_bytes() + cost(self.lists.key(candidate), self.lists.entry(candidate)) <= self.l2.bytes;
        if fits {
            return true;
        }
        let Some(victim) = self.victim() else { return true };
        let frequency = |slot| self.admission.frequency(self.lists.hash(slot));
        frequency(candidate) > frequency(victim)
    }

    fn l2_len(&self) -> usize {
        self.lists.len(PROBATION) + self.lists.len(PROTECTED)
    }

    fn l2_bytes(&self) -> usize {
        self.lists.bytes(PROBATION) + self.lists.bytes(PROTECTED)
    }

    /// Forget `key`; whether it was in memory.
    pub fn remove(&mut self, key: &str) -> bool {
        let hash = self.admission.hash(key);
        let Some(slot) = self.lists.find(hash, key) else { return false };
        self.lists.remove(slot);
        true
    }

    /// Forget every key for which `pred` holds; how many there were.
    pub fn remove_where(&mut self, pred: &dyn Fn(&str) -> bool) -> usize {
        let keys = self.lists.keys_where(pred);
        for (hash, key) in &keys {
            if let Some(slot) = self.lists.find(*hash, key) {
                self.lists.remove(slot);
            }
        }
        keys.len()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.lists.clear();
        // Refilling is warm-up again, not a rising hit rate.
        self.warm = false;
        self.bias.forget();
    }

    /// Entries in L1 and L2.
    pub fn lens(&self) -> (usize, usize) {
        (self.lists.len(WINDOW), self.l2_len())
    }

    /// Bytes charged in L1 and L2.
    pub fn bytes(&self) -> (usize, usize) {
        (self.lists.bytes(WINDOW), self.l2_bytes())
    }

    /// Whether `key` is in memory (without touching recency).
    pub fn contains(&self, key: &str) -> bool {
        self.lists.find(self.admission.hash(key), key).is_some()
    }
}

/// Whether `len` entries of `bytes` exceed `limits` (more than one entry
/// over the byte budget: a lone entry may exceed it).
fn over(limits: TierLimits, len: usize, bytes: usize) -> bool {
    len > limits.entries || (bytes > limits.bytes && len > 1)
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

    /// Which segment holds `key`.
    fn segment(t: &MemoryTiers, key: &str) -> Option<usize> {
        t.lists.find(t.admission.hash(key), key).map(|slot| t.lists.list(slot))
    }

    #[test]
    fn a_second_hit_in_l2_protects_and_protected_overflow_goes_back_to_probation() {
        // L2 of 10 entries: protected starts at 40 %, 4 entries.
        let mut t = tiers(1, 10);
        assert_eq!(t.protected.entries, 4);
        for i in 0..11 {
            t.insert(format!("k{i}").into(), entry(b"v", 0));
        }
        assert_eq!(t.lens(), (1, 10));
        assert_eq!(segment(&t, "k0"), Some(PROBATION));
        for i in 0..5 {
            assert!(matches!(t.lookup(&format!("k{i}"), 0), Found::L2(_)));
        }
        // k0..k4 were promoted in turn; k0, the least recently used, went back.
        assert_eq!(t.lists.len(PROTECTED), 4);
        assert_eq!(segment(&t, "k0"), Some(PROBATION));
        assert_eq!(segment(&t, "k4"), Some(PROTECTED));
        assert!(matches!(t.lookup("k4", 0), Found::L2(_)), "a protected hit stays in L2");
        assert_eq!(segment(&t, "k4"), Some(PROTECTED));
        // Probation is dropped from first: k0 (back at its front) outlives
        // k5, never asked for again; the protected keys stay.
        for i in 0..5 {
            t.lookup(&format!("new{i}"), 0);
            t.lookup(&format!("new{i}"), 0);
            t.insert(format!("new{i}").into(), entry(b"v", 0));
        }
        assert!(!t.contains("k5") && t.contains("k0"));
        assert!((1..5).all(|i| segment(&t, &format!("k{i}")) == Some(PROTECTED)));
    }

    #[test]
    fn removal_reaches_every_segment_and_keeps_counts_right() {
        let mut t = tiers(2, 10);
        for i in 0..8 {
            t.insert(format!("user:{i}").into(), entry(b"vv", 0));
            t.insert(format!("other:{i}").into(), entry(b"vv", 0));
        }
        for i in 0..3 {
            t.lookup(&format!("user:{i}"), 0);
        }
        let segments: Vec<_> = (0..8).filter_map(|i| segment(&t, &format!("user:{i}"))).collect();
        assert!(segments.contains(&PROTECTED) && segments.contains(&PROBATION), "{segments:?}");
        assert!(t.lens().0 > 0);
        let before = t.lens().0 + t.lens().1;
        let removed = t.remove_where(&|k| k.starts_with("user:"));
        assert_eq!(t.lens().0 + t.lens().1, before - removed);
        assert!((0..8).all(|i| !t.contains(&format!("user:{i}"))));
        let (l1, l2) = t.lens();
        let per = 7 + 2 + ENTRY_OVERHEAD;
        assert_eq!(t.bytes(), (l1 * per, l2 * per));
        for i in 0..8 {
            t.remove(&format!("other:{i}"));
        }
        assert_eq!((t.lens(), t.bytes()), ((0, 0), (0, 0)));
    }

    #[test]
    fn l2_byte_budget_holds_across_both_segments() {
        let mut t =
            MemoryTiers::new(TierLimits { entries: 2, bytes: 10_000 }, TierLimits { entries: 100, bytes: 2000 });
        for i in 0..20 {
            let key = format!("k{i:02}");
            t.insert(key.as_str().into(), entry(&[0; 200], 0));
            t.lookup(&key, 0);
            t.lookup(&key, 0);
        }
        for i in 0..20 {
            t.lookup(&format!("k{i:02}"), 0);
        }
        assert!(t.bytes().1 <= 2000, "{:?}", t.bytes());
        assert!(t.lists.len(PROTECTED) > 0);
    }
}
