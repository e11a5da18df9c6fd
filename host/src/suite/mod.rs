//! `isaac bench`: the seed system's benchmark suite, run against isaac on
//! this machine with no network. Five targets (command routing, async AI,
//! plugin loading, the multi-level cache, start-up) plus memory and tiered
//! compilation; each figure is judged against the seed's target and against
//! isaac's own (stricter) target from DESIGN.md and the issues.

mod floor;
mod judge;
mod phases;
pub mod policies;
mod tiering;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

#[cfg(feature = "testing")]
pub use phases::distinct;
pub use phases::run;

/// How big a run is.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The folder of the `hello` example plugin (plugin.toml + hello.wasm).
    pub plugin: PathBuf,
    /// The `isaac` binary, for the start-up phase.
    pub isaac: PathBuf,
    /// Plugins installed for loading and start-up.
    pub plugins: usize,
    /// Simulated AI latency.
    pub ai_latency: Duration,
    /// Dispatches timed in the routing phase.
    pub dispatches: usize,
    /// Requests of the Zipf trace.
    pub zipf_requests: usize,
    /// Warm `isaac run` processes timed.
    pub startup_runs: usize,
    /// The big plugin of the tiering phase (greet-py).
    pub tiered_plugin: PathBuf,
    /// The CPU-bound plugin of the tiering phase (primes).
    pub cpu_plugin: PathBuf,
    /// A second plugin in the big plugin's language (fetch-py), installed
    /// once the big one's optimised code is in use: with the function
    /// cache and without it.
    pub second_plugin: PathBuf,
    /// A JavaScript plugin (greet-js), installed until its optimised code
    /// is in use, for the function cache's second JavaScript plugin.
    pub js_plugin: PathBuf,
    /// The second JavaScript plugin (wordfreq-js), installed once the
    /// first one's optimised code is in use: with the function cache and
    /// without it.
    pub second_js_plugin: PathBuf,
    /// Whether the tiering phase measures Cranelift-only adds, the
    /// background compile and the function cache too (minutes of
    /// compiling), or only the Winch-first adds and their code.
    pub tiering_in_full: bool,
    /// Its argument: count the primes below this.
    pub primes_below: u64,
    /// Winch-first add-and-run cycles of the big plugin (Cranelift only: up to 3).
    pub tiering_cycles: usize,
}

impl SuiteOptions {
    /// The full suite: 50 plugins, 2 s AI latency, 10 add-and-run cycles
    /// of the big plugin. The plugins of the tiering phase are the example
    /// plugins greet-py, primes, fetch-py, greet-js and wordfreq-js beside
    /// `plugin`'s folder.
    pub fn full(plugin: PathBuf, isaac: PathBuf) -> Self {
        let beside = |name: &str| plugin.parent().map_or_else(|| PathBuf::from(name), |dir| dir.join(name));
        SuiteOptions {
            tiered_plugin: beside("greet-py"),
            cpu_plugin: beside("primes"),
            second_plugin: beside("fetch-py"),
            js_plugin: beside("greet-js"),
            second_js_plugin: beside("wordfreq-js"),
            tiering_in_full: true,
            primes_below: 3_000_000,
            tiering_cycles: 10,
            plugin,
            isaac,
            plugins: 50,
            ai_latency: Duration::from_secs(2),
            dispatches: 5_000,
            zipf_requests: 1_000_000,
            startup_runs: 20,
        }
    }

    /// `--quick`: 10 plugins, 200 ms AI latency, fewer dispatches, a
    /// 200 000-request trace, 10 start-up runs, 2 Winch-first add-and-run
    /// cycles (no Cranelift-only adds, background compile or function
    /// cache) and primes below 1 000 000.
    pub fn quick(plugin: PathBuf, isaac: PathBuf) -> Self {
        SuiteOptions {
            plugins: 10,
            ai_latency: Duration::from_millis(200),
            dispatches: 1_000,
            zipf_requests: 200_000,
            startup_runs: 10,
            primes_below: 1_000_000,
            tiering_cycles: 2,
            tiering_in_full: false,
            ..Self::full(plugin, isaac)
        }
    }
}

/// A figure's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Met.
    Pass,
    /// Missed.
    Fail,
    /// The target does not apply here; why.
    NotApplicable(String),
}

impl Verdict {
    fn of(ok: bool) -> Self {
        if ok { Verdict::Pass } else { Verdict::Fail }
    }

    /// Whether it counts against the run.
    pub fn failed(&self) -> bool {
        *self == Verdict::Fail
    }

    /// `PASS`, `FAIL` or `n/a`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable(_) => "n/a",
        }
    }
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// The phase: routing, ai, loading, cache, startup, memory.
    pub phase: &'static str,
    /// What was measured.
    pub name: String,
    /// The value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// The seed's target, as text; empty when it set none.
    pub seed_target: String,
    /// The seed target's verdict.
    pub seed: Verdict,
    /// isaac's target (DESIGN.md), as text; empty when none.
    pub isaac_target: String,
    /// isaac's target's verdict.
    pub isaac: Verdict,
}

impl Figure {
    fn info(phase: &'static str, name: &str, value: f64, unit: &'static str) -> Self {
        Figure {
            phase,
            name: name.to_owned(),
            value,
            unit,
            seed_target: String::new(),
            seed: Verdict::NotApplicable("no target".into()),
            isaac_target: String::new(),
            isaac: Verdict::NotApplicable("no target".into()),
        }
    }

    fn seed(mut self, target: &str, verdict: Verdict) -> Self {
        self.seed_target = target.to_owned();
        self.seed = verdict;
        self
    }

    fn isaac(mut self, target: &str, ok: bool) -> Self {
        self.isaac_target = target.to_owned();
        self.isaac = Verdict::of(ok);
        self
    }
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Cores of this machine.
    pub cores: usize,
    /// Plugins used for loading and start-up.
    pub plugins: usize,
    /// The simulated AI latency, in ms.
    pub ai_latency_ms: f64,
    /// Every figure, in phase order.
    pub figures: Vec<Figure>,
    /// What was not measured, and why.
    pub notes: Vec<String>,
    /// Whether every applicable target passed.
    pub passed: bool,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
}
