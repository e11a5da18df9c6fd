//! A streamed AI answer through a plugin, whole process: from the moment
//! the simulated provider sends its first event to the moment the first
//! byte of the answer is on `isaac run summarize`'s stdout (a pipe). What
//! is measured is what isaac adds between the two: the SSE parser, the
//! router, the task feeding the plugin's `answer`, the guest's `next` and
//! write, and the host's stdout. The process start, the load and the
//! provider's own latency are outside it.
//!
//! Run: `cargo build --release -p isaac-host && cargo bench --bench pipes`.
//! The throughput figures (wc over 1 GiB against GNU wc, a pass-through
//! against cat, peak RSS) are whole-process: `scripts/pipes-bench.sh`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use isaac_host::testing::{SimConfig, Simulator};

use support::{TestHome, dist};

fn first_delta(c: &mut Criterion) {
    // The simulator serves from this runtime's workers while the bench waits.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sim = rt.block_on(Simulator::start(SimConfig::default(), 0)).unwrap();
    let home = TestHome::new();
    let config = format!(
        "[ai]\ndefault_provider = \"sim\"\n[ai.providers.sim]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"sim-1\"\nprice_input_per_mtok = 1.0\nprice_output_per_mtok = 1.0\n",
        sim.openai_url()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    home.ok(&["plugins", "add", "--yes", dist("summarize").to_str().unwrap()]);
    let mut n = 0u64;
    let mut group = c.benchmark_group("pipes");
    group.sample_size(30).measurement_time(Duration::from_secs(20));
    group.bench_function("first-delta-to-stdout", |b| {
        b.iter_custom(|iters| {
            let mut added = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let mut child = home
                    .isaac()
                    .args(["run", "summarize"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                // A new text each time: no answer comes from the response cache.
                child.stdin.take().unwrap().write_all(format!("text {n}").as_bytes()).unwrap();
                let mut first = [0u8; 1];
                child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
                let shown = Instant::now();
                let sent = sim.stats.first_piece_at.lock().unwrap().expect("a streamed answer");
                added += shown.duration_since(sent);
                let mut rest = Vec::new();
                child.stdout.take().unwrap().read_to_end(&mut rest).unwrap();
                assert!(child.wait().unwrap().success());
            }
            added
        })
    });
    group.finish();
}

criterion_group!(benches, first_delta);
criterion_main!(benches);
