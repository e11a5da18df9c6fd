//! The hostile-plugin suite: a plugin written to attack the host, run
//! through the real `isaac` binary against one home. Each attack ends with a
//! clear error and exit status 1; the host stays healthy; the well-behaved
//! plugins' cached data and notes are all still there afterwards.

use std::net::TcpListener;

use crate::support::{TestHome, dist, distinct, fixture, manifest, text};

/// Run `args` and expect exit status 1 with `fragment` on stderr.
fn refused(home: &TestHome, args: &[&str], fragment: &str) -> String {
    let out = home.isaac().args(args).env("SECRET_TOKEN", "hunter2").env("HOSTILE_OK", "fine").output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout} {stderr}");
    assert!(stderr.contains(fragment), "{args:?}: expected {fragment:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

#[test]
fn every_attack_is_stopped_and_nothing_is_lost() {
    let home = TestHome::new();
    // Well-behaved plugins with data to protect.
    assert!(home.run(&["plugins", "add", "--yes", dist("notes").to_str().unwrap()]).status.success());
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    assert!(home.run(&["run", "note", "add", "precious"]).status.success());
    let probe = "[permissions]\ncache = true\n";
    home.plant("cache-probe", &manifest("cache-probe", probe), "cache-probe.wasm", &fixture("cache-probe"));
    home.grant("cache-probe");
    assert!(home.run(&["run", "cache-probe:set", "k", "kept"]).status.success());

    // The attacker: it may read one directory and one variable.
    let granted = tempfile::tempdir().unwrap();
    let readable = granted.path().join("readable");
    std::fs::create_dir(&readable).unwrap();
    std::fs::write(readable.join("ok.txt"), "allowed").unwrap();
    std::fs::write(granted.path().join("secret.txt"), "outside").unwrap();
    let perms = format!(
        "[limits]\ndeadline_ms = 500\nmemory_mb = 32\n[permissions]\nenv = [\"HOSTILE_OK\"]\nfiles = {{ read = [\"{}\"] }}\n",
        readable.display()
    );
    home.plant("hostile", &manifest("hostile", &perms), "hostile.wasm", &fixture("hostile"));
    let r = readable.display().to_string();
    // Without a grant it does not run at all.
    refused(&home, &["run", "hostile:env", "HOSTILE_OK"], "asks for permissions that were never granted");
    home.grant("hostile");
    assert_eq!(
        text(&home.isaac().args(["run", "env", "HOSTILE_OK"]).env("HOSTILE_OK", "fine").output().unwrap()).0,
        "fine\n"
    );
    assert_eq!(text(&home.run(&["run", "read", &format!("{r}/ok.txt")])).0, "allowed\n");

    refused(&home, &["run", "spin"], "ran past its deadline of 500 ms");
    refused(&home, &["run", "bomb"], "tried to use more than its memory limit of 32 MiB");
    refused(&home, &["run", "recurse"], "plugin `hostile` crashed");
    refused(&home, &["run", "big-return", "8"], "tried to pass more than 4160 KiB to the host at once");
    refused(&home, &["-v", "run", "log-flood"], "logged more than 65536 bytes");
    let out = refused(&home, &["run", "read", "/etc/passwd"], "hostile:read failed");
    assert!(!out.contains("root:"));
    refused(&home, &["run", "list"], "HOME: environment variable not found");
    refused(&home, &["run", "list", "/"], "hostile:list failed");
    refused(&home, &["run", "read", &format!("{r}/../secret.txt")], "hostile:read failed");
    refused(&home, &["run", "write", &format!("{r}/x.txt")], "hostile:write failed");
    assert!(!readable.join("x.txt").exists());
    refused(&home, &["run", "env", "SECRET_TOKEN"], "SECRET_TOKEN: environment variable not found");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    refused(&home, &["run", "connect", &listener.local_addr().unwrap().to_string()], "hostile:connect failed");
    // By name: the lookup is refused too (a clean error, not a panic of the
    // runtime, which has no I/O driver for a plugin granted no network).
    let by_name = format!("localhost:{}", listener.local_addr().unwrap().port());
    refused(&home, &["run", "connect", &by_name], "hostile:connect failed");
    assert!(listener.accept().is_err(), "no connection reached the listener");

    // Its bytes change after the grant: it does not run until granted again.
    std::fs::write(home.path().join("plugins/hostile/hostile.wasm"), distinct(&fixture("hostile"), 9)).unwrap();
    refused(&home, &["run", "env", "HOSTILE_OK"], "changed since its permissions were granted");
    home.grant("hostile");

    // A tampered compiled artifact is never run: it is compiled again.
    for path in home.artifacts() {
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle..middle + 64].fill(0xCC);
        std::fs::write(&path, bytes).unwrap();
    }
    let out = home.run(&["run", "hello", "again"]);
    assert_eq!(text(&out).0, "Hello, again!\n");
    assert!(text(&out).1.contains("does not match the digest recorded"), "{}", text(&out).1);

    // The host is healthy and nothing was lost.
    assert_eq!(text(&home.run(&["run", "note", "list"])).0, "1. precious\n");
    assert_eq!(text(&home.run(&["run", "cache-probe:get", "k"])).0, "kept\n");
}

/// Overwrite `path` in place (same inode, same size) with `change`d bytes,
/// then put its modification time back: what an attacker who can write the
/// file does to look unchanged.
fn rewrite_keeping_size_and_mtime(path: &std::path::Path, change: impl FnOnce(&mut [u8])) {
    use std::io::{Seek, SeekFrom, Write};
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    change(&mut bytes);
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.write_all(&bytes).unwrap();
    file.set_modified(mtime).unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().len(), bytes.len() as u64);
}

#[test]
fn files_rewritten_in_place_keeping_size_and_mtime_are_hashed_again() {
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("hello").to_str().unwrap()]);
    // The first run records what the files are; the next trusts them.
    for _ in 0..2 {
        assert_eq!(home.ok(&["run", "hello", "x"]), "Hello, x!\n");
    }
    // The compiled code, tampered: hashed again, found out, compiled again.
    let artifact = home.artifacts().remove(0);
    rewrite_keeping_size_and_mtime(&artifact, |b| {
        let middle = b.len() / 2;
        b[middle..middle + 64].fill(0xCC);
    });
    let out = home.run(&["run", "hello", "x"]);
    assert_eq!(text(&out).0, "Hello, x!\n");
    assert!(text(&out).1.contains("does not match the digest recorded"), "{}", text(&out).1);
    // The component itself: its recorded digest is not trusted either.
    let wasm = home.path().join("plugins/hello/hello.wasm");
    rewrite_keeping_size_and_mtime(&wasm, |b| b[..4].copy_from_slice(b"\0bad"));
    let out = home.run(&["run", "hello", "x"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(!text(&out).0.contains("Hello"), "the old code ran: {}", text(&out).0);
}

#[test]
fn grants_are_reviewed_at_install() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    let perms = "[permissions]\nenv = [\"OPENAI_API_KEY\"]\nstdout = true\n";
    std::fs::write(src.path().join("plugin.toml"), manifest("asker", perms)).unwrap();
    std::fs::write(src.path().join("asker.wasm"), crate::support::example_wasm("hello")).unwrap();
    // Not on a terminal and no --yes: nothing is installed.
    let out = home.run(&["plugins", "add", src.path().to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("environment variable OPENAI_API_KEY  (warning: this looks like a secret)"), "{stderr}");
    assert!(stderr.contains("add --yes to grant them"), "{stderr}");
    assert!(!home.path().join("plugins/asker").exists());
    assert!(home.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]).status.success());
    let info: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["plugins", "info", "asker", "--json"])).0).unwrap();
    assert_eq!(info["granted"], true);
    assert_eq!(info["grant"]["permissions"]["env"][0], "OPENAI_API_KEY");

    // A plugin planted by hand that asks for something loads, but is listed
    // as needing a grant and does not run.
    home.plant(
        "planted",
        &manifest("planted", "[permissions]\ncache = true\n"),
        "planted.wasm",
        &distinct(&crate::support::example_wasm("hello"), 5),
    );
    let list: serde_json::Value = serde_json::from_str(&text(&home.run(&["plugins", "list", "--json"])).0).unwrap();
    let planted = list.as_array().unwrap().iter().find(|p| p["name"] == "planted").unwrap().clone();
    assert_eq!(planted["granted"], false, "{planted}");
    let out = home.run(&["run", "planted:hello"]);
    assert!(
        text(&out).1.contains("never granted; review and grant it with `isaac plugins grant planted`"),
        "{}",
        text(&out).1
    );

    // No grant may cover the isaac home.
    let greedy = format!("[permissions]\nfiles = {{ read = [\"{}\"] }}\n", home.path().display());
    std::fs::write(src.path().join("plugin.toml"), manifest("greedy", &greedy)).unwrap();
    std::fs::rename(src.path().join("asker.wasm"), src.path().join("greedy.wasm")).unwrap();
    let out = home.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]);
    assert!(text(&out).1.contains("covers the isaac home"), "{}", text(&out).1);
    let out = home.run(&["run", "--allow-read", home.path().to_str().unwrap(), "hello"]);
    assert!(text(&out).1.contains("covers the isaac home"), "{}", text(&out).1);
    // Nor a file in it: the run's read-only copy would hand its bytes over.
    let inside = home.path().join("config.toml");
    std::fs::write(&inside, "").unwrap();
    let out = home.run(&["run", "--allow-read", inside.to_str().unwrap(), "hello"]);
    assert!(text(&out).1.contains("covers the isaac home"), "{}", text(&out).1);
    assert_eq!(out.status.code(), Some(1));
    // Nor another name of one (a hard link elsewhere), nor what is not a
    // regular file (a FIFO would block the copy).
    let elsewhere = tempfile::tempdir().unwrap();
    let linked = elsewhere.path().join("notes.txt");
    std::fs::hard_link(&inside, &linked).unwrap();
    let out = home.run(&["run", "--allow-read", linked.to_str().unwrap(), "hello"]);
    assert!(text(&out).1.contains("has other names (hard links)"), "{}", text(&out).1);
    let fifo = elsewhere.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = home.run(&["run", "--allow-read", fifo.to_str().unwrap(), "hello"]);
    assert!(text(&out).1.contains("not a regular file or a directory"), "{}", text(&out).1);
}

#[test]
fn a_0_2_0_plugins_prints_reach_stderr_only_when_granted_and_are_capped() {
    // A plugin built against 0.2.0 keeps what it had: its prints are
    // captured, not its output (tests/all/pipes.rs has 0.3.0's streams).
    let home = TestHome::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prebuilt/hostile-wit-0.2.0.wasm");
    let hostile = std::fs::read(path).unwrap();
    let loud = "[permissions]\nstdout = true\n";
    home.plant("loud", &manifest("loud", loud), "loud.wasm", &distinct(&hostile, 1));
    home.plant("quiet", &manifest("quiet", ""), "quiet.wasm", &distinct(&hostile, 2));
    home.grant("loud");
    let out = home.run(&["run", "loud:print-flood"]);
    let (stdout, stderr) = text(&out);
    assert!(!stdout.contains("yyyy"), "prints never reach stdout");
    assert!(stderr.contains("loud| yyyy"), "granted prints show on stderr, prefixed");
    let out = home.run(&["run", "quiet:print-flood"]);
    assert!(!text(&out).1.contains("yyyy"), "ungranted prints are not shown");
    refused(&home, &["run", "quiet:print-flood"], "printed more than 1024 KiB");
}

// The hardening suite: each module attacks one rule through the real binary.
mod ai_budgets;
mod checked_bytes;
mod demo_home;
mod grants;
mod host_memory;
mod limits;
mod mcp;
mod quota;
mod terminal;
