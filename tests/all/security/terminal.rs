//! Text a plugin controls cannot drive the terminal: manifest strings with
//! control characters are refused; results, errors, logs and metadata reach
//! a terminal sanitised; a result written to a pipe stays byte-exact.

use rexpect::session::spawn_command;

use crate::support::recorder::{Recorder, Reply, Seen};
use crate::support::{TestHome, distinct, fixture, manifest, text};

fn hostile_home() -> TestHome {
    let home = TestHome::new();
    home.plant("hostile", &manifest("hostile", ""), "hostile.wasm", &distinct(&fixture("hostile"), 11));
    home
}

#[test]
fn a_manifest_with_control_characters_is_refused_where_it_says_so() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    // The description would erase the line above it and the request below.
    let toml = "name = \"sneaky\"\nversion = \"0.1.0\"\ndescription = \"nice\\u001b[1A\\u001b[2K\"\n\
                [permissions]\nenv = [\"OPENAI_API_KEY\"]\n";
    std::fs::write(src.path().join("plugin.toml"), toml).unwrap();
    std::fs::write(src.path().join("sneaky.wasm"), fixture("hostile")).unwrap();
    let out = home.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("plugin.toml:3:15: control character '\\u{1b}'"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr}");
    assert!(!home.path().join("plugins/sneaky").exists());
}

#[test]
fn results_are_byte_exact_to_a_pipe_and_sanitised_on_a_terminal() {
    let home = hostile_home();
    let raw = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07isaac: all permissions granted\u{202e}\r";
    // A pipe: byte-exact, as scripts expect.
    let out = home.run(&["run", "ansi"]);
    assert_eq!(text(&out).0, format!("{raw}\n"));
    // JSON stays JSON.
    let json: serde_json::Value = serde_json::from_str(&text(&home.run(&["--json", "run", "ansi"])).0).unwrap();
    assert_eq!(json["output"], raw);
    // A terminal: every control visible, none sent.
    let mut cmd = home.isaac();
    cmd.args(["run", "ansi"]).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(20_000)).unwrap();
    let shown = p.exp_eof().unwrap();
    assert!(shown.contains("\\x1b[2J\\x1b]0;pwned\\x07\\x1b]52;c;cHduZWQ=\\x07isaac: all"), "{shown:?}");
    assert!(shown.contains("\\u{202e}\\r"), "{shown:?}");
    assert!(!shown.contains('\x1b') && !shown.contains('\u{202e}'), "{shown:?}");
}

#[test]
fn errors_logs_and_metadata_are_sanitised() {
    let home = hostile_home();
    let stderr = text(&home.run(&["run", "fail-ansi"])).1;
    assert!(stderr.contains("hostile:fail-ansi failed: \\x1b[1A\\x1b[2Kforged"), "{stderr}");
    let stderr = text(&home.run(&["run", "log-forge"])).1;
    // One log message is one line: the forged second line stays on the first.
    assert!(stderr.contains("hostile: warn: harmless\\nisaac: plugin `hostile` granted everything"), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("isaac: plugin")), "{stderr}");
    let info = text(&home.run(&["plugins", "info", "hostile"])).0;
    assert!(info.contains("Fakes the terminal\\x1b[2K") && info.contains("usage: ansi\\x1b[1A"), "{info}");
    assert!(!info.contains('\x1b') && !info.contains('\u{202e}'), "{info}");
}

/// A registry on loopback serving example hello as `x/hello:1`, until
/// `hostile` is set: then its manifest answers with an error whose text
/// would drive a terminal.
fn hello_registry(hostile: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Recorder {
    use crate::support::registry::sha256;
    let wasm = crate::support::example_wasm("hello");
    let toml = manifest("hello", "").into_bytes();
    let config = br#"{"architecture":"wasm","os":"wasip2"}"#.to_vec();
    let digest = |b: &[u8]| format!("sha256:{}", sha256(b));
    let descriptor = |b: &[u8], t: &str| serde_json::json!({"mediaType": t, "digest": digest(b), "size": b.len()});
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor(&config, "application/vnd.wasm.config.v0+json"),
        "layers": [descriptor(&wasm, "application/wasm"), descriptor(&toml, "application/vnd.isaac.plugin.manifest.v1+toml")],
    })
    .to_string()
    .into_bytes();
    let blobs = [(digest(&wasm), wasm), (digest(&toml), toml), (digest(&config), config)];
    Recorder::start(move |seen: &Seen| {
        let ok = |bytes: Vec<u8>| Reply::Status(200, vec![], bytes);
        if seen.path.contains("/manifests/") {
            let hostile = hostile.load(std::sync::atomic::Ordering::SeqCst);
            return match (hostile, seen.method.as_str()) {
                (false, _) => Reply::Status(200, vec![("content-type".into(), "application/vnd.oci.image.manifest.v1+json".into())], body.clone()),
                // Something new to fetch...
                (true, "HEAD") => Reply::Status(200, vec![("docker-content-digest".into(), format!("sha256:{}", "e".repeat(64)))], vec![]),
                // ...and an answer that would set the title, ring, move the cursor.
                (true, _) => Reply::Status(404, vec![], br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"\u001b]0;pwned\u0007\u001b[1A\u001b[2K\u2028\u061c\ufeffnothing to see"}]}"#.to_vec()),
            };
        }
        match blobs.iter().find(|(d, _)| seen.path.ends_with(d.as_str())) {
            Some((_, bytes)) => ok(bytes.clone()),
            None => Reply::Status(404, vec![], b"{}".to_vec()),
        }
    })
}

#[test]
fn a_registry_s_error_text_under_update_reaches_stderr_sanitised() {
    let hostile = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let registry = hello_registry(hostile.clone());
    let home = TestHome::new();
    home.ok(&["plugins", "add", &format!("oci://127.0.0.1:{}/x/hello:1", registry.port)]);
    assert_eq!(home.ok(&["run", "hello", "Ada"]), "Hello, Ada!\n");
    hostile.store(true, std::sync::atomic::Ordering::SeqCst);
    for args in [&["plugins", "update"][..], &["plugins", "update", "hello"]] {
        let out = home.run(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout} {stderr}");
        assert!(stderr.contains("nothing to see") && stderr.contains("\\x1b]0;pwned"), "{args:?}: {stderr}");
        for bad in ['\x1b', '\x07', '\u{2028}', '\u{061c}', '\u{feff}'] {
            assert!(!stderr.contains(bad) && !stdout.contains(bad), "{args:?}: {bad:?} in {stderr:?}");
        }
    }
}
