//! `isaac stats` (the run history), `--profile-memory`, and `isaac bench`.

use crate::support::{TestHome, dist, text};

#[test]
fn every_process_records_a_line_and_stats_shows_them() {
    let home = TestHome::new();
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    assert!(home.run(&["stats", "--clear"]).status.success());
    for _ in 0..3 {
        assert!(home.run(&["run", "hello"]).status.success());
    }
    // `isaac stats` itself records nothing.
    home.run(&["stats"]);
    let out = home.run(&["stats", "--json"]);
    let records: Vec<serde_json::Value> = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    for r in &records {
        assert_eq!(r["command"], "run hello");
        assert_eq!(r["plugins_loaded"], 1);
        let startup = r["startup_ms"].as_f64().unwrap();
        assert!(startup > 0.0 && startup <= r["total_ms"].as_f64().unwrap(), "{r}");
        assert!(r["peak_rss_kb"].as_u64().unwrap() > 0, "{r}");
    }
    let (stdout, _) = text(&home.run(&["stats"]));
    assert!(stdout.contains("3 runs recorded") && stdout.contains("startup ms"), "{stdout}");
    // History is bounded.
    std::fs::write(home.path().join("config.toml"), "[metrics]\nhistory = 2\n").unwrap();
    assert!(home.run(&["run", "hello"]).status.success());
    let records: Vec<serde_json::Value> = serde_json::from_str(&text(&home.run(&["stats", "--json"])).0).unwrap();
    assert_eq!(records.len(), 2);
    assert!(home.run(&["stats", "--clear"]).status.success());
    assert_eq!(text(&home.run(&["stats", "--json"])).0, "[]\n");
}

#[test]
fn the_recorded_peak_is_isaacs_own_not_a_larger_parents() {
    // After `exec`, `getrusage` still reports the size of the process that
    // exec'd (here a python holding 400 MiB): the record must not.
    const EXEC: &str = "import os, resource, sys\n\
        ballast = b'x' * (400 << 20)\n\
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >= 400 << 10\n\
        os.execv(sys.argv[1], sys.argv[1:])\n";
    let home = TestHome::new();
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    assert!(home.run(&["stats", "--clear"]).status.success());
    let out = home.isaac_from_python(EXEC, &["run", "hello"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let records: Vec<serde_json::Value> = serde_json::from_str(&text(&home.run(&["stats", "--json"])).0).unwrap();
    let peak_mib = records[0]["peak_rss_kb"].as_u64().unwrap() >> 10;
    assert!(peak_mib > 0 && peak_mib < 200, "isaac's own peak, not python's 400 MiB: {peak_mib} MiB");
}

#[test]
fn profile_memory_prints_current_and_peak() {
    let home = TestHome::new();
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    let out = home.run(&["--profile-memory", "run", "hello"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "Hello, world!\n", "memory figures stay off stdout");
    assert!(stderr.contains("MiB resident now") && stderr.contains("MiB at the peak"), "{stderr}");
}

#[test]
fn bench_reports_every_phase_as_json() {
    let home = TestHome::new();
    let out = home.run(&[
        "bench",
        "--quick",
        "--json",
        "--plugins",
        "2",
        "--ai-latency",
        "20ms",
        "--plugin",
        dist("hello").to_str().unwrap(),
        "--tiered-plugin",
        dist("greet-rs").to_str().unwrap(),
        "--cpu-plugin",
        dist("primes").to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let figures = report["figures"].as_array().unwrap();
    for phase in ["routing", "ai", "loading", "cache", "startup", "memory", "tiering"] {
        assert!(figures.iter().any(|f| f["phase"] == phase), "no {phase} figure: {report}");
    }
    for f in figures {
        assert!(f["value"].as_f64().is_some_and(|v| v >= 0.0), "{f}");
        for verdict in [&f["seed"], &f["isaac"]] {
            assert!(verdict == "pass" || verdict == "fail" || verdict.get("not_applicable").is_some(), "{f}");
        }
    }
    // Every phase measured; --quick says what it leaves to a full run.
    let notes = report["notes"].as_array().unwrap();
    assert!(notes.iter().all(|n| n.as_str().unwrap().starts_with("tiering: --quick")), "{report}");
    let names: Vec<&str> = figures.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("plugins add greet-rs, Winch first")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("first isaac run greet-rs after the add, Winch first")), "{names:?}");
    // The exit status says whether every applicable target passed.
    assert_eq!(out.status.code(), Some(if report["passed"] == true { 0 } else { 1 }));
}

#[test]
fn a_reader_that_went_away_still_leaves_a_record() {
    use std::io::Write;
    use std::process::Stdio;
    let home = TestHome::new();
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    assert!(home.run(&["stats", "--clear"]).status.success());
    // stdout is a pipe whose reader is already gone: every write fails.
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let status = home.isaac().args(["run", "hello", "nobody"]).stdout(closed()).status().unwrap();
    assert!(status.success(), "a closed pipe is not an error: {status}");
    let mut shell = home.isaac().arg("shell").stdin(Stdio::piped()).stdout(closed()).spawn().unwrap();
    shell.stdin.take().unwrap().write_all(b"hello a\nhello b\n").unwrap();
    assert!(shell.wait().unwrap().success());
    let records: Vec<serde_json::Value> = serde_json::from_str(&text(&home.run(&["stats", "--json"])).0).unwrap();
    let commands: Vec<&str> = records.iter().filter_map(|r| r["command"].as_str()).collect();
    assert_eq!(commands, ["run hello", "shell"], "{records:?}");
}
