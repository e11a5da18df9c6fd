//! `tools/call` round trip through `isaac mcp` over stdio: a real server
//! process with the hello plugin loaded, driven by the official Rust MCP
//! client (`rmcp`). Compare with the whole process of `isaac run hello`
//! (hyperfine, docs/performance.md).
//!
//! Run: `cargo build --release -p isaac-host && cargo bench --bench mcp`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

use support::{TestHome, dist, runtime};

fn mcp(c: &mut Criterion) {
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("hello").to_str().unwrap()]);
    let rt = runtime();
    let mut cmd = tokio::process::Command::from(home.isaac());
    cmd.args(["mcp", "-q"]);
    let client = rt.block_on(async { ().serve(TokioChildProcess::new(cmd).unwrap()).await }).unwrap();
    let args = json!({ "args": ["bench"] }).as_object().unwrap().clone();
    let call = CallToolRequestParams::new("hello__hello").with_arguments(args);
    let mut group = c.benchmark_group("mcp");
    group.sample_size(200).measurement_time(Duration::from_secs(8));
    group.bench_function("tools-call-hello", |b| {
        b.iter(|| {
            let result = rt.block_on(client.call_tool(call.clone())).unwrap();
            assert_eq!(result.is_error, Some(false));
        })
    });
    group.bench_function("tools-list", |b| b.iter(|| rt.block_on(client.list_all_tools()).unwrap()));
    group.finish();
    rt.block_on(client.cancel()).unwrap();
}

criterion_group!(benches, mcp);
criterion_main!(benches);
