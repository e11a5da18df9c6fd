//! Tiered compilation: a big component runs on Winch code at once, under
//! the same deadline and memory limit, and the optimised code that a
//! background `isaac compile-optimized` makes replaces it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use isaac_host::RunOptions;
use isaac_host::sandbox::CallError;
use isaac_host::settings::Flags;
use isaac_host::tiers::Tier;
use isaac_host::{Host, RunError, Settings};

use crate::support::{TestHome, dist, fixture, manifest, runtime, text};

/// Every component counts as big: compiled with Winch first.
const ALL_BIG: &str = "[loader]\nbaseline_above_kb = 0\n";

#[test]
fn winch_code_meets_its_deadline_and_its_memory_limit() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), ALL_BIG).unwrap();
    let limits = "[limits]\ndeadline_ms = 200\nmemory_mb = 16\n";
    home.plant("misbehave", &manifest("misbehave", limits), "misbehave.wasm", &fixture("misbehave"));
    // An optimiser that cannot start: the plugin stays on Winch code.
    let flags =
        Flags { home: Some(home.path().to_owned()), optimizer: Some("/nonexistent/isaac".into()), ..Flags::default() };
    let settings = Settings::resolve(&flags, &[][..], isaac_host::CONFIG_SECTIONS).unwrap();
    let host = Host::open(&settings).unwrap();
    let rt = runtime();
    let start = Instant::now();
    let err = host.run("spin", &[], &RunOptions::default()).unwrap_err();
    assert!(matches!(&err, RunError::Call(CallError::Deadline { .. })), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(200));
    let catalog = rt.block_on(host.catalog()).unwrap();
    let meta = catalog.entries.iter().find(|(n, _)| n == "misbehave").unwrap().1.status.clone().unwrap();
    assert_eq!(meta.tier, Tier::Baseline, "the code that ran is Winch's");
    let grown = host.run("grow", &["4".to_owned()], &RunOptions::default()).unwrap();
    assert_eq!(grown, format!("allocated {} bytes", 4 << 20));
    let err = host.run("grow", &["64".to_owned()], &RunOptions::default()).unwrap_err();
    assert!(matches!(&err, RunError::Call(CallError::Memory { limit_bytes, .. }) if *limit_bytes == 16 << 20), "{err}");
}

#[test]
fn winch_code_computes_what_cranelift_code_computes() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), ALL_BIG).unwrap();
    home.plant(
        "primes",
        &std::fs::read_to_string(dist("primes").join("plugin.toml")).unwrap(),
        "primes.wasm",
        &std::fs::read(dist("primes").join("primes.wasm")).unwrap(),
    );
    let rt = runtime();
    let args = ["100000".to_owned()];
    let optimized = home.host().run("primes", &args, &RunOptions::default()).unwrap();
    assert_eq!(optimized, "9592 primes below 100000");
    std::fs::remove_dir_all(home.path().join("compiled")).unwrap();
    let flags =
        Flags { home: Some(home.path().to_owned()), optimizer: Some("/nonexistent/isaac".into()), ..Flags::default() };
    let settings = Settings::resolve(&flags, &[][..], isaac_host::CONFIG_SECTIONS).unwrap();
    let host = Host::open(&settings).unwrap();
    assert_eq!(host.run("primes", &args, &RunOptions::default()).unwrap(), optimized);
    let catalog = rt.block_on(host.catalog()).unwrap();
    let meta = catalog.entries.iter().find(|(n, _)| n == "primes").unwrap().1.status.clone().unwrap();
    assert_eq!(meta.tier, Tier::Baseline);
}

/// The tier `plugins list --json` reports for `name`.
fn listed_tier(home: &TestHome, name: &str) -> String {
    let out = home.isaac().env("ISAAC_TIERED", "1").args(["plugins", "list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plugin = list.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap();
    plugin["tier"].as_str().unwrap().to_owned()
}

#[test]
fn the_optimised_code_replaces_the_baseline_code_when_ready() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), ALL_BIG).unwrap();
    let tiered = |args: &[&str]| home.isaac().env("ISAAC_TIERED", "1").args(args).output().unwrap();
    let out = tiered(&["plugins", "add", "--yes", dist("greet-rs").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let info = home.json(&["plugins", "info", "greet-rs", "--json"]);
    assert_eq!(info["tier"], "baseline", "installed on Winch code: {info}");
    assert_eq!(text(&tiered(&["run", "greet-rs", "bars"])).0, "Hello, bars! (visit #1)\n");
    // The background compile records its artifact; the next load uses it.
    let start = Instant::now();
    while listed_tier(&home, "greet-rs") != "optimized" {
        assert!(start.elapsed() < Duration::from_secs(120), "no optimised code after two minutes");
        std::thread::sleep(Duration::from_millis(200));
    }
    let info = home.json(&["plugins", "info", "greet-rs", "--json"]);
    assert_eq!(info["tier"], "optimized", "{info}");
    assert_eq!(text(&tiered(&["run", "greet-rs", "bars"])).0, "Hello, bars! (visit #2)\n");
    let sha256 = info["sha256"].as_str().unwrap();
    let artifacts: Vec<PathBuf> = std::fs::read_dir(home.path().join("compiled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(sha256) && p.extension().unwrap() == "cwasm")
        .collect();
    assert_eq!(artifacts.len(), 2, "a Winch and a Cranelift artifact: {artifacts:?}");
    // Tampered optimised code is never run: the plugin runs on Winch code again.
    for artifact in &artifacts {
        std::fs::write(artifact, b"not code").unwrap();
    }
    assert_eq!(text(&tiered(&["run", "greet-rs", "bars"])).0, "Hello, bars! (visit #3)\n");
}

#[test]
fn a_big_plugin_is_optimised_in_a_home_without_a_config_file() {
    let home = TestHome::new();
    let tiered = |args: &[&str]| home.isaac().env("ISAAC_TIERED", "1").args(args).output().unwrap();
    // greet-py is over the default 1 MiB.
    crate::support::require_example("greet-py", "python");
    let out = tiered(&["plugins", "add", "--yes", dist("greet-py").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(home.json(&["plugins", "info", "greet-py", "--json"])["tier"], "baseline");
    let start = Instant::now();
    while listed_tier(&home, "greet-py") != "optimized" {
        assert!(start.elapsed() < Duration::from_secs(300), "no optimised code after five minutes");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(text(&tiered(&["run", "greet-py", "bars"])).0, "Hello, bars! (visit #1)\n");
}

#[test]
fn an_optimiser_whose_plugin_is_removed_meanwhile_leaves_no_code_behind() {
    // greet-py's optimiser takes seconds: time to remove the plugin under it.
    crate::support::require_example("greet-py", "python");
    let home = TestHome::new();
    let tiered = |args: &[&str]| home.isaac().env("ISAAC_TIERED", "1").args(args).output().unwrap();
    let out = tiered(&["plugins", "add", "--yes", dist("greet-py").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let info = home.json(&["plugins", "info", "greet-py", "--json"]);
    let sha256 = info["sha256"].as_str().unwrap().to_owned();
    let compiled = home.path().join("compiled");
    let wait = |at_work: bool| {
        let start = Instant::now();
        while isaac_host::tiers::optimizing(&compiled, &sha256) != at_work {
            assert!(start.elapsed() < Duration::from_secs(300), "the optimiser never became {at_work}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait(true);
    home.ok(&["plugins", "remove", "greet-py"]);
    wait(false);
    let left: Vec<String> = std::fs::read_dir(&compiled)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&sha256) && n.ends_with(".cwasm"))
        .collect();
    assert!(left.is_empty(), "code of a removed plugin: {left:?}");
}

#[test]
fn without_tiering_everything_is_compiled_optimised() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), ALL_BIG).unwrap();
    // TestHome's isaac runs with ISAAC_TIERED=0.
    home.ok(&["plugins", "add", "--yes", dist("greet-rs").to_str().unwrap()]);
    assert_eq!(home.json(&["plugins", "info", "greet-rs", "--json"])["tier"], "optimized");
    let info = home.ok(&["plugins", "info", "greet-rs"]);
    assert!(info.contains("code:      optimized (Cranelift)"), "{info}");
}
