//! The phases of `isaac bench`, each adding its figures to the report.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Figure, Report, SuiteOptions, judge, policies};
use crate::ai::simulator::{SimConfig, Simulator};
use crate::ai::{AiRequest, AiRouter};
use crate::cache::clock::SystemClock;
use crate::cache::lmdb::LmdbStore;
use crate::cache::traces::{Trace, Zipf};
use crate::cache::{Expiry, MultiLevelCache, Namespace};
use crate::config::{AiConfig, CacheConfig, ProviderConfig, ProviderKind};
use crate::host::Host;
use crate::metrics;
use crate::session::Session;
use crate::settings::{Flags, Settings};
use crate::state::State;

/// A failure that stops the suite.
#[derive(Debug, thiserror::Error)]
#[error("isaac bench: {0}")]
pub struct SuiteError(pub(super) String);

pub(super) fn fail(context: &str) -> impl Fn(&(dyn std::error::Error + 'static)) -> SuiteError + '_ {
    move |e| SuiteError(format!("{context}: {}", crate::error::OneLine(e)))
}

/// `wasm` with a custom section appended: a distinct component (another
/// sha256, so its own compile) that behaves the same.
pub fn distinct(wasm: &[u8], tag: usize) -> Vec<u8> {
    fn leb128(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"isaac-distinct";
    let mut section = Vec::new();
    leb128(&mut section, name.len());
    section.extend_from_slice(name);
    section.extend_from_slice(&tag.to_le_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb128(&mut out, section.len());
    out.extend_from_slice(&section);
    out
}

/// Plant `n` distinct copies of the hello plugin, `hello-0` ..., in `home`.
fn plant(home: &Path, wasm: &[u8], n: usize) -> Result<(), SuiteError> {
    // The plugins are copies of one component: with the function cache the
    // copies would reuse the first one's functions, and the loading figures
    // would time the cache instead of compiling in parallel.
    std::fs::create_dir_all(home).map_err(|e| fail("planting plugins")(&e))?;
    std::fs::write(home.join("config.toml"), "[loader]\nfunction_cache_mb = 0\n")
        .map_err(|e| fail("planting plugins")(&e))?;
    for i in 0..n {
        let name = format!("hello-{i}");
        let dir = home.join("plugins").join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| fail("planting plugins")(&e))?;
        let manifest = format!("name = \"{name}\"\nversion = \"0.1.0\"\ncomponent = \"{name}.wasm\"\n");
        std::fs::write(dir.join("plugin.toml"), manifest).map_err(|e| fail("planting plugins")(&e))?;
        std::fs::write(dir.join(format!("{name}.wasm")), distinct(wasm, i))
            .map_err(|e| fail("planting plugins")(&e))?;
    }
    Ok(())
}

fn open(home: &Path, jobs: usize) -> Result<Host, SuiteError> {
    let flags = Flags { home: Some(home.to_owned()), jobs: std::num::NonZeroUsize::new(jobs), ..Flags::default() };
    let settings = Settings::resolve(&flags, &[][..], crate::capabilities::CONFIG_SECTIONS)
        .map_err(|e| fail("opening a host")(&e))?;
    Host::open(&settings).map_err(|e| fail("opening a host")(&e))
}

fn peak_mib() -> f64 {
    metrics::peak_rss_kb().unwrap_or(0) as f64 / 1024.0
}

/// Run the whole suite; `progress` is told each phase as it starts.
pub fn run(o: &SuiteOptions, progress: &dyn Fn(&str)) -> Result<Report, SuiteError> {
    let start = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail("starting the runtime")(&e))?;
    let wasm = std::fs::read(o.plugin.join("hello.wasm")).map_err(|e| {
        fail(&format!("reading {}/hello.wasm (build it with example-plugins/build.sh)", o.plugin.display()))(&e)
    })?;
    let scratch = tempfile::tempdir().map_err(|e| fail("making a temporary folder")(&e))?;
    let mut figures = Vec::new();

    progress("plugin loading");
    let home = loading(o, &wasm, scratch.path(), cores, &rt, &mut figures)?;
    progress("command routing");
    routing(o, &home, &rt, &mut figures)?;
    progress("async AI");
    ai(o, scratch.path(), &rt, &mut figures)?;
    progress("cache");
    cache(o, scratch.path(), &mut figures)?;
    progress("start-up");
    startup(o, &home, &mut figures)?;
    progress("tiered compilation");
    let notes = super::tiering::run(o, scratch.path(), &mut figures)?;

    let passed = judge::passed(&figures);
    Ok(Report {
        cores,
        plugins: o.plugins,
        ai_latency_ms: judge::ms(o.ai_latency),
        figures,
        notes,
        passed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn loading(
    o: &SuiteOptions,
    wasm: &[u8],
    scratch: &Path,
    cores: usize,
    rt: &tokio::runtime::Runtime,
    figures: &mut Vec<Figure>,
) -> Result<std::path::PathBuf, SuiteError> {
    let n = o.plugins;
    let timed_load = |home: &Path, jobs: usize| -> Result<Duration, SuiteError> {
        let host = open(home, jobs)?;
        let t = Instant::now();
        let report = rt.block_on(host.load_all(&|_| {})).map_err(|e| fail("loading plugins")(&e))?;
        let took = t.elapsed();
        if let Some(f) = report.failures.first() {
            return Err(SuiteError(crate::error::one_line(f)));
        }
        Ok(took)
    };
    let (one, all) = (scratch.join("load-one"), scratch.join("load-all"));
    plant(&one, wasm, n)?;
    plant(&all, wasm, n)?;
    let sequential = timed_load(&one, 1)?;
    let parallel = timed_load(&all, cores)?;
    let warm = timed_load(&all, cores)?;
    let warm_peak = child(o, &all, &["plugins", "list", "-q"])?.peak_mib;
    figures.extend(judge::loading(n, cores, sequential, parallel, warm, warm_peak));
    Ok(all)
}

fn routing(
    o: &SuiteOptions,
    home: &Path,
    rt: &tokio::runtime::Runtime,
    figures: &mut Vec<Figure>,
) -> Result<(), SuiteError> {
    let host = open(home, 1)?;
    metrics::reset_peak_rss();
    let mut session = rt.block_on(Session::open(&host, &|_| {})).map_err(|e| fail("loading plugins")(&e))?;
    let registry = &session.loaded().registry;
    let name = format!("hello-{}:hello", o.plugins / 2);
    const RESOLVES: u32 = 200_000;
    let t = Instant::now();
    for _ in 0..RESOLVES {
        black_box(registry.resolve(black_box(&name)).ok());
    }
    let resolve_ns = t.elapsed().as_nanos() as f64 / f64::from(RESOLVES);
    let words = vec![name, "bench".to_owned()];
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let t = Instant::now();
    for _ in 0..o.dispatches {
        rt.block_on(session.run(&words, &Default::default(), cancel.clone()))
            .map_err(|e| fail("dispatching hello")(&e))?;
    }
    let per = t.elapsed().as_secs_f64() / o.dispatches as f64;
    figures.extend(judge::routing(resolve_ns, per, peak_mib()));
    Ok(())
}

fn ai(
    o: &SuiteOptions,
    scratch: &Path,
    rt: &tokio::runtime::Runtime,
    figures: &mut Vec<Figure>,
) -> Result<(), SuiteError> {
    metrics::reset_peak_rss();
    let l = o.ai_latency;
    let sim = |latency: Duration| {
        rt.block_on(Simulator::start(SimConfig { latency, ..SimConfig::default() }, 0))
            .map_err(|e| fail("starting the simulated provider")(&e))
    };
    let sims = [("main", sim(l)?), ("quarter", sim(l / 4)?), ("half", sim(l / 2)?)];
    let mut config = AiConfig { cache_ttl_secs: 0, default_provider: Some("main".into()), ..AiConfig::default() };
    for (name, s) in &sims {
        config.providers.insert(
            (*name).to_owned(),
            ProviderConfig {
                timeout_ms: u64::try_from(l.as_millis()).unwrap_or(u64::MAX) * 4 + 1000,
                default_max_tokens: 256,
                ..ProviderConfig::new(ProviderKind::Openai, s.openai_url(), "sim")
            },
        );
    }
    let dir = scratch.join("ai");
    std::fs::create_dir_all(&dir).map_err(|e| fail("making the AI state")(&e))?;
    let state = State::open(&dir, 256).map_err(|e| fail("opening the AI state")(&e))?;
    let cache =
        Arc::new(MultiLevelCache::new(Arc::new(LmdbStore::new(state)), CacheConfig::default(), Arc::new(SystemClock)));
    let router =
        AiRouter::new(&config, cache.clone(), Arc::new(SystemClock)).map_err(|e| fail("creating the AI router")(&e))?;
    let reqs: Vec<AiRequest> = (0..500).map(|i| AiRequest::prompt(format!("question {i}"))).collect();
    let timed_batch = |router: &AiRouter, reqs: &[AiRequest]| -> Result<Duration, SuiteError> {
        let t = Instant::now();
        for r in rt.block_on(router.batch(reqs)) {
            r.map_err(|e| fail("batch")(&e))?;
        }
        Ok(t.elapsed())
    };
    let batch_50 = timed_batch(&router, &reqs[..50])?;
    if let Some(main) = config.providers.get_mut("main") {
        main.max_concurrency = 500;
    }
    let wide = AiRouter::new(&config, cache, Arc::new(SystemClock)).map_err(|e| fail("creating the AI router")(&e))?;
    let batch_500 = timed_batch(&wide, &reqs)?;
    let reqs = &reqs[..5];
    let t = Instant::now();
    for r in reqs {
        rt.block_on(router.query(r)).map_err(|e| fail("querying")(&e))?;
    }
    let sequential = t.elapsed();
    let batch = timed_batch(&router, reqs)?;
    let names = ["main", "half", "quarter"].map(String::from);
    let t = Instant::now();
    let answer = rt
        .block_on(router.query_with_fallback(&AiRequest::prompt("race"), &names))
        .map_err(|e| fail("fallback")(&e))?;
    let fallback = t.elapsed();
    let run = judge::AiRun {
        latency: l,
        sequential,
        batch,
        batch_50,
        batch_500,
        fallback,
        winner: &answer.provider,
        peak_mib: peak_mib(),
    };
    figures.extend(judge::ai(&run));
    Ok(())
}

fn cache(o: &SuiteOptions, scratch: &Path, figures: &mut Vec<Figure>) -> Result<(), SuiteError> {
    metrics::reset_peak_rss();
    let dir = scratch.join("cache");
    std::fs::create_dir_all(&dir).map_err(|e| fail("making the cache state")(&e))?;
    let state = State::open(&dir, 4096).map_err(|e| fail("opening the cache state")(&e))?;
    let config = CacheConfig::default();
    let memory_entries = config.l1_entries + config.l2_entries;
    let cache = MultiLevelCache::new(Arc::new(LmdbStore::new(state)), config, Arc::new(SystemClock));
    let ns = Namespace::user();
    let keys: Vec<String> = (0..100_000).map(|i| format!("key:{i:06}")).collect();
    let value = [7u8; 256];
    let err = |e: crate::cache::CacheError| fail("cache")(&e);
    for k in &keys[..5000] {
        cache.set(&ns, k, &value, Expiry::Never).map_err(err)?;
    }
    let per_get = |cycle: &[String], n: usize| -> Result<f64, SuiteError> {
        let t = Instant::now();
        for i in 0..n {
            black_box(cache.get(&ns, &cycle[(i + 1) % cycle.len()]).map_err(err)?);
        }
        Ok(t.elapsed().as_nanos() as f64 / n as f64)
    };
    // The key set last is in L1; the first ones set went down to L2 while
    // it had room and stay there (a hit in L2 keeps the entry in L2); 5000
    // keys in turn are past L1 and L2.
    let l1 = per_get(&keys[4999..5000], 200_000)?;
    let l2 = per_get(&keys[..200], 50_000)?;
    let l3 = per_get(&keys[..5000], 50_000)?;
    cache.reset_stats().map_err(err)?;
    let mut zipf = Zipf::new(keys.len(), 0.99, 42);
    for _ in 0..o.zipf_requests {
        let k = &keys[zipf.next_rank()];
        if cache.get(&ns, k).map_err(err)?.is_none() {
            cache.set(&ns, k, &value, Expiry::Never).map_err(err)?;
        }
    }
    let s = cache.stats().map_err(err)?;
    let trace = format!("Zipf 0.99, {}k keys, {}k requests", keys.len() / 1000, o.zipf_requests / 1000);
    figures.extend(judge::cache(&judge::CacheRun {
        l1,
        l2,
        l3,
        trace: &trace,
        hit_rate: s.hit_rate,
        memory_hit_rate: s.memory_hit_rate,
        memory_entries,
        peak_mib: peak_mib(),
    }));
    // After the peak above: the traces are the benchmark's memory, not the cache's.
    let mut rows = Vec::new();
    for trace in Trace::ALL {
        let keys_asked = trace.generate(keys.len(), o.zipf_requests, 42);
        for capacity in [keys.len() / 100, keys.len() / 10] {
            rows.push((trace, capacity, policies::compare(&keys_asked, capacity)));
        }
    }
    figures.extend(judge::policies(keys.len(), o.zipf_requests, &rows));
    Ok(())
}

/// What one `isaac` process did.
pub(super) struct Ran {
    /// Its wall time.
    pub took: Duration,
    /// Its peak RSS, as it reported it.
    pub peak_mib: f64,
    /// What it printed.
    pub stdout: String,
}

/// Run `isaac --profile-memory ARGS` on `home` (its config file, the
/// defaults otherwise: no `ISAAC_CONFIG` or `ISAAC_TIERED` from here).
pub(super) fn child(o: &SuiteOptions, home: &Path, args: &[&str]) -> Result<Ran, SuiteError> {
    let t = Instant::now();
    let out = Command::new(&o.isaac)
        .arg("--profile-memory")
        .args(args)
        .env("ISAAC_HOME", home)
        .env_remove("ISAAC_CONFIG")
        .env_remove("ISAAC_TIERED")
        .output()
        .map_err(|e| fail(&format!("running {}", o.isaac.display()))(&e))?;
    let took = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(SuiteError(format!("isaac {} failed: {stderr}", args.join(" "))));
    }
    let peak_mib = stderr
        .split("resident now, ")
        .nth(1)
        .and_then(|rest| rest.split(" MiB").next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    Ok(Ran { took, peak_mib, stdout: String::from_utf8_lossy(&out.stdout).into_owned() })
}

/// The median of `runs` (sorted here).
pub(super) fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

fn startup(o: &SuiteOptions, home: &Path, figures: &mut Vec<Figure>) -> Result<(), SuiteError> {
    let run = || child(o, home, &["run", "hello-0:hello", "bench"]);
    std::fs::remove_dir_all(home.join("compiled")).map_err(|e| fail("clearing compiled code")(&e))?;
    std::fs::create_dir_all(home.join("compiled")).map_err(|e| fail("clearing compiled code")(&e))?;
    let cold = run()?.took;
    let mut warm: Vec<Ran> = (0..o.startup_runs).map(|_| run()).collect::<Result<_, _>>()?;
    warm.sort_by_key(|r| r.took);
    let Ran { took: median, peak_mib, .. } = &warm[warm.len() / 2];
    figures.extend(judge::startup(o.plugins, cold, *median, warm.len(), *peak_mib));
    Ok(())
}
