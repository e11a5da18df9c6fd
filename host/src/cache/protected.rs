//! How much of L2 is protected: a hill climber, after the one Caffeine
//! uses for its window (Einziger, Eytan, Friedman and Manes, "Adapting
//! TinyLFU to Recency-biased Workloads", 2018), moving the split of L2
//! between probation and protected instead.
//!
//! A large protected segment keeps entries asked for twice or more through
//! bursts of new keys: right for a stable popular set (Zipf, scans). On a
//! moving one (a feed, the newest keys hottest) it holds keys that were
//! popular once and leaves new ones little room: there a small protected
//! segment, L2 close to a plain LRU behind the admission filter, does
//! better. So every `capacity` lookups (one interval) the memory hit rate
//! is compared with the previous interval's; if it moved by more than
//! `SIGNIFICANT` standard errors, the share moves one step, on in the same
//! direction if the rate rose, back if it fell. Smaller changes are noise
//! and move nothing. Steps shrink by `DECAY` each move, so the share
//! settles, and start again at full size when the rate jumps by `RESTART`
//! (the workload changed).

/// The first share, and the most, in percent of L2's entries (the most is
/// Caffeine's fixed split).
const START_PERCENT: usize = 40;
const MAX_PERCENT: usize = 80;
/// A full step, in percent of L2's entries.
const STEP_PERCENT: f64 = 20.0;
/// What a step is multiplied by after each move.
const DECAY: f64 = 0.98;
/// A change in hit rate this large restarts the steps at full size.
const RESTART: f64 = 0.05;
/// Standard errors a change must exceed to move the share.
const SIGNIFICANT: f64 = 2.0;

/// Moves protected's share of L2.
pub struct ProtectedShare {
    /// L2's entries: the interval, and what the share is of.
    capacity: usize,
    /// Protected's most entries now, and its bound.
    entries: f64,
    max: f64,
    /// The next move, in entries (its sign is its direction).
    step: f64,
    /// This interval's lookups and hits.
    lookups: usize,
    hits: usize,
    /// The previous interval's hit rate.
    previous: Option<f64>,
}

impl ProtectedShare {
    /// The share of an L2 of `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        ProtectedShare {
            capacity,
            entries: (capacity / 100 * START_PERCENT + capacity % 100 * START_PERCENT / 100) as f64,
            max: (capacity / 100 * MAX_PERCENT + capacity % 100 * MAX_PERCENT / 100) as f64,
            step: Self::full_step(capacity),
            lookups: 0,
            hits: 0,
            previous: None,
        }
    }

    fn full_step(capacity: usize) -> f64 {
        STEP_PERCENT / 100.0 * capacity as f64
    }

    /// The entries the share is of (L2's).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Protected's most entries now.
    pub fn entries(&self) -> usize {
        self.entries as usize
    }

    /// Count one lookup and whether it hit; at the end of an interval
    /// where the share moved, its new size in entries.
    pub fn record(&mut self, hit: bool) -> Option<usize> {
        self.lookups += 1;
        self.hits += usize::from(hit);
        if self.lookups < self.capacity {
            return None;
        }
        let rate = self.hits as f64 / self.lookups as f64;
        let noise = SIGNIFICANT * (2.0 * rate * (1.0 - rate) / self.lookups as f64).sqrt();
        (self.lookups, self.hits) = (0, 0);
        let change = rate - self.previous.replace(rate)?;
        if change.abs() <= noise {
            return None;
        }
        let step = if change > 0.0 { self.step } else { -self.step };
        self.step = if change.abs() >= RESTART { Self::full_step(self.capacity).copysign(step) } else { step * DECAY };
        let before = self.entries();
        self.entries = (self.entries + step).clamp(0.0, self.max);
        (self.entries() != before).then_some(self.entries())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One interval of 10 000 lookups, `percent` of them hits.
    fn interval(s: &mut ProtectedShare, percent: f64) -> Option<usize> {
        let hits = (percent * 100.0) as usize;
        (0..10_000).map(|i| s.record(i < hits)).last().flatten()
    }

    #[test]
    fn the_share_moves_on_while_the_hit_rate_rises_turns_when_it_falls_and_ignores_noise() {
        let mut s = ProtectedShare::new(10_000);
        assert_eq!(s.entries(), 4000);
        assert_eq!(interval(&mut s, 50.0), None, "the first interval only measures");
        assert_eq!(interval(&mut s, 60.0), Some(6000), "10 points better: a full step on");
        assert_eq!(interval(&mut s, 60.5), None, "half a point in 10 000 lookups is noise");
        assert_eq!(interval(&mut s, 68.0), Some(8000), "better: on, to the most");
        assert_eq!(interval(&mut s, 65.0), Some(6000), "3 points worse: back");
        assert_eq!(interval(&mut s, 68.0), Some(4040), "better: on the same way, by a decayed step");
        assert_eq!(interval(&mut s, 70.0), Some(2119));
        for percent in [10.0, 90.0].into_iter().cycle().take(40) {
            interval(&mut s, percent);
        }
        assert!(s.entries() <= 8000, "{}", s.entries());
    }
}
