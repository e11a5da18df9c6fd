//! `isaac plugins update` keeps a plugin's identity: the publisher of one
//! plugin cannot use an update to replace another, take its grant, its
//! cached data or its commands. Updates from folders (a recorded source
//! like any other), through the real binary.

use super::s;
use crate::support::{TestHome, example_wasm, manifest, text};

const CACHE: &str = "[permissions]\ncache = true\n";

/// A plugin folder `name` with the component of example `example`.
fn folder(name: &str, example: &str, version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    rewrite(dir.path(), name, example, version);
    dir
}

fn rewrite(dir: &std::path::Path, name: &str, example: &str, version: &str) {
    let text = manifest(name, CACHE).replace("version = \"0.1.0\"", &format!("version = \"{version}\""));
    std::fs::write(dir.join("plugin.toml"), text).unwrap();
    std::fs::write(dir.join(format!("{name}.wasm")), example_wasm(example)).unwrap();
}

#[test]
fn an_update_that_renames_itself_cannot_replace_another_plugin() {
    let home = TestHome::new();
    let a = folder("alpha", "hello", "1.0.0");
    let b = folder("beta", "wordcount", "1.0.0");
    home.ok(&["plugins", "add", s(a.path()), "--yes"]);
    home.ok(&["plugins", "add", s(b.path()), "--yes"]);
    home.ok(&["cache", "set", "--plugin", "beta", "secret", "beta's own"]);
    let beta_before = home.json(&["plugins", "info", "beta", "--json"]);

    // alpha's publisher ships a "next version" that calls itself beta.
    rewrite(a.path(), "beta", "hello", "2.0.0");
    for args in [
        vec!["plugins", "update", "alpha"],
        vec!["plugins", "update", "alpha", "--dry-run"],
        vec!["plugins", "update", "alpha", "--yes"],
    ] {
        let err = home.fails(&args);
        assert!(err.contains("`alpha`") && err.contains("`beta`") && err.contains("keeps the plugin's name"), "{err}");
    }
    // Without a name: the same refusal for alpha, beta itself is fine.
    let out = home.run(&["plugins", "update", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("keeps the plugin's name"), "{stderr}");

    let beta_after = home.json(&["plugins", "info", "beta", "--json"]);
    assert_eq!(beta_before["sha256"], beta_after["sha256"], "beta's component is untouched");
    assert_eq!(beta_before["grant"], beta_after["grant"], "beta's grant is untouched");
    assert!(home.ok(&["cache", "get", "--plugin", "beta", "secret"]).contains("beta's own"));
    assert_eq!(home.ok(&["run", "wc", "still counts"]), "1 2 12\n");
    assert_eq!(home.json(&["plugins", "info", "alpha", "--json"])["version"], "1.0.0");
}

#[test]
fn an_update_cannot_take_a_command_another_plugin_offers() {
    let home = TestHome::new();
    let a = folder("alpha", "wordcount", "1.0.0");
    home.ok(&["plugins", "add", s(a.path()), "--yes"]);
    home.ok(&["plugins", "add", crate::support::dist("hello").to_str().unwrap()]);
    // alpha's next version offers hello's commands.
    rewrite(a.path(), "alpha", "hello", "1.1.0");
    for args in [vec!["plugins", "update", "alpha", "--dry-run"], vec!["plugins", "update", "alpha", "--yes"]] {
        let err = home.fails(&args);
        assert!(err.contains("`hello`") && err.contains("another plugin's command"), "{err}");
    }
    assert_eq!(home.ok(&["run", "hello", "Ada"]), "Hello, Ada!\n", "hello still resolves to the hello plugin");
    assert_eq!(home.json(&["plugins", "info", "alpha", "--json"])["version"], "1.0.0");
}

#[test]
fn a_dry_run_lists_every_reviewed_field_that_changed() {
    let home = TestHome::new();
    let a = folder("alpha", "hello", "1.0.0");
    home.ok(&["plugins", "add", s(a.path()), "--yes"]);
    let text = manifest("alpha", CACHE)
        .replace("version = \"0.1.0\"", "version = \"1.1.0\"")
        .replace("test plugin", "now with more");
    std::fs::write(a.path().join("plugin.toml"), text).unwrap();
    std::fs::write(a.path().join("alpha.wasm"), crate::support::distinct(&example_wasm("hello"), 3)).unwrap();
    let dry = home.ok(&["plugins", "update", "alpha", "--dry-run"]);
    for expected in [
        "alpha: 1.0.0 -> 1.1.0",
        "- description test plugin",
        "+ description now with more",
        "- component sha256",
        "+ component sha256",
        "permissions asked: unchanged",
    ] {
        assert!(dry.contains(expected), "{expected:?} in {dry}");
    }
}
