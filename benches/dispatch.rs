//! Command resolution and dispatch: resolving a name in a table of 50
//! plugins, the full dispatch of `hello` (resolve, fresh sandbox,
//! instantiate, call) in a loaded host, a shell line (the same after a shell
//! split), and `Host::run` as `isaac run` does it in-process (index, stat,
//! hash, deserialize, link, call).
//!
//! Run: `cargo bench --bench dispatch`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use isaac_host::{Registry, RunOptions};

use support::{TestHome, dist, runtime};

fn resolution(c: &mut Criterion) {
    let registry = Registry::new(
        (0..50).map(|i| (format!("plugin-{i}"), vec![format!("cmd-{i}"), format!("other-{i}")])).collect(),
    );
    let mut group = c.benchmark_group("resolve");
    group.bench_function("bare-name-of-100", |b| b.iter(|| registry.resolve(std::hint::black_box("cmd-25")).unwrap()));
    group.bench_function("qualified-name-of-100", |b| {
        b.iter(|| registry.resolve(std::hint::black_box("plugin-25:other-25")).unwrap())
    });
    group.bench_function("unknown-with-suggestions", |b| b.iter(|| registry.resolve(std::hint::black_box("cmd-2x"))));
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let home = TestHome::new();
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.install(&dist("hello"), false)).unwrap();
    rt.block_on(host.install(&dist("wordcount"), false)).unwrap();
    home.plant_hellos(48);
    let report = rt.block_on(host.load_all(&|_| {})).unwrap();
    let args = vec!["bars".to_owned()];
    let mut group = c.benchmark_group("dispatch");
    group.bench_function("hello-loaded-host", |b| {
        b.iter(|| assert_eq!(rt.block_on(report.run("hello:hello", &args)).unwrap(), "Hello, bars!"))
    });
    group.bench_function("wc-loaded-host", |b| b.iter(|| rt.block_on(report.run("wc", &args)).unwrap()));
    group.bench_function("host-run-50-installed", |b| {
        b.iter(|| assert_eq!(host.run("hello:hello", &args, &RunOptions::default()).unwrap(), "Hello, bars!"))
    });
    // A shell line: split like a shell, resolve, fresh sandbox, call.
    let mut session = rt.block_on(isaac_host::session::Session::open(&host, &|_| {})).unwrap();
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    group.bench_function("shell-line", |b| {
        b.iter(|| {
            let words = isaac_host::session::split("hello:hello 'bars'").unwrap();
            assert_eq!(rt.block_on(session.run(&words, &Default::default(), cancel.clone())).unwrap(), "Hello, bars!");
        })
    });
    group.finish();
}

criterion_group!(benches, resolution, dispatch);
criterion_main!(benches);
