//! One plugin's lifecycle, phase by phase (the hello example plugin, 47 KB):
//! compile (Cranelift, wasmtime's parallel compilation), deserialize from
//! the compiled-code cache (mmap), link against the host's capabilities,
//! instantiate in a fresh sandbox (pooling allocator), instantiate + call,
//! and a guest-to-host round trip (`cache.get` from inside a plugin).
//!
//! Run: `cargo bench --bench lifecycle`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use isaac_host::compiled::CompiledCache;
use isaac_host::engine::{EngineOptions, HostEngine};
use isaac_host::testing::{self, Linker};

use support::{TestHome, example_wasm, fixture, manifest, runtime};

fn lifecycle(c: &mut Criterion) {
    let wasm = example_wasm("hello");
    let engine = HostEngine::new(&EngineOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = CompiledCache::new(dir.path().to_owned(), engine.compatibility.clone());
    let component = wasmtime::component::Component::new(&engine.engine, &wasm).unwrap();
    cache.store("hello", &component).unwrap();
    let linker = Linker::new(&engine.engine).unwrap();

    let mut group = c.benchmark_group("lifecycle");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("compile", |b| b.iter(|| wasmtime::component::Component::new(&engine.engine, &wasm).unwrap()));
    group.sample_size(100);
    group.bench_function("deserialize-mmap", |b| {
        b.iter(|| testing::load_unverified(&cache, &engine.engine, "hello").unwrap())
    });
    group.bench_function("link", |b| b.iter(|| linker.link(&component, "hello.wasm".as_ref()).unwrap()));

    let home = TestHome::new();
    home.plant("hello", &manifest("hello", ""), "hello.wasm", &wasm);
    let probe = "[permissions]\ncache = true\n";
    home.plant("cache-probe", &manifest("cache-probe", probe), "cache-probe.wasm", &fixture("cache-probe"));
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.grant("cache-probe")).unwrap();
    let report = rt.block_on(host.load_all(&|_| {})).unwrap();
    let (hello, _) = report.resolve("hello").unwrap();
    group.bench_function("instantiate", |b| b.iter(|| rt.block_on(testing::instantiate(hello)).unwrap()));
    let args = vec!["x".to_owned()];
    group.bench_function("instantiate-and-call", |b| b.iter(|| rt.block_on(hello.run("hello", &args)).unwrap()));
    rt.block_on(report.run("cache-probe:set", &["k".to_owned(), "v".to_owned()])).unwrap();
    for n in [1usize, 1001] {
        let args = vec!["k".to_owned(), n.to_string()];
        group.bench_function(format!("cache-get-from-guest-x{n}"), |b| {
            b.iter(|| rt.block_on(report.run("cache-probe:getn", &args)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
