//! The verdicts of `isaac bench`: from measured values to figures with the
//! seed's target and isaac's own (DESIGN.md), each pass, fail or not
//! applicable. Pure functions, so each verdict is tested under controlled
//! inputs; the phases only measure.

use std::time::Duration;

use super::policies::PolicyRates;
use super::{Figure, Verdict};
use crate::cache::traces::Trace;

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Loading `n` plugins cold with one worker and with `cores`, and warm;
/// the peak RSS with all of them loaded.
pub(super) fn loading(
    n: usize,
    cores: usize,
    sequential: Duration,
    parallel: Duration,
    warm: Duration,
    warm_peak_mib: f64,
) -> Vec<Figure> {
    let speedup = sequential.as_secs_f64() / parallel.as_secs_f64();
    let floor = 0.85 * cores as f64;
    let seed = if cores >= 4 {
        Verdict::of(speedup >= 2.5)
    } else {
        Verdict::NotApplicable(format!("assumes 4 workers; on {cores} cores no loader can cut time by 60 %"))
    };
    vec![
        Figure::info("loading", &format!("{n} plugins cold, --jobs 1"), ms(sequential), "ms"),
        Figure::info("loading", &format!("{n} plugins cold, --jobs {cores}"), ms(parallel), "ms"),
        Figure::info("loading", &format!("speedup, {cores} workers vs 1"), speedup, "x")
            .seed(">= 2.5x (60 % faster, 4 workers)", seed)
            .isaac(&format!(">= {floor:.2}x (0.85 x cores)"), speedup >= floor),
        Figure::info("loading", &format!("{n} plugins warm (compiled cache)"), ms(warm), "ms")
            .seed("< 800 ms", Verdict::of(ms(warm) < 800.0))
            .isaac("< 30 ms", ms(warm) < 30.0),
        Figure::info("memory", &format!("peak RSS, {n} plugins loaded (isaac plugins list)"), warm_peak_mib, "MiB")
            .isaac("< 40 MiB", warm_peak_mib < 40.0),
    ]
}

/// Resolving a command, and dispatching one (seconds per dispatch).
pub(super) fn routing(resolve_ns: f64, per_dispatch: f64, peak_mib: f64) -> Vec<Figure> {
    vec![
        Figure::info("routing", "resolve a command", resolve_ns, "ns").isaac("< 100 ns", resolve_ns < 100.0),
        Figure::info("routing", "dispatch a command (resolve, sandbox, call)", per_dispatch * 1e6, "µs")
            .seed("< 3 ms", Verdict::of(per_dispatch < 3e-3))
            .isaac("< 50 µs", per_dispatch < 50e-6),
        Figure::info("routing", "commands per second", 1.0 / per_dispatch, "/s"),
        Figure::info("memory", "peak RSS, routing", peak_mib, "MiB"),
    ]
}

/// What the AI phase measured at provider latency `latency`.
pub(super) struct AiRun<'a> {
    /// The main provider's latency (the others: a half and a quarter).
    pub latency: Duration,
    /// Five queries one after another.
    pub sequential: Duration,
    /// The same five as a batch.
    pub batch: Duration,
    /// 50 queries as a batch, default settings.
    pub batch_50: Duration,
    /// 500 queries as a batch, `max_concurrency = 500`.
    pub batch_500: Duration,
    /// A fallback across the three providers.
    pub fallback: Duration,
    /// The provider whose answer the fallback returned.
    pub winner: &'a str,
    /// Peak RSS of the phase.
    pub peak_mib: f64,
}

/// The AI figures.
pub(super) fn ai(run: &AiRun<'_>) -> Vec<Figure> {
    let l = run.latency;
    let bound = l + Duration::from_millis(100);
    let fastest = l / 4;
    vec![
        Figure::info("ai", &format!("5 queries at {:.0} ms, sequential", ms(l)), ms(run.sequential), "ms"),
        Figure::info("ai", &format!("5 queries at {:.0} ms, batch", ms(l)), ms(run.batch), "ms")
            .seed(">= 5x sequential (met within L + 100 ms)", Verdict::of(run.batch <= bound))
            .isaac(&format!("<= {:.0} ms (L + 100 ms)", ms(bound)), run.batch <= bound),
        Figure::info("ai", "batch speedup", run.sequential.as_secs_f64() / run.batch.as_secs_f64(), "x"),
        Figure::info("ai", &format!("50 queries at {:.0} ms, batch, defaults", ms(l)), ms(run.batch_50), "ms")
            .isaac(&format!("<= {:.0} ms (L + 100 ms)", ms(bound)), run.batch_50 <= bound),
        Figure::info("ai", &format!("500 queries at {:.0} ms, max_concurrency 500", ms(l)), ms(run.batch_500), "ms")
            .isaac(
                &format!("<= {:.0} ms (L + 500 ms)", ms(l) + 500.0),
                run.batch_500 <= l + Duration::from_millis(500),
            ),
        Figure::info(
            "ai",
            &format!("fallback across {:.0}/{:.0}/{:.0} ms", ms(l / 4), ms(l / 2), ms(l)),
            ms(run.fallback),
            "ms",
        )
        .seed("fastest wins", Verdict::of(run.winner == "quarter"))
        .isaac(
            &format!("<= {:.0} ms (fastest + 10 ms)", ms(fastest) + 10.0),
            run.fallback <= fastest + Duration::from_millis(10),
        ),
        Figure::info("memory", "peak RSS, AI", run.peak_mib, "MiB"),
    ]
}

/// What the cache phase measured: ns per get from each tier, and the hit
/// rates of a Zipf trace (`trace` describes it).
pub(super) struct CacheRun<'a> {
    /// ns per L1 hit.
    pub l1: f64,
    /// ns per L2 hit.
    pub l2: f64,
    /// ns per L3 hit.
    pub l3: f64,
    /// The trace.
    pub trace: &'a str,
    /// Hits in any tier, 0..1.
    pub hit_rate: f64,
    /// Hits in the memory tiers, 0..1.
    pub memory_hit_rate: f64,
    /// Entries the memory tiers hold.
    pub memory_entries: usize,
    /// Peak RSS of the phase.
    pub peak_mib: f64,
}

/// The cache figures.
pub(super) fn cache(run: &CacheRun<'_>) -> Vec<Figure> {
    vec![
        Figure::info("cache", "get, L1 hit", run.l1, "ns")
            .seed("< 0.1 ms", Verdict::of(run.l1 < 100_000.0))
            .isaac("< 200 ns", run.l1 < 200.0),
        Figure::info("cache", "get, L2 hit", run.l2, "ns"),
        Figure::info("cache", "get, L3 (LMDB) hit", run.l3, "ns").isaac("< 5 µs", run.l3 < 5000.0),
        Figure::info("cache", &format!("hit rate, any tier ({})", run.trace), run.hit_rate * 100.0, "%")
            .seed(">= 60 %", Verdict::of(run.hit_rate >= 0.6))
            .isaac(">= 60 %", run.hit_rate >= 0.6),
        Figure::info(
            "cache",
            &format!("hit rate, memory tiers ({} entries)", run.memory_entries),
            run.memory_hit_rate * 100.0,
            "%",
        ),
        Figure::info("memory", "peak RSS, cache", run.peak_mib, "MiB"),
    ]
}

/// The memory tiers beside moka and LRU: per trace and capacity (entries,
/// of `keys` keys), isaac's hit rate judged against moka's on the Zipf
/// traces and against LRU's, less two points, on the recency trace.
/// A trace shorter than `SETTLE × capacity` requests is reported but not
/// judged: the admission filter's period has not had the steps to settle.
pub(super) fn policies(keys: usize, requests: usize, rows: &[(Trace, usize, PolicyRates)]) -> Vec<Figure> {
    const SETTLE: usize = 100;
    rows.iter()
        .map(|&(trace, capacity, r)| {
            let pct = |x: f64| x * 100.0;
            let name = format!(
                "hit rate, memory tiers, {} at {} % ({capacity} entries): moka {:.2} %, LRU {:.2} %",
                trace.name(),
                100 * capacity / keys.max(1),
                pct(r.moka),
                pct(r.lru)
            );
            let (target, ok) = match trace {
                Trace::Zipf | Trace::ZipfWithScans => (">= moka", r.isaac >= r.moka),
                Trace::Recency => (">= LRU - 2 points", r.isaac >= r.lru - 0.02),
            };
            let mut figure = Figure::info("cache", &name, pct(r.isaac), "%").isaac(target, ok);
            if requests < SETTLE * capacity {
                figure.isaac = Verdict::NotApplicable(format!("judged from {} requests", SETTLE * capacity));
            }
            figure
        })
        .collect()
}

/// `isaac run` with `n` plugins installed: cold once, warm (median of
/// `runs`), and the warm run's peak RSS.
pub(super) fn startup(n: usize, cold: Duration, median: Duration, runs: usize, peak_mib: f64) -> Vec<Figure> {
    vec![
        Figure::info("startup", &format!("isaac run, {n} installed, cold (compiles one)"), ms(cold), "ms")
            .seed("< 1 s", Verdict::of(cold < Duration::from_secs(1))),
        Figure::info("startup", &format!("isaac run, {n} installed, warm (median of {runs})"), ms(median), "ms")
            .seed("< 1 s", Verdict::of(median < Duration::from_secs(1)))
            .isaac("< 10 ms", median < Duration::from_millis(10)),
        Figure::info("memory", "peak RSS, isaac run (warm)", peak_mib, "MiB"),
    ]
}

/// What the tiering phase measured; pairs are (Winch first, Cranelift only).
pub(super) struct TieringRun<'a> {
    /// The big plugin's name.
    pub plugin: &'a str,
    /// Winch-first add-and-run cycles.
    pub cycles: usize,
    /// `isaac plugins add`, median.
    pub add: (Duration, Duration),
    /// The first `isaac run` after the add, median.
    pub first_run: (Duration, Duration),
    /// Wasmtime alone compiling the plugin with Winch ([`super::floor`]).
    pub wasmtime_winch: Duration,
    /// Cranelift-only add-and-run cycles.
    pub cranelift_cycles: usize,
    /// A warm `isaac run` on each tier's code, median.
    pub warm: (Duration, Duration),
    /// Warm runs timed on each.
    pub warm_runs: usize,
    /// From the start of a Winch-first add until the optimised code is in use.
    pub ready: Duration,
    /// The compiled code on disk, MB.
    pub compiled_mb: (f64, f64),
    /// The CPU-bound command.
    pub cpu: &'a str,
    /// Its `isaac run` on each tier's code, median.
    pub cpu_time: (Duration, Duration),
    /// Runs of it timed on each.
    pub cpu_runs: usize,
}

/// The tiering figures: the goals of tiered compilation are a Winch-first
/// add within 1.5 s and its first run under 100 ms.
pub(super) fn tiering(r: &TieringRun<'_>) -> Vec<Figure> {
    let p = r.plugin;
    let ratio = |(winch, cranelift): (Duration, Duration), faster: bool| {
        let (a, b) = if faster { (winch, cranelift) } else { (cranelift, winch) };
        a.as_secs_f64() / b.as_secs_f64().max(1e-9)
    };
    let (c, w, k) = (r.cranelift_cycles, r.warm_runs, r.cpu_runs);
    let mut figures = tiering_winch(p, r.cycles, r.add.0, r.first_run.0, r.wasmtime_winch);
    figures.extend([
        Figure::info("tiering", &format!("plugins add {p}, Cranelift only (median of {c})"), ms(r.add.1), "ms"),
        Figure::info("tiering", "plugins add, Winch first: times faster", ratio(r.add, false), "x"),
        Figure::info(
            "tiering",
            &format!("first isaac run {p} after the add, Cranelift only (median of {c})"),
            ms(r.first_run.1),
            "ms",
        ),
        Figure::info("tiering", &format!("optimised code of {p} in use, from the add"), ms(r.ready), "ms"),
        Figure::info("tiering", &format!("warm isaac run {p}, Winch code (median of {w})"), ms(r.warm.0), "ms"),
        Figure::info("tiering", &format!("warm isaac run {p}, Cranelift code (median of {w})"), ms(r.warm.1), "ms"),
        Figure::info("tiering", &format!("isaac run {}, Winch code (median of {k})", r.cpu), ms(r.cpu_time.0), "ms"),
        Figure::info(
            "tiering",
            &format!("isaac run {}, Cranelift code (median of {k})", r.cpu),
            ms(r.cpu_time.1),
            "ms",
        ),
        Figure::info("tiering", "CPU-bound, Cranelift code: times faster", ratio(r.cpu_time, true), "x"),
        Figure::info("tiering", &format!("compiled code of {p}, Winch"), r.compiled_mb.0, "MB"),
        Figure::info("tiering", &format!("compiled code of {p}, Cranelift"), r.compiled_mb.1, "MB"),
    ]);
    figures
}

/// The compile goal: within 1.5 s, or, where wasmtime alone takes more
/// than 1.2 s to compile the same component on this machine (measured in
/// the same run, [`super::floor`]), within 1.25 × what it takes. The
/// quarter is what a whole `isaac` process adds to the compile and wasmtime
/// alone does not do: start, read and hash the component, write the
/// artifact and sync it, record it in the state (and, for the code in use,
/// see it listed).
const COMPILE_GOAL: Duration = Duration::from_millis(1500);
const COMPILE_ALLOWANCE: f64 = 1.25;

/// The target text and verdict of `took` against the compile goal, with
/// wasmtime alone at `wasmtime`.
fn compile_goal(took: Duration, wasmtime: Duration) -> (String, bool) {
    let bound = COMPILE_GOAL.max(wasmtime.mul_f64(COMPILE_ALLOWANCE));
    let (goal, bound_ms) = (ms(COMPILE_GOAL), ms(bound));
    (format!("<= {goal:.0} ms or {COMPILE_ALLOWANCE} x wasmtime: {bound_ms:.0} ms"), took <= bound)
}

/// `took` against the compile goal, and wasmtime alone beside it.
fn against_wasmtime(figure: Figure, took: Duration, wasmtime: Duration, what: &str) -> [Figure; 3] {
    let (target, ok) = compile_goal(took, wasmtime);
    [
        figure.isaac(&target, ok),
        Figure::info("tiering", &format!("wasmtime alone: {what}"), ms(wasmtime), "ms"),
        Figure::info("tiering", "isaac / wasmtime alone", took.as_secs_f64() / wasmtime.as_secs_f64().max(1e-9), "x"),
    ]
}

/// The goals of a Winch-first add (all `--quick` measures): the compile
/// goal beside wasmtime alone compiling with Winch, and its first run
/// under 100 ms; medians of `cycles`.
pub(super) fn tiering_winch(
    p: &str,
    cycles: usize,
    add: Duration,
    first_run: Duration,
    wasmtime: Duration,
) -> Vec<Figure> {
    let added = Figure::info("tiering", &format!("plugins add {p}, Winch first (median of {cycles})"), ms(add), "ms");
    let mut figures = Vec::from(against_wasmtime(added, add, wasmtime, &format!("Winch compile of {p}")));
    figures.push(
        Figure::info(
            "tiering",
            &format!("first isaac run {p} after the add, Winch first (median of {cycles})"),
            ms(first_run),
            "ms",
        )
        .isaac("< 100 ms", first_run < Duration::from_millis(100)),
    );
    figures
}

/// A second plugin of a language, added once the first one's optimised
/// code is in use; pairs are (function cache on, off).
pub(super) struct FunctionCacheRun<'a> {
    /// The plugin installed first.
    pub first: &'a str,
    /// From the start of the first plugin's add until its optimised code
    /// was in use, when no other figure says it.
    pub first_ready: Option<Duration>,
    /// The second plugin.
    pub second: &'a str,
    /// Its `isaac plugins add`.
    pub add: (Duration, Duration),
    /// From the start of its add until its optimised code is in use.
    pub ready: (Duration, Duration),
    /// Its functions that came from the cache, in percent.
    pub reused_percent: f64,
    /// Wasmtime alone compiling it with Cranelift, its incremental cache in
    /// memory holding what compiling the first plugin stored.
    pub wasmtime: Duration,
}

/// The function cache's figures: the goal is the second plugin's optimised
/// code in use within the compile goal of the start of its add.
pub(super) fn function_cache(r: &FunctionCacheRun<'_>) -> Vec<Figure> {
    let (first, second) = (r.first, r.second);
    let first_ready = r.first_ready.map(|ready| {
        Figure::info("tiering", &format!("optimised code of {first} in use, from the add"), ms(ready), "ms")
    });
    let ready = Figure::info(
        "tiering",
        &format!("optimised code of {second} in use, from the add, function cache"),
        ms(r.ready.0),
        "ms",
    );
    let what = format!("Cranelift compile of {second} after {first}, functions in memory");
    first_ready
        .into_iter()
        .chain([
            Figure::info("tiering", &format!("plugins add {second} after {first}, function cache"), ms(r.add.0), "ms"),
            Figure::info("tiering", &format!("plugins add {second}, no function cache"), ms(r.add.1), "ms"),
        ])
        .chain(against_wasmtime(ready, r.ready.0, r.wasmtime, &what))
        .chain([
            Figure::info(
                "tiering",
                &format!("optimised code of {second} in use, from the add, no function cache"),
                ms(r.ready.1),
                "ms",
            ),
            Figure::info(
                "tiering",
                &format!("function cache: optimised code of {second} in use, times sooner"),
                r.ready.1.as_secs_f64() / r.ready.0.as_secs_f64().max(1e-9),
                "x",
            ),
            Figure::info("tiering", &format!("functions of {second} reused from the cache"), r.reused_percent, "%"),
        ])
        .collect()
}

/// Whether every applicable target passed.
pub(super) fn passed(figures: &[Figure]) -> bool {
    !figures.iter().any(|f| f.seed.failed() || f.isaac.failed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn verdicts(figures: &[Figure], name: &str) -> (Verdict, Verdict) {
        let f = figures.iter().find(|f| f.name.starts_with(name)).unwrap_or_else(|| panic!("no figure {name}"));
        (f.seed.clone(), f.isaac.clone())
    }

    #[test]
    fn loading_speedup_is_judged_against_the_cores_there_are() {
        // Two cores: the seed's 2.5x (4 workers) does not apply; isaac asks 1.7x.
        let two = loading(50, 2, 2000 * MS, 1050 * MS, 20 * MS, 22.0);
        let (seed, isaac) = verdicts(&two, "speedup");
        assert!(matches!(seed, Verdict::NotApplicable(why) if why.contains("2 cores")));
        assert_eq!(isaac, Verdict::Pass, "1.90x >= 1.70x");
        let slow = loading(50, 2, 2000 * MS, 1300 * MS, 20 * MS, 22.0);
        assert_eq!(verdicts(&slow, "speedup").1, Verdict::Fail, "1.54x < 1.70x");
        // Four cores: 2.4x misses the seed's 2.5x and isaac's 3.4x.
        let four = loading(50, 4, 2400 * MS, 1000 * MS, 20 * MS, 22.0);
        assert_eq!(verdicts(&four, "speedup"), (Verdict::Fail, Verdict::Fail));
        let fast = loading(50, 4, 3600 * MS, 1000 * MS, 20 * MS, 22.0);
        assert_eq!(verdicts(&fast, "speedup"), (Verdict::Pass, Verdict::Pass));
    }

    #[test]
    fn warm_loading_and_its_memory_have_their_thresholds() {
        let ok = loading(50, 2, 2000 * MS, 1000 * MS, 29 * MS, 39.9);
        assert_eq!(verdicts(&ok, "50 plugins warm"), (Verdict::Pass, Verdict::Pass));
        assert_eq!(verdicts(&ok, "peak RSS, 50").1, Verdict::Pass);
        let slow = loading(50, 2, 2000 * MS, 1000 * MS, 31 * MS, 40.0);
        assert_eq!(verdicts(&slow, "50 plugins warm"), (Verdict::Pass, Verdict::Fail), "31 ms: seed < 800 ms only");
        assert_eq!(verdicts(&slow, "peak RSS, 50").1, Verdict::Fail);
        let very = loading(50, 2, 2000 * MS, 1000 * MS, 900 * MS, 10.0);
        assert_eq!(verdicts(&very, "50 plugins warm"), (Verdict::Fail, Verdict::Fail));
    }

    #[test]
    fn routing_thresholds() {
        let figures = routing(99.0, 49e-6, 20.0);
        assert_eq!(verdicts(&figures, "resolve").1, Verdict::Pass);
        assert_eq!(verdicts(&figures, "dispatch"), (Verdict::Pass, Verdict::Pass));
        let figures = routing(101.0, 51e-6, 20.0);
        assert_eq!(verdicts(&figures, "resolve").1, Verdict::Fail);
        assert_eq!(verdicts(&figures, "dispatch"), (Verdict::Pass, Verdict::Fail), "51 µs: within the seed's 3 ms");
        assert_eq!(verdicts(&routing(50.0, 4e-3, 20.0), "dispatch"), (Verdict::Fail, Verdict::Fail));
    }

    #[test]
    fn ai_batch_within_latency_plus_100ms_and_the_fastest_fallback_wins() {
        let run = AiRun {
            latency: 200 * MS,
            sequential: 1000 * MS,
            batch: 300 * MS,
            batch_50: 300 * MS,
            batch_500: 700 * MS,
            fallback: 60 * MS,
            winner: "quarter",
            peak_mib: 20.0,
        };
        assert_eq!(verdicts(&ai(&run), "5 queries at 200 ms, batch"), (Verdict::Pass, Verdict::Pass));
        assert_eq!(verdicts(&ai(&run), "fallback"), (Verdict::Pass, Verdict::Pass), "60 ms <= 50 + 10 ms");
        assert_eq!(verdicts(&ai(&run), "50 queries").1, Verdict::Pass);
        assert_eq!(verdicts(&ai(&run), "500 queries").1, Verdict::Pass);
        let late = AiRun {
            batch: 301 * MS,
            batch_50: 301 * MS,
            batch_500: 701 * MS,
            fallback: 61 * MS,
            winner: "half",
            ..run
        };
        assert_eq!(verdicts(&ai(&late), "5 queries at 200 ms, batch"), (Verdict::Fail, Verdict::Fail));
        assert_eq!(verdicts(&ai(&late), "50 queries").1, Verdict::Fail);
        assert_eq!(verdicts(&ai(&late), "500 queries").1, Verdict::Fail);
        assert_eq!(verdicts(&ai(&late), "fallback"), (Verdict::Fail, Verdict::Fail));
    }

    #[test]
    fn policies_are_judged_once_the_trace_is_long_enough() {
        let r = PolicyRates { isaac: 0.57, moka: 0.58, lru: 0.56 };
        let rows = [(Trace::Zipf, 1000, r), (Trace::Recency, 1000, r), (Trace::Zipf, 10_000, r)];
        let figures = policies(100_000, 200_000, &rows);
        let verdicts: Vec<&str> = figures.iter().map(|f| f.isaac.label()).collect();
        assert_eq!(verdicts, ["FAIL", "PASS", "n/a"]);
    }

    #[test]
    fn cache_thresholds() {
        let run = CacheRun {
            l1: 190.0,
            l2: 400.0,
            l3: 4900.0,
            trace: "Zipf",
            hit_rate: 0.6,
            memory_hit_rate: 0.3,
            memory_entries: 1100,
            peak_mib: 30.0,
        };
        assert_eq!(verdicts(&cache(&run), "get, L1"), (Verdict::Pass, Verdict::Pass));
        assert_eq!(verdicts(&cache(&run), "get, L3").1, Verdict::Pass);
        assert_eq!(verdicts(&cache(&run), "hit rate, any"), (Verdict::Pass, Verdict::Pass));
        let slow = CacheRun { l1: 250.0, l3: 5100.0, hit_rate: 0.59, ..run };
        assert_eq!(verdicts(&cache(&slow), "get, L1"), (Verdict::Pass, Verdict::Fail));
        assert_eq!(verdicts(&cache(&slow), "get, L3").1, Verdict::Fail);
        assert_eq!(verdicts(&cache(&slow), "hit rate, any"), (Verdict::Fail, Verdict::Fail));
    }

    #[test]
    fn tiering_goals_and_ratios() {
        let run = TieringRun {
            plugin: "greet-py",
            cycles: 10,
            add: (1500 * MS, 4500 * MS),
            first_run: (99 * MS, 40 * MS),
            wasmtime_winch: 1000 * MS,
            cranelift_cycles: 3,
            warm: (20 * MS, 15 * MS),
            warm_runs: 20,
            ready: 9000 * MS,
            compiled_mb: (45.7, 35.0),
            cpu: "primes 3000000",
            cpu_time: (1250 * MS, 1000 * MS),
            cpu_runs: 5,
        };
        let figures = tiering(&run);
        assert_eq!(verdicts(&figures, "plugins add greet-py, Winch first").1, Verdict::Pass);
        assert_eq!(verdicts(&figures, "first isaac run greet-py after the add, Winch").1, Verdict::Pass);
        let value = |name: &str| figures.iter().find(|f| f.name.starts_with(name)).unwrap().value;
        assert!((value("plugins add, Winch first: times faster") - 3.0).abs() < 1e-9);
        assert!((value("CPU-bound, Cranelift code: times faster") - 1.25).abs() < 1e-9);
        let slow = TieringRun { add: (1501 * MS, 4500 * MS), first_run: (100 * MS, 40 * MS), ..run };
        let figures = tiering(&slow);
        assert_eq!(verdicts(&figures, "plugins add greet-py, Winch first").1, Verdict::Fail);
        assert_eq!(verdicts(&figures, "first isaac run greet-py after the add, Winch").1, Verdict::Fail);
        assert!(!passed(&figures));
        // Where wasmtime alone takes more than 1.2 s, the goal is 1.25 x it.
        let heavy = TieringRun { add: (1875 * MS, 4500 * MS), wasmtime_winch: 1500 * MS, ..run };
        let figures = tiering(&heavy);
        assert_eq!(
            verdicts(&figures, "plugins add greet-py, Winch first").1,
            Verdict::Pass,
            "1875 ms = 1.25 x 1500 ms"
        );
        let shown = figures.iter().find(|f| f.name.starts_with("plugins add greet-py, Winch")).unwrap();
        assert_eq!(shown.isaac_target, "<= 1500 ms or 1.25 x wasmtime: 1875 ms");
        let value = |name: &str| figures.iter().find(|f| f.name.starts_with(name)).unwrap().value;
        assert_eq!(value("wasmtime alone: Winch compile of greet-py"), 1500.0);
        assert!((value("isaac / wasmtime alone") - 1.25).abs() < 1e-9);
        let heavier = TieringRun { add: (1876 * MS, 4500 * MS), ..heavy };
        assert_eq!(verdicts(&tiering(&heavier), "plugins add greet-py, Winch first").1, Verdict::Fail);
    }

    #[test]
    fn the_second_plugin_is_judged_with_the_function_cache() {
        let run = FunctionCacheRun {
            first: "greet-py",
            first_ready: None,
            second: "fetch-py",
            add: (1400 * MS, 1600 * MS),
            ready: (1400 * MS, 14_000 * MS),
            reused_percent: 91.0,
            wasmtime: 800 * MS,
        };
        let figures = function_cache(&run);
        let ready = "optimised code of fetch-py in use, from the add, function cache";
        assert_eq!(verdicts(&figures, ready).1, Verdict::Pass);
        let value = |name: &str| figures.iter().find(|f| f.name.starts_with(name)).unwrap().value;
        assert!((value("function cache: optimised code of fetch-py in use, times sooner") - 10.0).abs() < 1e-9);
        assert!(!figures.iter().any(|f| f.name.contains("of greet-py")), "tiering() says when greet-py's was");
        let slow = function_cache(&FunctionCacheRun { ready: (1501 * MS, 14_000 * MS), ..run });
        assert_eq!(verdicts(&slow, ready).1, Verdict::Fail);
        // Wasmtime alone at 1.6 s: within 2 s passes, and not a moment more.
        let heavy = FunctionCacheRun { ready: (2000 * MS, 14_000 * MS), wasmtime: 1600 * MS, ..run };
        assert_eq!(verdicts(&function_cache(&heavy), ready).1, Verdict::Pass);
        let slower = FunctionCacheRun { ready: (2001 * MS, 14_000 * MS), ..heavy };
        assert_eq!(verdicts(&function_cache(&slower), ready).1, Verdict::Fail);
        // The second JavaScript plugin: the same goal, and when the first
        // one's optimised code was in use.
        let js = function_cache(&FunctionCacheRun {
            first: "greet-js",
            first_ready: Some(20_000 * MS),
            second: "wordfreq-js",
            ready: (1500 * MS, 20_000 * MS),
            ..run
        });
        assert_eq!(
            verdicts(&js, "optimised code of wordfreq-js in use, from the add, function cache").1,
            Verdict::Pass
        );
        let first = js.iter().find(|f| f.name == "optimised code of greet-js in use, from the add").unwrap();
        assert_eq!((first.value, first.isaac.clone()), (20_000.0, Verdict::NotApplicable("no target".into())));
    }

    #[test]
    fn startup_thresholds_and_the_overall_verdict() {
        let ok = startup(50, 400 * MS, 9 * MS, 20, 20.0);
        assert_eq!(verdicts(&ok, "isaac run, 50 installed, warm"), (Verdict::Pass, Verdict::Pass));
        assert!(passed(&ok), "not-applicable targets do not count");
        let slow = startup(50, 1200 * MS, 11 * MS, 20, 20.0);
        assert_eq!(verdicts(&slow, "isaac run, 50 installed, cold").0, Verdict::Fail);
        assert_eq!(verdicts(&slow, "isaac run, 50 installed, warm"), (Verdict::Pass, Verdict::Fail));
        assert!(!passed(&slow));
        // One failed target anywhere fails the run.
        let mut mixed = ok.clone();
        mixed.extend(routing(101.0, 10e-6, 20.0));
        assert!(!passed(&mixed));
    }
}
