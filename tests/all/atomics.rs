//! Cache atomics through the real binary: many processes and a shell
//! counting one key, notes added at once, compare-and-swap from a plugin,
//! `isaac cache incr`.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Child, Stdio};

use crate::support::redis::RedisServer;
use crate::support::{TestHome, dist, fixture, manifest, text};

fn ok(home: &TestHome, args: &[&str]) -> String {
    home.ok(args)
}

/// A home on `cold` (a config file naming the cold tier; empty: LMDB) with
/// the example plugins `names`.
fn added(cold: &str, names: &[&str]) -> TestHome {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), cold).unwrap();
    for name in names {
        ok(&home, &["plugins", "add", "--yes", dist(name).to_str().unwrap()]);
    }
    home
}

/// The visit numbers in greet's lines (`Hello, bars! (visit #7)`).
fn visits(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .map(|line| {
            let n = line.rsplit_once('#').and_then(|(_, n)| n.strip_suffix(')')).unwrap_or_else(|| panic!("{line}"));
            n.parse().unwrap()
        })
        .collect()
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

#[test]
fn a_hundred_processes_and_a_shell_counting_at_once_lose_no_visit() {
    counting_at_once("");
}

#[test]
fn notes_added_at_once_are_all_kept() {
    notes_at_once("");
}

#[test]
fn compare_and_swap_from_a_plugin() {
    swapping(&TestHome::new());
}

#[test]
fn cache_incr_from_the_command_line() {
    incr_from_the_command_line(&TestHome::new());
}

/// The same tests with the cold tier on a real Redis.
#[test]
fn the_same_on_redis() {
    let server = RedisServer::start(&[]);
    let cold = server.config("");
    counting_at_once(&cold);
    notes_at_once(&cold);
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), &cold).unwrap();
    swapping(&home);
    incr_from_the_command_line(&home);
}

fn counting_at_once(cold: &str) {
    let home = added(cold, &["greet-rs"]);
    // Compile once, so the racers only map the code.
    ok(&home, &["run", "greet-rs", "warm-up"]);
    let shell_runs = 20;
    let mut shell = home.isaac().args(["-q", "shell"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let runs: Vec<Child> = (0..100)
        .map(|_| home.isaac().args(["-q", "run", "greet-rs", "bars"]).stdout(Stdio::piped()).spawn().unwrap())
        .collect();
    shell.stdin.take().unwrap().write_all("greet-rs bars\n".repeat(shell_runs).as_bytes()).unwrap();
    let mut seen: Vec<u64> = runs.into_iter().flat_map(|child| visits(&finish(child))).collect();
    let from_shell = visits(&finish(shell));
    assert_eq!(from_shell.len(), shell_runs);
    seen.extend(from_shell);
    // Every increment counted once, and each caller saw its own sum.
    let distinct: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(distinct, (1..=120).collect(), "visits seen: {seen:?}");
    assert_eq!(ok(&home, &["run", "greet-rs", "bars"]), "Hello, bars! (visit #121)\n");
    assert_eq!(ok(&home, &["cache", "incr", "--plugin", "greet-rs", "visits:bars"]), "122\n");
}

fn notes_at_once(cold: &str) {
    let home = added(cold, &["notes"]);
    ok(&home, &["run", "note", "add", "first"]);
    let adds: Vec<Child> = (0..20)
        .map(|i| {
            home.isaac().args(["-q", "run", "note", "add", &format!("n{i}")]).stdout(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in adds {
        finish(child);
    }
    let list = ok(&home, &["run", "note", "list"]);
    let notes: BTreeSet<&str> = list.lines().map(|l| l.split_once(". ").unwrap().1).collect();
    let want: BTreeSet<String> = (0..20).map(|i| format!("n{i}")).chain(["first".into()]).collect();
    assert_eq!(notes, want.iter().map(String::as_str).collect());
    assert_eq!(list.lines().next(), Some("1. first"));
}

fn swapping(home: &TestHome) {
    let granted = "[limits]\ndeadline_ms = 60000\n[permissions]\ncache = true\n";
    home.plant("cache-probe", &manifest("cache-probe", granted), "cache-probe.wasm", &fixture("cache-probe"));
    home.grant("cache-probe");
    let run = |args: &[&str]| ok(home, &[&["run"], args].concat());
    assert_eq!(run(&["cache-probe:cas", "k", "a", "b"]), "false\n");
    assert_eq!(run(&["cache-probe:get", "k"]), "(none)\n");
    assert_eq!(run(&["cache-probe:cas", "k", "-", "a"]), "true\n");
    // Stale: another writer changed it; false, and nothing changes.
    ok(home, &["cache", "set", "--plugin", "cache-probe", "k", "z"]);
    assert_eq!(run(&["cache-probe:cas", "k", "a", "b"]), "false\n");
    assert_eq!(run(&["cache-probe:get", "k"]), "z\n");
    assert_eq!(run(&["cache-probe:cas", "k", "z", "b"]), "true\n");
    // Expired counts as absent.
    assert_eq!(run(&["cache-probe:set", "e", "old", "1"]), "ok\n");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(run(&["cache-probe:cas", "e", "old", "new"]), "false\n");
    assert_eq!(run(&["cache-probe:cas", "e", "-", "new"]), "true\n");
    // Appends through `cache::update` from three processes at once.
    let appends: Vec<Child> = ["x", "y", "z"]
        .iter()
        .map(|t| {
            let args = ["-q", "run", "cache-probe:append", "list", t, "30"];
            home.isaac().args(args).stdout(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in appends {
        finish(child);
    }
    let list = run(&["cache-probe:get", "list"]);
    for t in ["x", "y", "z"] {
        assert_eq!(list.lines().filter(|l| *l == t).count(), 30, "{t}: {list}");
    }
}

fn incr_from_the_command_line(home: &TestHome) {
    assert_eq!(ok(home, &["cache", "incr", "n"]), "1\n");
    assert_eq!(ok(home, &["cache", "incr", "n", "41"]), "42\n");
    assert_eq!(ok(home, &["cache", "incr", "n", "-50"]), "-8\n");
    assert_eq!(ok(home, &["cache", "get", "n"]), "-8\n");
    ok(home, &["cache", "set", "word", "hello"]);
    let out = home.run(&["cache", "incr", "word"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("the value at `word` is not a decimal integer"), "{}", text(&out).1);
    assert_eq!(ok(home, &["cache", "get", "word"]), "hello\n");
    ok(home, &["cache", "set", "max", &i64::MAX.to_string()]);
    let out = home.run(&["cache", "incr", "max"]);
    assert!(text(&out).1.contains("would leave the range of a 64-bit integer"), "{}", text(&out).1);
}
