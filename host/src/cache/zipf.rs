//! A Zipf-distributed key trace, for hit-rate benchmarks (`isaac bench`,
//! `cargo bench --bench cache`): rank `k` of `n` is drawn with probability
//! proportional to `1 / k^s`, by inverse CDF, from a seeded splitmix64
//! generator (the same seed gives the same trace).

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
    fn low_ranks_dominate() {
        let mut z = Zipf::new(1000, 0.99, 7);
        let draws: Vec<usize> = (0..10_000).map(|_| z.next_rank()).collect();
        let top = draws.iter().filter(|&&r| r < 10).count();
        assert!(top > 3000, "{top}");
        assert!(draws.iter().all(|&r| r < 1000));
    }
}
