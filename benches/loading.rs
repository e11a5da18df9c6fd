//! Loading N distinct plugins (N = 1, 10, 50): cold with one compile thread,
//! cold with every core, and warm from the compiled-code cache. Each sample
//! opens a host on its own home, as `isaac plugins list` does.
//!
//! Run: `cargo bench --bench loading`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use support::{TestHome, runtime};

fn planted(n: usize) -> TestHome {
    let home = TestHome::new();
    home.plant_hellos(n);
    // Copies of one component: without this, copies 2..N would reuse the
    // first one's functions from the function cache.
    std::fs::write(home.path().join("config.toml"), "[loader]\nfunction_cache_mb = 0\n").unwrap();
    home
}

fn load(home: &TestHome, jobs: usize) -> usize {
    let host = home.host_with_jobs(jobs);
    let report = runtime().block_on(host.load_all(&|_| {})).unwrap();
    assert!(report.failures.is_empty());
    report.plugins.len()
}

fn loading(c: &mut Criterion) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("load");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    for n in [1, 10, 50] {
        group.throughput(Throughput::Elements(n as u64));
        for (label, jobs) in [("cold-jobs-1", 1), ("cold-all-cores", cores)] {
            group.bench_with_input(BenchmarkId::new(label, n), &n, |b, &n| {
                b.iter_batched(|| planted(n), |home| load(&home, jobs), BatchSize::PerIteration)
            });
        }
        let warm = planted(n);
        load(&warm, cores);
        group.bench_with_input(BenchmarkId::new("warm-cache", n), &n, |b, _| b.iter(|| load(&warm, cores)));
    }
    group.finish();
}

fn engine(c: &mut Criterion) {
    use isaac_host::engine::{EngineOptions, HostEngine};
    let mut group = c.benchmark_group("engine");
    group.bench_function("new-pooling", |b| b.iter(|| HostEngine::new(&EngineOptions::default()).unwrap()));
    group.bench_function("new-on-demand", |b| {
        b.iter(|| HostEngine::new(&EngineOptions { pooling: false, ..Default::default() }).unwrap())
    });
    group.finish();
}

criterion_group!(benches, loading, engine);
criterion_main!(benches);
