//! TinyLFU admission for the memory tiers (Einziger, Friedman and Manes,
//! "TinyLFU: A Highly Efficient Cache Admission Policy", 2017): a
//! count-min sketch of 4-bit counters estimates how often each key was
//! asked for lately; a doorkeeper (a Bloom filter) takes a key's first
//! request so that keys asked for once never reach the sketch; every
//! sample period all counters halve and the doorkeeper empties, so old
//! popularity fades. L1 stays a plain LRU (the window every new entry
//! enters); an entry leaving it enters L2 only if it is asked for more
//! often than the entry L2 would evict for it.
//!
//! How long popularity should last depends on the workload: a stable Zipf
//! set gains from long memory, a moving one (a feed, the newest keys
//! hottest) loses by it. The period is set from outside
//! ([`Bias`](super::bias::Bias) moves it with the hit rate).

use std::hash::BuildHasher;

/// Counters per key (rows of the sketch).
const ROWS: usize = 4;
/// A counter's most (4 bits).
const MAX_COUNT: u64 = 15;
/// Odd multipliers that give each row its own index from one hash.
const SEEDS: [u64; ROWS] = [0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0xD6E8_FEB8_6659_FD93];
/// Bits set per key in the doorkeeper.
const DOOR_HASHES: usize = 3;
/// The sample the doorkeeper is sized for, in multiples of capacity
/// (Caffeine's period).
const DOOR_SAMPLE: usize = 10;

/// How often keys were asked for lately, in a few bits per key.
pub struct Admission {
    /// `ROWS` rows of `width` 4-bit counters, 16 to a word.
    counters: Vec<u64>,
    /// log2 of the counters per row.
    width_bits: u32,
    doorkeeper: Vec<u64>,
    door_bits: u32,
    /// Requests counted since the last halving.
    additions: usize,
    /// Requests between halvings.
    sample: usize,
    capacity: usize,
    hasher: foldhash::fast::RandomState,
}

impl Admission {
    /// A filter for a cache of `capacity` entries whose counts halve every
    /// `period` × capacity requests.
    pub fn new(capacity: usize, period: usize) -> Self {
        // About 21 bytes per entry (16 in the sketch, 5 in the doorkeeper),
        // zeroed pages the OS maps only once touched; past 2^24 entries
        // estimates only grow coarser.
        let capacity = capacity.clamp(16, 1 << 24);
        let width = (capacity * 8).next_power_of_two();
        // About four bits per key of a sample of 10 × capacity requests:
        // few false positives then even when every request asks for a new
        // key. Over the longer periods the bias may choose (up to 128 ×)
        // a stream of new keys fills it, and more keys seen once reach the
        // sketch; sized for those it would take 13 times the memory.
        let door = (capacity * DOOR_SAMPLE * 4).next_power_of_two();
        Admission {
            counters: vec![0; ROWS * width / 16],
            width_bits: width.trailing_zeros(),
            doorkeeper: vec![0; door / 64],
            door_bits: door.trailing_zeros(),
            additions: 0,
            sample: capacity.saturating_mul(period),
            capacity,
            // Seeded at random per process, so a plugin cannot pick keys
            // that collide with another's to steal its place.
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The hash [`record`](Self::record) and [`frequency`](Self::frequency) take.
    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The word and shift of `hash`'s counter in `row`.
    fn slot(&self, hash: u64, row: usize) -> (usize, u32) {
        let index = (hash.wrapping_mul(SEEDS[row]) >> (64 - self.width_bits)) as usize;
        let at = (row << self.width_bits) + index;
        (at / 16, (at % 16) as u32 * 4)
    }

    fn door_bit(&self, hash: u64, i: usize) -> (usize, u64) {
        let bit = (hash.rotate_left(11 + 21 * i as u32).wrapping_mul(SEEDS[i]) >> (64 - self.door_bits)) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    fn at_door(&self, hash: u64) -> bool {
        (0..DOOR_HASHES).all(|i| {
            let (word, mask) = self.door_bit(hash, i);
            self.doorkeeper[word] & mask != 0
        })
    }

    /// Count one request for the key of `hash`.
    pub fn record(&mut self, hash: u64) {
        if !self.at_door(hash) {
            for i in 0..DOOR_HASHES {
                let (word, mask) = self.door_bit(hash, i);
                self.doorkeeper[word] |= mask;
            }
        } else {
            for row in 0..ROWS {
                let (word, shift) = self.slot(hash, row);
                if (self.counters[word] >> shift) & MAX_COUNT < MAX_COUNT {
                    self.counters[word] += 1 << shift;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample {
            self.age();
        }
    }

    /// Halve the counts every `period` × capacity requests from now on.
    pub fn set_period(&mut self, period: usize) {
        self.sample = self.capacity.saturating_mul(period);
    }

    /// About how often the key of `hash` was asked for lately (0 to 16).
    pub fn frequency(&self, hash: u64) -> u64 {
        let counted = (0..ROWS)
            .map(|row| {
                let (word, shift) = self.slot(hash, row);
                (self.counters[word] >> shift) & MAX_COUNT
            })
            .min()
            .unwrap_or(0);
        counted + u64::from(self.at_door(hash))
    }

    /// Halve every counter and empty the doorkeeper.
    fn age(&mut self) {
        for word in &mut self.counters {
            *word = (*word >> 1) & 0x7777_7777_7777_7777;
        }
        self.doorkeeper.fill(0);
        self.additions /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_asked_for_and_forgets_with_time() {
        let mut a = Admission::new(1000, 10);
        let (hot, once, never) = (a.hash("hot"), a.hash("once"), a.hash("never"));
        for _ in 0..10 {
            a.record(hot);
        }
        a.record(once);
        assert_eq!(a.frequency(never), 0);
        assert_eq!(a.frequency(once), 1, "a first request stops at the doorkeeper");
        assert!(a.frequency(hot) >= 10, "{}", a.frequency(hot));
        for _ in 0..100 {
            a.record(hot);
        }
        assert_eq!(a.frequency(hot), 16, "counters stop at 15, plus the doorkeeper");
        // 10 000 other requests: the sample fills, counters halve.
        for i in 0..10_000 {
            let h = a.hash(&format!("other{i}"));
            a.record(h);
        }
        assert!(a.frequency(hot) <= 8, "{}", a.frequency(hot));
        assert_eq!(a.frequency(once), 0, "the doorkeeper was emptied");
    }

    #[test]
    fn a_shorter_period_forgets_sooner() {
        let mut a = Admission::new(100, 128);
        let (hot, other) = (a.hash("hot"), a.hash("other"));
        for _ in 0..9 {
            a.record(hot);
        }
        for _ in 0..1000 {
            a.record(other);
        }
        assert_eq!(a.frequency(hot), 9, "1009 requests of a 12 800 sample: nothing halved");
        a.set_period(2);
        a.record(other);
        assert_eq!(a.frequency(hot), 4, "past the new 200-request sample: halved at once");
    }

    #[test]
    fn estimates_hold_among_many_keys() {
        let mut a = Admission::new(1000, 10);
        let keys: Vec<u64> = (0..500).map(|i| a.hash(&format!("k{i}"))).collect();
        for (i, &h) in keys.iter().enumerate() {
            for _ in 0..(i % 4) {
                a.record(h);
            }
        }
        let wrong = keys.iter().enumerate().filter(|&(i, &h)| a.frequency(h) != (i % 4) as u64).count();
        assert!(wrong < 25, "{wrong} of 500 estimates are off");
    }
}
