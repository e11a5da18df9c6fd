//! A plugin cannot raise its own limits: the deadline a manifest asks for is
//! capped, limits above the defaults are part of the grant, and `metadata`
//! runs under a short fixed deadline, so an install cannot hang.

use crate::support::{TestHome, distinct, fixture, manifest, text};

#[test]
fn a_manifest_cannot_take_an_endless_deadline() {
    let home = TestHome::new();
    let greedy = "[limits]\ndeadline_ms = 100000000\nmemory_mb = 512\n";
    home.plant("greedy", &manifest("greedy", greedy), "greedy.wasm", &distinct(&fixture("misbehave"), 21));
    // Limits above the defaults must be granted, and are shown at review.
    let out = home.run(&["run", "greedy:fail"]);
    assert!(text(&out).1.contains("never granted"), "{}", text(&out).1);
    let out = home.run(&["plugins", "grant", "greedy", "--yes"]);
    let stderr = text(&out).1;
    assert!(
        stderr.contains("memory: up to 512 MiB per call") && stderr.contains("time: up to 100000000 ms"),
        "{stderr}"
    );
    // Granted, the deadline is still capped by the host: 60 s by default,
    // here 300 ms through config.toml's [limits] max_deadline_ms.
    std::fs::write(home.path().join("config.toml"), "[limits]\nmax_deadline_ms = 300\n").unwrap();
    let out = home.run(&["run", "greedy:spin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("ran past its deadline of 300 ms"), "{}", text(&out).1);
    let info: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["plugins", "info", "greedy", "--json"])).0).unwrap();
    assert_eq!(info["limits"]["deadline_ms"], 300);
    // The user's own [plugins.NAME] may go past the cap.
    std::fs::write(
        home.path().join("config.toml"),
        "[limits]\nmax_deadline_ms = 300\n[plugins.greedy]\ndeadline_ms = 700\n",
    )
    .unwrap();
    let out = home.run(&["run", "greedy:spin"]);
    assert!(text(&out).1.contains("ran past its deadline of 700 ms"), "{}", text(&out).1);
}

#[test]
fn metadata_runs_under_a_short_fixed_deadline() {
    let home = TestHome::new();
    let src = tempfile::tempdir().unwrap();
    // A component whose metadata never returns, asking for a long deadline.
    std::fs::write(src.path().join("plugin.toml"), manifest("stuck", "[limits]\ndeadline_ms = 60000\n")).unwrap();
    std::fs::write(src.path().join("stuck.wasm"), fixture("metadata-spin")).unwrap();
    let out = home.run(&["plugins", "add", "--yes", src.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("calling its `metadata` export failed: plugin `stuck` ran past its deadline of 5000 ms"),
        "{}",
        text(&out).1
    );
    assert!(!home.path().join("plugins/stuck").exists());
}
