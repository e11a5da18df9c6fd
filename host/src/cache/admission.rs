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
//! set gains from long memory (a 100 × capacity period), a moving one
//! (a feed, the newest keys hottest) loses by it. So the period climbs,
//! as Caffeine's window does (Manes, "Adaptive Software Cache Management",
//! 2018): every `10 × capacity` requests the memory tiers' hit rate is
//! compared with the previous interval's; the period keeps moving (× or
//! ÷ 1.5, between 2 and 128 × capacity) the way that raised it and turns
//! back when it fell.

use std::hash::BuildHasher;

/// Counters per key (rows of the sketch).
const ROWS: usize = 4;
/// A counter's most (4 bits).
const MAX_COUNT: u64 = 15;
/// Odd multipliers that give each row its own index from one hash.
const SEEDS: [u64; ROWS] = [0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0xD6E8_FEB8_6659_FD93];
/// Bits set per key in the doorkeeper.
const DOOR_HASHES: usize = 3;
/// The sample period's bounds and first value, in multiples of capacity.
const PERIOD_MIN: f64 = 2.0;
const PERIOD_MAX: f64 = 128.0;
const PERIOD_START: f64 = 10.0;
/// How much one step changes the period.
const PERIOD_STEP: f64 = 1.5;
/// Requests between steps, in multiples of capacity.
const CLIMB_EVERY: usize = 10;

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
    climber: Climber,
    hasher: foldhash::fast::RandomState,
}

/// Moves the sample period the way the hit rate rises.
struct Climber {
    /// The period, in multiples of capacity.
    period: f64,
    /// +1: lengthening, -1: shortening.
    direction: f64,
    /// Requests and hits of this interval.
    requests: usize,
    hits: usize,
    /// The previous interval's hit rate.
    previous: Option<f64>,
}

impl Admission {
    /// A filter for a cache of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        // About 21 bytes per entry (16 in the sketch, 5 in the doorkeeper),
        // zeroed pages the OS maps only once touched; past 2^24 entries
        // estimates only grow coarser.
        let capacity = capacity.clamp(16, 1 << 24);
        let width = (capacity * 8).next_power_of_two();
        let sample = capacity * PERIOD_START as usize;
        // About four bits per key of a first sample: few false positives
        // even when every request of it asks for a new key.
        let door = (sample * 4).next_power_of_two();
        Admission {
            counters: vec![0; ROWS * width / 16],
            width_bits: width.trailing_zeros(),
            doorkeeper: vec![0; door / 64],
            door_bits: door.trailing_zeros(),
            additions: 0,
            sample,
            capacity,
            climber: Climber { period: PERIOD_START, direction: 1.0, requests: 0, hits: 0, previous: None },
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

    /// Count one request for the key of `hash`, and whether the memory
    /// tiers had it.
    pub fn record(&mut self, hash: u64, hit: bool) {
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
        self.climb(hit);
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

    /// Every `CLIMB_EVERY × capacity` requests, move the period one step: on, if
    /// the hit rate rose since the last interval; back, if it fell.
    fn climb(&mut self, hit: bool) {
        let c = &mut self.climber;
        c.requests += 1;
        c.hits += usize::from(hit);
        if c.requests < self.capacity * CLIMB_EVERY {
            return;
        }
        let rate = c.hits as f64 / c.requests as f64;
        if c.previous.replace(rate).is_some_and(|previous| rate < previous) {
            c.direction = -c.direction;
        }
        c.period = (c.period * PERIOD_STEP.powf(c.direction)).clamp(PERIOD_MIN, PERIOD_MAX);
        (c.requests, c.hits) = (0, 0);
        self.sample = (self.capacity as f64 * c.period) as usize;
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
        let mut a = Admission::new(1000);
        let (hot, once, never) = (a.hash("hot"), a.hash("once"), a.hash("never"));
        for _ in 0..10 {
            a.record(hot, false);
        }
        a.record(once, false);
        assert_eq!(a.frequency(never), 0);
        assert_eq!(a.frequency(once), 1, "a first request stops at the doorkeeper");
        assert!(a.frequency(hot) >= 10, "{}", a.frequency(hot));
        for _ in 0..100 {
            a.record(hot, false);
        }
        assert_eq!(a.frequency(hot), 16, "counters stop at 15, plus the doorkeeper");
        // 10 000 other requests: the sample fills, counters halve.
        for i in 0..10_000 {
            let h = a.hash(&format!("other{i}"));
            a.record(h, false);
        }
        assert!(a.frequency(hot) <= 8, "{}", a.frequency(hot));
        assert_eq!(a.frequency(once), 0, "the doorkeeper was emptied");
    }

    #[test]
    fn the_period_climbs_while_the_hit_rate_rises_and_turns_back_when_it_falls() {
        let mut a = Admission::new(100);
        let h = a.hash("k");
        // Intervals of 1000 requests with 10 %, 20 %, 30 % hits, then 10 %.
        let interval = |a: &mut Admission, hits: usize| {
            for i in 0..1000 {
                a.record(h, i < hits);
            }
            a.climber.period
        };
        assert_eq!(interval(&mut a, 100), 15.0, "the first step lengthens");
        assert_eq!(interval(&mut a, 200), 22.5, "better: on");
        assert_eq!(interval(&mut a, 300), 33.75);
        assert_eq!(interval(&mut a, 100), 22.5, "worse: back");
        assert_eq!(interval(&mut a, 50), 33.75, "worse again: turn again");
        assert_eq!(a.sample, 3375);
        for _ in 0..40 {
            interval(&mut a, 100);
        }
        assert!((PERIOD_MIN..=PERIOD_MAX).contains(&a.climber.period));
    }

    #[test]
    fn estimates_hold_among_many_keys() {
        let mut a = Admission::new(1000);
        let keys: Vec<u64> = (0..500).map(|i| a.hash(&format!("k{i}"))).collect();
        for (i, &h) in keys.iter().enumerate() {
            for _ in 0..(i % 4) {
                a.record(h, false);
            }
        }
        let wrong = keys.iter().enumerate().filter(|&(i, &h)| a.frequency(h) != (i % 4) as u64).count();
        assert!(wrong < 25, "{wrong} of 500 estimates are off");
    }
}
