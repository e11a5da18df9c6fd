//! The run record of this process: what it loaded and how long start-up
//! took, noted as it goes, and saved with the cache's statistics by
//! [`Host::finish`] (`isaac stats`).

use super::Host;
use crate::metrics::{self, RunRecord};

impl Host {
    /// Note something in this process's run record.
    pub(super) fn note(&self, f: impl FnOnce(&mut RunRecord)) {
        f(&mut self.record.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Finish: record this process in the run history as `label` (`isaac
    /// stats`) and save the cache's pending statistics. Called on every exit
    /// path of a command that opened a host, a failed one included.
    pub fn finish(&self, label: &str) {
        let mut record = std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()));
        record.command = label.to_owned();
        record.at_ms = crate::cache::clock::Clock::now_ms(&crate::cache::clock::SystemClock);
        record.total_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        if let Some(cache) = self.cache.get() {
            let counters = cache.pending_counters();
            record.cache_hits = counters.hits();
            record.cache_misses = counters.misses;
        }
        if let Some(router) = self.ai.get() {
            use std::sync::atomic::Ordering::Relaxed;
            let t = router.tally();
            record.ai_requests = t.requests.load(Relaxed);
            record.ai_tokens = t.tokens.load(Relaxed);
            record.ai_cost = t.cost_nusd.load(Relaxed) as f64 / 1e9;
            record.ai_cost_saved = t.saved_nusd.load(Relaxed) as f64 / 1e9;
        }
        record.note_functions();
        record.peak_rss_kb = metrics::peak_rss_kb().unwrap_or(0);
        if let Err(e) = self.history.record(&record, self.settings.history()) {
            tracing::debug!("run not recorded: {}", crate::error::OneLine(&e));
        }
        if let Some(Err(e)) = self.cache.get().map(|cache| cache.flush()) {
            tracing::warn!("cache statistics were not saved: {}", crate::error::OneLine(&e));
        }
    }
}
