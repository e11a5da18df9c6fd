//! Performance monitoring: every `isaac` process (but `isaac stats`) records
//! one small line about itself in the home's LMDB environment, and
//! `isaac stats` shows totals and trends. History is bounded
//! (`[metrics] history`, default 1000 lines; the oldest go first).
//!
//! Memory figures come from the OS (`/proc/self/status`: `VmRSS` now,
//! `VmHWM` the peak, or `getrusage` when it can only be this program's), so
//! they count everything the process maps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::state::{State, StateError};

/// One process's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// When it ended, ms since the Unix epoch.
    pub at_ms: u64,
    /// The subcommand, e.g. `run hello`.
    pub command: String,
    /// From process start until the command's real work began (the plugin
    /// call, for `run`), in ms.
    pub startup_ms: f64,
    /// Time spent loading plugins, in ms.
    pub load_ms: f64,
    /// Wall time of the whole process, in ms.
    pub total_ms: f64,
    /// Plugins loaded.
    pub plugins_loaded: u64,
    /// Cache hits (explicit gets).
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// AI requests sent.
    pub ai_requests: u64,
    /// AI tokens, in and out.
    pub ai_tokens: u64,
    /// AI dollars spent.
    pub ai_cost: f64,
    /// AI dollars saved by the response cache.
    pub ai_cost_saved: f64,
    /// Peak resident memory, in KiB.
    pub peak_rss_kb: u64,
    /// Compiled functions reused from the function cache (Cranelift).
    #[serde(default)]
    pub functions_reused: u64,
    /// Functions compiled afresh (and stored in it).
    #[serde(default)]
    pub functions_compiled: u64,
    /// Function cache entries that failed their check (deleted).
    #[serde(default)]
    pub functions_rejected: u64,
}

impl RunRecord {
    /// Note what this process's function caches did.
    pub fn note_functions(&mut self) {
        let counts = crate::functions::process_counts();
        self.functions_reused = counts.reused;
        self.functions_compiled = counts.compiled;
        self.functions_rejected = counts.rejected;
    }
}

/// When this process started, and the peak resident size `getrusage`
/// reported then.
struct Start {
    at: Instant,
    maxrss_kb: Option<u64>,
}

static START: OnceLock<Start> = OnceLock::new();

/// Whether [`reset_peak_rss`] has been called (`getrusage` cannot be reset).
static PEAK_RESET: AtomicBool = AtomicBool::new(false);

/// When this process started (the first call fixes it: call it first thing
/// in `main`).
pub fn process_start() -> Instant {
    START.get_or_init(|| Start { at: Instant::now(), maxrss_kb: rusage_maxrss_kb() }).at
}

/// `getrusage`'s peak resident size, in KiB (Linux). After `exec` it is the
/// larger of this program's peak and the peak of the image the process ran
/// before `exec` (a copy of the parent after `fork`, or its own earlier
/// program).
fn rusage_maxrss_kb() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    // SAFETY: `rusage` is plain integers: all zeroes is a value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `getrusage` writes only the struct it is given.
    let done = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0;
    done.then_some(usage.ru_maxrss as u64)
}

fn status_kb(field: &str) -> Option<u64> {
    use std::io::Read;
    // Read at once: a procfs file reports no size, so `fs::read_to_string`
    // would `stat` it and then read it in small, growing pieces.
    let mut status = String::with_capacity(4096);
    std::fs::File::open("/proc/self/status").ok()?.read_to_string(&mut status).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Resident memory now, in KiB (Linux).
pub fn current_rss_kb() -> Option<u64> {
    status_kb("VmRSS:")
}

/// Peak resident memory, in KiB (Linux).
///
/// When `getrusage`'s peak has grown since the process started, it is this
/// program's own: one system call, where `/proc/self/status` takes ~30 µs
/// to format. Otherwise the peak may still be the parent's, and `VmHWM`
/// says what this program's is.
pub fn peak_rss_kb() -> Option<u64> {
    let at_start = START.get().and_then(|start| start.maxrss_kb);
    if !PEAK_RESET.load(Ordering::Relaxed)
        && let (Some(at_start), Some(now)) = (at_start, rusage_maxrss_kb())
        && now > at_start
    {
        return Some(now);
    }
    status_kb("VmHWM:")
}

/// Start measuring the peak anew (Linux: `clear_refs` 5); whether it worked.
pub fn reset_peak_rss() -> bool {
    PEAK_RESET.store(true, Ordering::Relaxed);
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The bounded history of run records.
pub struct History {
    state: Arc<State>,
}

impl History {
    /// The history in `state`.
    pub fn new(state: Arc<State>) -> Self {
        History { state }
    }

    /// Append `record`, keeping at most `keep` records.
    pub fn record(&self, record: &RunRecord, keep: usize) -> Result<(), StateError> {
        let err = |e| self.state.error(e);
        let key = format!("{:020}-{:010}", record.at_ms, std::process::id());
        let json = serde_json::to_vec(record).expect("records serialize");
        let mut txn = self.state.env().write_txn().map_err(err)?;
        let db = self.state.metrics;
        db.put(&mut txn, &key, &json).map_err(err)?;
        let excess = usize::try_from(db.len(&txn).map_err(err)?).unwrap_or(usize::MAX).saturating_sub(keep);
        for _ in 0..excess {
            let Some((oldest, _)) = db.first(&txn).map_err(err)? else { break };
            let oldest = oldest.to_owned();
            db.delete(&mut txn, &oldest).map_err(err)?;
        }
        txn.commit().map_err(err)
    }

    /// Every record, oldest first.
    pub fn list(&self) -> Result<Vec<RunRecord>, StateError> {
        let err = |e| self.state.error(e);
        let txn = self.state.env().read_txn().map_err(err)?;
        let mut out = Vec::new();
        for item in self.state.metrics.iter(&txn).map_err(err)? {
            let (_, raw) = item.map_err(err)?;
            if let Ok(record) = serde_json::from_slice(raw) {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Forget every record.
    pub fn clear(&self) -> Result<(), StateError> {
        let err = |e| self.state.error(e);
        let mut txn = self.state.env().write_txn().map_err(err)?;
        self.state.metrics.clear(&mut txn).map_err(err)?;
        txn.commit().map_err(err)
    }
}

/// A sparkline of `values` (`▁▂▃▄▅▆▇█`), scaled between their minimum and
/// maximum.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    values
        .iter()
        .map(|v| {
            let t = if max > min { (v - min) / (max - min) } else { 0.0 };
            BARS[((t * 7.0).round() as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_ordered() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(State::open(dir.path(), 64).unwrap());
        for i in 0..5 {
            history
                .record(&RunRecord { at_ms: 1000 + i, command: format!("c{i}"), ..RunRecord::default() }, 3)
                .unwrap();
        }
        let names: Vec<String> = history.list().unwrap().into_iter().map(|r| r.command).collect();
        assert_eq!(names, ["c2", "c3", "c4"]);
        history.clear().unwrap();
        assert!(history.list().unwrap().is_empty());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_peak_counts_what_this_process_touched() {
        process_start();
        let ballast = vec![1u8; 64 << 20];
        std::hint::black_box(&ballast);
        let peak = peak_rss_kb().unwrap();
        // VmHWM, read after, is at least as high whichever way it was read.
        let hwm = status_kb("VmHWM:").unwrap();
        assert!(peak >= 64 << 10 && peak <= hwm, "peak {peak} KiB, VmHWM {hwm} KiB");
    }

    #[test]
    fn sparklines_and_memory() {
        assert_eq!(sparkline(&[1.0, 8.0, 4.5]), "▁█▅");
        assert_eq!(sparkline(&[2.0, 2.0]), "▁▁");
        if cfg!(target_os = "linux") {
            assert!(peak_rss_kb().unwrap() >= current_rss_kb().unwrap() / 2);
        }
    }
}
