//! The three-tier cache through the real binary: persistence across
//! processes, plugin namespaces and permissions, concurrent processes, a
//! killed writer, a corrupt file, statistics.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{TestHome, dist, fixture, manifest, text};

fn ok(home: &TestHome, args: &[&str]) -> String {
    home.ok(args)
}

fn json(home: &TestHome, args: &[&str]) -> serde_json::Value {
    let stdout = ok(home, args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// A home with notes and the cache probe (granted the cache), and a second
/// copy of the probe that was not.
fn cache_home() -> TestHome {
    let home = TestHome::new();
    ok(&home, &["plugins", "add", "--yes", dist("notes").to_str().unwrap()]);
    let probe = fixture("cache-probe");
    let granted = "[limits]\ndeadline_ms = 60000\n[permissions]\ncache = true\n";
    home.plant("cache-probe", &manifest("cache-probe", granted), "cache-probe.wasm", &probe);
    home.plant("no-cache", &manifest("no-cache", ""), "no-cache.wasm", &crate::support::distinct(&probe, 1));
    home.grant("cache-probe");
    home
}

#[test]
fn notes_survive_across_processes() {
    let home = cache_home();
    assert_eq!(ok(&home, &["run", "note", "add", "buy", "milk"]), "noted (1 in all)\n");
    assert_eq!(ok(&home, &["run", "note", "add", "call mom"]), "noted (2 in all)\n");
    assert_eq!(ok(&home, &["run", "note", "list"]), "1. buy milk\n2. call mom\n");
    assert_eq!(ok(&home, &["run", "note", "clear"]), "cleared\n");
    assert_eq!(ok(&home, &["run", "note", "list"]), "no notes\n");
    assert_eq!(home.run(&["run", "note", "frobnicate"]).status.code(), Some(2));
}

#[test]
fn plugins_see_only_their_own_namespace() {
    let home = cache_home();
    ok(&home, &["run", "note", "add", "keep me"]);
    ok(&home, &["cache", "set", "k", "user's"]);
    assert_eq!(ok(&home, &["run", "cache-probe:set", "k", "probe's"]), "ok\n");
    assert_eq!(ok(&home, &["run", "cache-probe:get", "k"]), "probe's\n");
    assert_eq!(ok(&home, &["cache", "get", "k"]), "user's\n");
    assert_eq!(ok(&home, &["cache", "get", "--plugin", "cache-probe", "k"]), "probe's\n");
    // Crafted keys and patterns reach nothing outside the probe's namespace.
    let separator = "\u{1f}";
    for key in ["../notes/notes", "p\u{1f}notes\u{1f}notes", "notes", "*"] {
        assert_eq!(ok(&home, &["run", "cache-probe:get", key]), "(none)\n", "{key:?}");
    }
    for pattern in ["*", "../*", "*notes*", &format!("*{separator}*"), "\\*"] {
        ok(&home, &["run", "cache-probe:inval", pattern]);
    }
    assert_eq!(ok(&home, &["run", "note", "list"]), "1. keep me\n");
    assert_eq!(ok(&home, &["cache", "get", "k"]), "user's\n");
    assert_eq!(ok(&home, &["run", "cache-probe:get", "k"]), "(none)\n");

    // Without the permission: an error the plugin sees and reports.
    let out = home.run(&["run", "no-cache:set", "k", "v"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("Denied: the cache is not granted to this plugin"), "{}", text(&out).1);
}

#[test]
fn two_processes_write_at_once_and_lose_nothing() {
    let home = cache_home();
    let spawn = |prefix: &str| {
        home.isaac().args(["-q", "run", "cache-probe:fill", prefix, "300"]).stdout(Stdio::piped()).spawn().unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(text(&out).0, "300\n");
    }
    for prefix in ["a", "b"] {
        let removed =
            json(&home, &["cache", "invalidate", "--plugin", "cache-probe", &format!("{prefix}-*"), "--json"]);
        assert_eq!(removed["removed"], 300, "{prefix}");
    }
}

#[test]
fn a_writer_killed_mid_write_loses_nothing_it_acknowledged() {
    let home = cache_home();
    let mut child = home
        .isaac()
        .args(["run", "cache-probe:fill", "k", "10000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut last_acked = None;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(key) = line.strip_prefix("cache-probe: warn: acked ") {
            last_acked = Some(key.to_owned());
            if key == "k-500" {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer should have been killed, not finished");
    let last = last_acked.unwrap();
    assert_eq!(last, "k-500");
    assert_eq!(ok(&home, &["cache", "get", "--plugin", "cache-probe", &last]), "500\n");
    let removed = json(&home, &["cache", "invalidate", "--plugin", "cache-probe", "k-*", "--json"]);
    assert!(removed["removed"].as_u64().unwrap() >= 501, "{removed}");
}

#[test]
fn stats_match_a_scripted_workload_exactly() {
    let home = cache_home();
    ok(&home, &["cache", "stats", "--reset"]);
    ok(&home, &["cache", "set", "a", "1"]);
    ok(&home, &["cache", "set", "b", "2", "--never"]);
    ok(&home, &["cache", "get", "a"]);
    ok(&home, &["cache", "get", "b"]);
    assert_eq!(home.run(&["cache", "get", "c"]).status.code(), Some(1));
    ok(&home, &["cache", "get", "a"]);
    ok(&home, &["run", "cache-probe:get", "a"]);
    let s = json(&home, &["cache", "stats", "--json"]);
    assert_eq!((s["hits"].as_u64(), s["misses"].as_u64(), s["sets"].as_u64()), (Some(3), Some(2), Some(2)), "{s}");
    assert_eq!(s["hit_rate"].as_f64(), Some(0.6), "{s}");
    let tier_hits = ["l1_hits", "l2_hits", "l3_hits"].map(|k| s[k].as_u64().unwrap());
    assert_eq!(tier_hits.iter().sum::<u64>(), 3, "{s}");
    assert!(s["l3_entries"].as_u64().unwrap() >= 2 && s["l3_bytes"].as_u64().unwrap() > 0, "{s}");
    let s = json(&home, &["cache", "stats", "--reset", "--json"]);
    assert_eq!((s["hits"].as_u64(), s["misses"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn warming_after_a_restart() {
    let home = cache_home();
    for key in ["x", "y", "z"] {
        ok(&home, &["cache", "set", key, key]);
    }
    for _ in 0..3 {
        ok(&home, &["cache", "get", "x"]);
        ok(&home, &["cache", "get", "y"]);
    }
    let report = json(&home, &["cache", "warm", "--top", "2", "--json"]);
    assert_eq!(report["considered"], 2, "{report}");
    assert_eq!(report["in_memory"].as_u64().unwrap() + report["loaded"].as_u64().unwrap(), 2, "{report}");
    // A reset forgets the statistics and the usage counts, not the hot set:
    // a new process answers the hot keys from memory on its first get.
    ok(&home, &["cache", "stats", "--reset"]);
    ok(&home, &["cache", "get", "x"]);
    let s = json(&home, &["cache", "stats", "--json"]);
    assert_eq!(s["l1_hits"], 1, "{s}");
    let report = json(&home, &["cache", "warm", "--top", "2", "--json"]);
    assert_eq!(report["considered"], 1, "only x was used since the reset: {report}");
}

#[test]
fn oversize_values_are_refused_clearly() {
    let home = cache_home();
    std::fs::write(home.path().join("config.toml"), "[cache]\nmax_value_kb = 1\n").unwrap();
    let big = "x".repeat(2000);
    let out = home.run(&["cache", "set", "k", &big]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("larger than the limit of 1024 bytes ([cache] max_value_kb"), "{}", text(&out).1);
    let out = home.run(&["run", "cache-probe:set", "k", &big]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("TooLarge"), "{}", text(&out).1);
    let out = home.run(&["cache", "set", &"k".repeat(300), "v"]);
    assert!(text(&out).1.contains("max_key_bytes"), "{}", text(&out).1);
}

#[test]
fn a_corrupt_state_file_is_a_clear_error() {
    let home = cache_home();
    ok(&home, &["cache", "set", "k", "v"]);
    let data = home.path().join("state/data.mdb");
    std::fs::write(&data, vec![0xAB; 64 << 10]).unwrap();
    for args in [&["cache", "get", "k"][..], &["run", "note", "list"]] {
        let out = home.run(args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&home.path().join("state").display().to_string()), "{stderr}");
        assert!(stderr.contains("delete it to start afresh"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn remove_purge_deletes_the_plugins_namespace() {
    let home = cache_home();
    ok(&home, &["run", "note", "add", "secret"]);
    ok(&home, &["plugins", "remove", "notes"]);
    assert_eq!(ok(&home, &["cache", "get", "--plugin", "notes", "notes"]), "secret\n", "kept without --purge");
    ok(&home, &["plugins", "add", "--yes", dist("notes").to_str().unwrap()]);
    let out = json(&home, &["plugins", "remove", "--purge", "notes", "--json"]);
    assert_eq!(out["purged_keys"], 1);
    assert_eq!(home.run(&["cache", "get", "--plugin", "notes", "notes"]).status.code(), Some(1));
}
