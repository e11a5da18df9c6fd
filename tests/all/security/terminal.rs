//! Text a plugin controls cannot drive the terminal: manifest strings with
//! control characters are refused; results, errors, logs and metadata reach
//! a terminal sanitised; a result written to a pipe stays byte-exact.

use rexpect::session::spawn_command;

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
