//! What is checked is what is used: `plugins add` reads the plugin once, so
//! files changed while the user reads the permission request change nothing
//! that is installed or granted.

use rexpect::session::spawn_command;

use crate::support::{TestHome, distinct, example_wasm, fixture, manifest, text};

#[test]
fn files_swapped_during_the_review_are_not_what_gets_installed() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    let reviewed = manifest("swapper", "[permissions]\ncache = true\n");
    std::fs::write(src.path().join("plugin.toml"), &reviewed).unwrap();
    let hello = example_wasm("hello");
    std::fs::write(src.path().join("swapper.wasm"), &hello).unwrap();

    let mut cmd = home.isaac();
    cmd.args(["plugins", "add", src.path().to_str().unwrap()]).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("grant these permissions? [y/N]").unwrap();
    // While the user reads: a bigger request and other code.
    let home_dir = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let greedy = manifest("swapper", &format!("[permissions]\ncache = true\nfiles = {{ write = [\"{home_dir}\"] }}\n"));
    std::fs::write(src.path().join("plugin.toml"), greedy).unwrap();
    std::fs::write(src.path().join("swapper.wasm"), distinct(&fixture("hostile"), 31)).unwrap();
    p.send_line("y").unwrap();
    p.exp_eof().unwrap();

    let installed = home.path().join("plugins/swapper");
    assert_eq!(std::fs::read_to_string(installed.join("plugin.toml")).unwrap(), reviewed);
    assert_eq!(std::fs::read(installed.join("swapper.wasm")).unwrap(), hello);
    let info: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["plugins", "info", "swapper", "--json"])).0).unwrap();
    assert_eq!(info["granted"], true, "{info}");
    assert_eq!(info["grant"]["permissions"]["files"]["write"], serde_json::json!([]), "{info}");
    assert_eq!(text(&home.run(&["run", "swapper:hello", "x"])).0, "Hello, x!\n");
}
