//! The AI router against simulated providers on loopback: 5 and 50 requests
//! at 200 ms latency, sequential vs `batch`; fallback across providers at
//! 100/200/400 ms; the router's own overhead at 0 ms latency; a cache hit.
//!
//! Run: `cargo bench --bench ai`. (Sequential 50 would take 10 s a sample;
//! it is 50 times the sequential single request.)

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use isaac_host::ai::{AiRequest, AiRouter};
use isaac_host::cache::MultiLevelCache;
use isaac_host::cache::clock::SystemClock;
use isaac_host::cache::lmdb::LmdbStore;
use isaac_host::config::{AiConfig, CacheConfig, ProviderConfig, ProviderKind};
use isaac_host::state::State;
use isaac_host::testing::{SimConfig, Simulator};

fn provider(sim: &Simulator) -> ProviderConfig {
    ProviderConfig {
        price_input_per_mtok: 3.0,
        price_output_per_mtok: 15.0,
        timeout_ms: 10_000,
        default_max_tokens: 256,
        ..ProviderConfig::new(ProviderKind::Openai, sim.openai_url(), "sim")
    }
}

fn router(dir: &std::path::Path, sims: &[(&str, &Simulator)], cache_ttl_secs: u64) -> AiRouter {
    let mut config = AiConfig { cache_ttl_secs, ..AiConfig::default() };
    for (name, sim) in sims {
        config.providers.insert((*name).to_owned(), provider(sim));
    }
    config.default_provider = Some(sims[0].0.to_owned());
    std::fs::create_dir_all(dir).unwrap();
    let state = State::open(dir, 1024).unwrap();
    let cache =
        Arc::new(MultiLevelCache::new(Arc::new(LmdbStore::new(state)), CacheConfig::default(), Arc::new(SystemClock)));
    AiRouter::new(&config, cache, Arc::new(SystemClock)).unwrap()
}

fn requests(n: usize) -> Vec<AiRequest> {
    (0..n).map(|i| AiRequest::prompt(format!("question {i}"))).collect()
}

fn ai(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sim = |ms: u64| {
        rt.block_on(Simulator::start(SimConfig { latency: Duration::from_millis(ms), ..SimConfig::default() }, 0))
            .unwrap()
    };
    let (s200, s100, s400, s0) = (sim(200), sim(100), sim(400), sim(0));
    let dir = tempfile::tempdir().unwrap();
    let uncached = router(&dir.path().join("a"), &[("s200", &s200), ("s100", &s100), ("s400", &s400), ("s0", &s0)], 0);

    let mut group = c.benchmark_group("ai-200ms");
    group.sample_size(10).measurement_time(Duration::from_secs(12));
    let five = requests(5);
    group.bench_function("5-sequential", |b| {
        b.iter(|| {
            rt.block_on(async {
                for r in &five {
                    uncached.query(r).await.unwrap();
                }
            })
        })
    });
    group.bench_function("5-batch", |b| b.iter(|| rt.block_on(uncached.batch(&five))));
    let fifty = requests(50);
    group.bench_function("50-batch", |b| {
        b.iter(|| assert!(rt.block_on(uncached.batch(&fifty)).iter().all(Result::is_ok)))
    });
    let names = ["s400", "s200", "s100"].map(String::from);
    group.bench_function("fallback-100-200-400", |b| {
        b.iter(|| {
            let answer = rt.block_on(uncached.query_with_fallback(&AiRequest::prompt("race"), &names)).unwrap();
            assert_eq!(answer.provider, "s100");
        })
    });
    group.finish();

    let mut group = c.benchmark_group("ai-router");
    let zero = AiRequest { provider: Some("s0".into()), ..AiRequest::prompt("overhead") };
    group.bench_function("request-at-0ms", |b| b.iter(|| rt.block_on(uncached.query(&zero)).unwrap()));
    let cached = router(&dir.path().join("b"), &[("s0", &s0)], 3600);
    rt.block_on(cached.query(&zero)).unwrap();
    group.bench_function("cache-hit", |b| b.iter(|| assert!(rt.block_on(cached.query(&zero)).unwrap().cached)));
    group.finish();
}

criterion_group!(benches, ai);
criterion_main!(benches);
