//! Outbound HTTP through a plugin: one GET by the http-probe fixture
//! (instantiate, `wasi:http` request, isaac's checks, a new connection,
//! the answer read by the guest) against the same GET with reqwest
//! in-process, also one new connection per request (as wasi-http makes),
//! both to a server on loopback.
//!
//! Run: `cargo bench --bench http`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/all/http/server.rs"]
#[allow(dead_code)]
mod server;

use criterion::{Criterion, criterion_group, criterion_main};

use support::{TestHome, fixture, manifest, runtime};

fn http(c: &mut Criterion) {
    let server = server::Server::plain();
    let url = server.url("http", "/hello");
    let home = TestHome::new();
    let permission = format!("[permissions]\nhttp = {{ allowed_hosts = [\"http://{}\"] }}\n", server.addr);
    home.plant("http-probe", &manifest("http-probe", &permission), "http-probe.wasm", &fixture("http-probe"));
    let host = home.host();
    let rt = runtime();
    rt.block_on(host.grant("http-probe")).unwrap();
    let report = rt.block_on(host.load_all(&|_| {})).unwrap();
    let args = vec![url.clone()];
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).no_proxy().build().unwrap();

    let mut group = c.benchmark_group("http");
    group.bench_function("get-through-plugin", |b| {
        b.iter(|| assert_eq!(rt.block_on(report.run("http-probe:get", &args)).unwrap(), "200 hello"))
    });
    group.bench_function("get-reqwest-new-connection", |b| {
        b.iter(|| {
            rt.block_on(async {
                let body = client.get(&url).send().await.unwrap().text().await.unwrap();
                assert_eq!(body, "hello");
            })
        })
    });
    group.finish();
}

criterion_group!(benches, http);
criterion_main!(benches);
