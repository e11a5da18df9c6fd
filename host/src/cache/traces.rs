//! Key traces for hit-rate benchmarks (`isaac bench`, `cargo bench --bench
//! cache`): [`Zipf`] draws rank `k` of `n` with probability proportional to
//! `1 / k^s`, by inverse CDF, from a seeded splitmix64 generator (the same
//! seed gives the same trace); [`Trace`] builds the three patterns the
//! memory tiers are judged on.

/// An access pattern over a set of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    /// Zipf, s = 0.99: a few keys are asked for most of the time.
    Zipf,
    /// The same, interrupted every 40 000 requests by a scan of 10 000 keys
    /// asked for once each (a backup, a report, a crawler).
    ZipfWithScans,
    /// Popularity that moves: the newest keys are the hottest (Zipf over
    /// distance from a head that advances one key every 10 requests), as
    /// in a feed or a log. Recency wins here.
    Recency,
}

/// Zipf requests between scans, and a scan's length.
const SCAN_EVERY: usize = 40_000;
const SCAN_LENGTH: usize = 10_000;
/// Requests per step of the recency trace's head, and the ranks its Zipf
/// draws from (a tenth of the keys).
const HEAD_STEP: usize = 10;

impl Trace {
    /// Every trace, in the order they are reported.
    pub const ALL: [Trace; 3] = [Trace::Zipf, Trace::ZipfWithScans, Trace::Recency];

    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Trace::Zipf => "Zipf 0.99",
            Trace::ZipfWithScans => "Zipf 0.99 + scans",
            Trace::Recency => "recency (moving Zipf)",
        }
    }

    /// `requests` keys of this pattern over `keys` keys (scans and the
    /// moving head reach past `keys` into keys never asked for before).
    pub fn generate(self, keys: usize, requests: usize, seed: u64) -> Vec<u64> {
        match self {
            Trace::Zipf => {
                let mut z = Zipf::new(keys, 0.99, seed);
                (0..requests).map(|_| z.next_rank() as u64).collect()
            }
            Trace::ZipfWithScans => {
                let mut z = Zipf::new(keys, 0.99, seed);
                let mut next_scanned = keys as u64;
                (0..requests)
                    .map(|i| {
                        if i % (SCAN_EVERY + SCAN_LENGTH) < SCAN_EVERY {
                            z.next_rank() as u64
                        } else {
                            next_scanned += 1;
                            next_scanned
                        }
                    })
                    .collect()
            }
            Trace::Recency => {
                let window = (keys / 10).max(1);
                let mut z = Zipf::new(window, 0.99, seed);
                (0..requests).map(|i| (window + i / HEAD_STEP - z.next_rank()) as u64).collect()
            }
        }
    }
}

/// Draws ranks `0..n` (0 the most frequent).
pub struct Zipf {
    cdf: Vec<f64>,
    state: u64,
}

impl Zipf {
    /// A generator over `n` ranks with exponent `s`.
    pub fn new(n: usize, s: f64, seed: u64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for k in 1..=n {
            total += 1.0 / (k as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf, state: seed }
    }

    /// The next rank.
    pub fn next_rank(&mut self) -> usize {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let u = (z ^ (z >> 31)) as f64 / u64::MAX as f64;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_ask_for_new_keys_once_and_the_recency_head_moves() {
        let t = Trace::ZipfWithScans.generate(1000, 100_000, 1);
        let scan = &t[SCAN_EVERY..SCAN_EVERY + SCAN_LENGTH];
        assert!(scan.windows(2).all(|w| w[1] == w[0] + 1) && scan[0] > 1000);
        assert!(t[..SCAN_EVERY].iter().all(|&k| k < 1000));
        let r = Trace::Recency.generate(1000, 100_000, 1);
        let (early, late) = (r[..1000].iter().max().unwrap(), r[99_000..].iter().min().unwrap());
        assert!(late > early, "the head moved from {early} past {late}");
    }

    #[test]
    fn low_ranks_dominate() {
        let mut z = Zipf::new(1000, 0.99, 7);
        let draws: Vec<usize> = (0..10_000).map(|_| z.next_rank()).collect();
        let top = draws.iter().filter(|&&r| r < 10).count();
        assert!(top > 3000, "{top}");
        assert!(draws.iter().all(|&r| r < 1000));
    }
}
