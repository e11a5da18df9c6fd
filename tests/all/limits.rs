//! Each call runs in its own sandbox: a trap, the deadline or the memory
//! limit ends that call with a message naming the plugin and the cause, and
//! the next call works.

use std::time::{Duration, Instant};

use isaac_host::RunError;
use isaac_host::RunOptions;
use isaac_host::sandbox::CallError;

use crate::support::{TestHome, fixture, manifest, text};

fn misbehave_home(limits: &str) -> TestHome {
    let home = TestHome::new();
    home.plant("misbehave", &manifest("misbehave", limits), "misbehave.wasm", &fixture("misbehave"));
    home
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn an_endless_loop_is_cut_at_the_deadline() {
    let home = misbehave_home("[limits]\ndeadline_ms = 200\n");
    let host = home.host();
    let start = Instant::now();
    let err = host.run("spin", &[], &RunOptions::default()).unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(&err, RunError::Call(CallError::Deadline { plugin, limit }) if plugin == "misbehave" && *limit == Duration::from_millis(200)),
        "{err}"
    );
    assert!(err.to_string().contains("deadline of 200 ms"), "{err}");
    assert!(took >= Duration::from_millis(200), "stopped early: {took:?}");
    // The host carries on.
    assert!(host.run("grow", &args(&["1"]), &RunOptions::default()).unwrap().starts_with("allocated"));
}

#[test]
fn memory_past_the_limit_ends_the_call() {
    let home = misbehave_home("[limits]\nmemory_mb = 16\n");
    let host = home.host();
    assert_eq!(
        host.run("grow", &args(&["4"]), &RunOptions::default()).unwrap(),
        format!("allocated {} bytes", 4 << 20)
    );
    let err = host.run("grow", &args(&["64"]), &RunOptions::default()).unwrap_err();
    assert!(matches!(&err, RunError::Call(CallError::Memory { limit_bytes, .. }) if *limit_bytes == 16 << 20), "{err}");
    assert!(err.to_string().contains("memory limit of 16 MiB"), "{err}");
    assert!(err.to_string().contains("memory_mb"), "{err}");
}

#[test]
fn the_config_file_overrides_a_plugins_limits() {
    let home = misbehave_home("[limits]\nmemory_mb = 16\n");
    std::fs::write(home.path().join("config.toml"), "[plugins.misbehave]\nmemory_mb = 128\n").unwrap();
    let host = home.host();
    let out = host.run("grow", &args(&["64"]), &RunOptions::default()).unwrap();
    assert_eq!(out, format!("allocated {} bytes", 64 << 20));
}

#[test]
fn a_trap_is_reported_and_the_next_call_works() {
    let home = misbehave_home("");
    let host = home.host();
    let err = host.run("crash", &[], &RunOptions::default()).unwrap_err();
    assert!(matches!(&err, RunError::Call(CallError::Trap { plugin, .. }) if plugin == "misbehave"), "{err}");
    assert!(err.to_string().starts_with("plugin `misbehave` crashed"), "{err}");
    assert_eq!(err.exit_code(), 1);
    assert_eq!(host.run("fail", &[], &RunOptions::default()).unwrap_err().exit_code(), 1);
}

#[test]
fn exit_codes_and_plugin_logs_through_the_cli() {
    let home = misbehave_home("[limits]\ndeadline_ms = 100\n");
    let out = home.run(&["run", "fail"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("misbehave:fail failed: failing on request"), "{}", text(&out).1);
    let out = home.run(&["run", "spin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("ran past its deadline of 100 ms"));

    // Default: warnings and errors; -v adds info; -q only errors.
    let (stdout, stderr) = text(&home.run(&["run", "shout"]));
    assert_eq!(stdout, "shouted\n");
    assert!(stderr.contains("misbehave: warn: a warning\\x1b[31m with an escape"), "{stderr}");
    assert!(stderr.contains("misbehave: error: an error line") && !stderr.contains("info line"), "{stderr}");
    let (_, stderr) = text(&home.run(&["-v", "run", "shout"]));
    assert!(stderr.contains("misbehave: info: an info line") && !stderr.contains("debug line"), "{stderr}");
    let (_, stderr) = text(&home.run(&["run", "-vvv", "shout"]));
    assert!(stderr.contains("misbehave: trace: a trace line"), "{stderr}");
    let (_, stderr) = text(&home.run(&["run", "-q", "shout"]));
    assert!(!stderr.contains("warn") && stderr.contains("an error line"), "{stderr}");
}
