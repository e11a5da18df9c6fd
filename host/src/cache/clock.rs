//! Time for TTLs and freshness checks, injectable so tests move it by hand
//! instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Milliseconds since the Unix epoch. Expiry times are stored in L3 and read
/// by other processes, so they are wall-clock times.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock, read at the kernel's tick (Linux's
/// `CLOCK_REALTIME_COARSE`: 1 to 4 ms, 4 ms on the machine isaac is
/// measured on), so a TTL holds to within a tick. Every cache get reads the
/// clock: the coarse clock costs a few nanoseconds where the precise one
/// cost ~50 of a memory hit's ~175 ns there (`perf`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        u64::try_from(i128::from(now.tv_sec) * 1000 + i128::from(now.tv_nsec) / 1_000_000).unwrap_or(0)
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct MockClock {
    now: AtomicU64,
}

impl MockClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        MockClock { now: AtomicU64::new(start_ms) }
    }

    /// Move the clock forward.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
