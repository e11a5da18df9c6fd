//! How far the memory tiers lean to frequency over recency: one level,
//! moved by a hill climber on the hit rate, as Caffeine moves its window
//! (Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache
//! Management", Middleware 2018), here setting two things at once:
//!
//! - how long the admission sketch remembers (its sample period, after
//!   which every count halves): from 2 × capacity requests at the recency
//!   end to 128 × capacity at the frequency end, doubling each step;
//! - how much of L2 protected may hold: from none (L2 a plain LRU behind
//!   the filter) to 80 % (Caffeine's split), evenly between.
//!
//! A stable popular set (Zipf, Zipf with scans) gains from long memory and
//! a large protected segment; popularity that moves (a feed, the newest
//! keys hottest) loses by both, as keys popular once outweigh new ones.
//! On each such trace the best period and the best share lie at the same
//! end, so one level moves both: two climbers, one per parameter, each
//! took the other's moves for changes in the workload and pulled against
//! it.
//!
//! The level starts in the middle (a 16 × capacity period, 40 %
//! protected). The climber counts lookups once L2 is half full (Caffeine
//! sizes its sketch and starts climbing there; before, a rising hit rate
//! only says the cache is filling). Every interval it compares the hit
//! rate with the previous interval's: a change within `SIGNIFICANT`
//! standard errors is noise and moves nothing; a larger one moves the
//! level one step, on the same way if the rate rose, back if it fell. The
//! first interval only measures, and the first move follows the trend at
//! the middle level: a hit rate rising while nothing changes is the sketch
//! learning a stable popular set (lean to frequency), one falling is
//! popularity moving away from what the sketch remembers (lean to
//! recency). An interval is `INTERVAL` × capacity lookups, for the tiers
//! to turn over between measurements and a move to show; once the level
//! has moved, at least `MIN_INTERVAL` too, so that noise (about 0.6
//! points there) rarely moves a settled level. Before, short intervals let
//! the warm-up trend, steep and brief in a small cache, set the first
//! move.

/// Steps from the recency end (0) to the frequency end.
const STEPS: u32 = 6;
/// The sketch's period at the recency end, in multiples of capacity; it
/// doubles each step (128 at the frequency end).
const MIN_PERIOD: usize = 2;
/// Protected's share of L2 at the frequency end, in percent.
const MAX_PROTECTED_PERCENT: usize = 80;
/// Lookups per interval: this many times the tiers' capacity, and, once
/// the level has moved, at least `MIN_INTERVAL`.
const INTERVAL: usize = 5;
const MIN_INTERVAL: usize = 50_000;
/// Standard errors a change must exceed to move the level.
const SIGNIFICANT: f64 = 2.0;

/// The level and its climber.
pub struct Bias {
    /// Steps from the recency end, 0 to `STEPS`.
    steps: u32,
    /// Whether the next move is toward frequency.
    up: bool,
    /// Lookups per interval: `INTERVAL` × capacity until the level first
    /// moves, then at least `MIN_INTERVAL`.
    interval: usize,
    /// This interval's lookups and hits.
    lookups: usize,
    hits: usize,
    /// The previous interval's hit rate and lookups.
    previous: Option<(f64, usize)>,
}

impl Bias {
    /// The middle level, for tiers holding `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Bias {
            steps: STEPS / 2,
            up: true,
            interval: capacity.saturating_mul(INTERVAL).max(1),
            lookups: 0,
            hits: 0,
            previous: None,
        }
    }

    /// The admission sketch's sample period, in multiples of capacity.
    pub fn period(&self) -> usize {
        MIN_PERIOD << self.steps
    }

    /// Protected's share of L2, as a fraction `(part, whole)`.
    pub fn protected(&self) -> (usize, usize) {
        (MAX_PROTECTED_PERCENT * self.steps as usize, 100 * STEPS as usize)
    }

    /// Forget the lookups counted (the tiers were emptied: filling them
    /// again is not a change of workload); the level stays.
    pub fn forget(&mut self) {
        (self.lookups, self.hits, self.previous) = (0, 0, None);
    }

    /// Count one lookup and whether it hit; whether the level moved (at
    /// the end of an interval).
    pub fn record(&mut self, hit: bool) -> bool {
        self.lookups += 1;
        self.hits += usize::from(hit);
        if self.lookups < self.interval {
            return false;
        }
        let (rate, lookups) = (self.hits as f64 / self.lookups as f64, self.lookups);
        (self.lookups, self.hits) = (0, 0);
        let Some((previous, before)) = self.previous.replace((rate, lookups)) else { return false };
        // A rate of exactly 0 or 1 has no spread of its own: then the two
        // intervals' pooled rate gives it.
        let pooled = (rate * lookups as f64 + previous * before as f64) / (lookups + before) as f64;
        let spread = if rate > 0.0 && rate < 1.0 { rate * (1.0 - rate) } else { pooled * (1.0 - pooled) };
        let noise = SIGNIFICANT * (spread * (1.0 / lookups as f64 + 1.0 / before as f64)).sqrt();
        if (rate - previous).abs() <= noise {
            return false;
        }
        if rate < previous {
            self.up = !self.up;
        }
        let before = self.steps;
        self.steps = if self.up { (self.steps + 1).min(STEPS) } else { self.steps.saturating_sub(1) };
        self.interval = self.interval.max(MIN_INTERVAL);
        self.steps != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One interval, `percent` of its lookups hits; whether the level moved.
    fn interval(b: &mut Bias, percent: f64) -> bool {
        let n = b.interval;
        let hits = (percent / 100.0 * n as f64) as usize;
        (0..n).map(|i| b.record(i < hits)).last().unwrap_or(false)
    }

    #[test]
    fn the_level_follows_the_trend_then_moves_on_while_the_hit_rate_rises_and_turns_when_it_falls() {
        let mut b = Bias::new(1000);
        assert_eq!((b.steps, b.period(), b.protected(), b.interval), (3, 16, (240, 600), 5000));
        assert!(!interval(&mut b, 50.0), "the first interval only measures");
        assert!(!interval(&mut b, 50.3), "0.3 points in 5000 lookups is noise");
        assert!(interval(&mut b, 45.0), "falling at a standstill: toward recency");
        assert_eq!((b.period(), b.interval), (8, MIN_INTERVAL));
        assert!(interval(&mut b, 55.0), "better: on");
        assert!(interval(&mut b, 60.0));
        assert!(!interval(&mut b, 65.0), "already at the recency end");
        assert_eq!((b.steps, b.period(), b.protected().0), (0, 2, 0));
        assert!(interval(&mut b, 60.0), "worse: back");
        assert_eq!(b.period(), 4);
        assert!(!interval(&mut b, 60.4), "0.4 points in 50 000 lookups is noise");
        for percent in [10.0, 90.0].into_iter().cycle().take(40) {
            interval(&mut b, percent);
        }
        assert!(b.steps <= STEPS && b.period() <= 128);
    }
}
