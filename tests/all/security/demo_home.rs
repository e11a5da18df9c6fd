//! The demo never deletes a home it did not create: it ignores an exported
//! `ISAAC_HOME`, and refuses a `.isaac-demo` folder that is not its own.

use std::path::Path;
use std::process::Command;

#[test]
fn the_demo_keeps_away_from_homes_it_did_not_make() {
    let root = tempfile::tempdir().unwrap();
    let scripts = root.path().join("scripts");
    std::fs::create_dir(&scripts).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.sh");
    std::fs::copy(&demo, scripts.join("demo.sh")).unwrap();
    // The user's real home, exported, and a folder named like the demo's.
    let user_home = tempfile::tempdir().unwrap();
    std::fs::write(user_home.path().join("precious"), "plugins, grants, cache").unwrap();
    let squatted = root.path().join(".isaac-demo");
    std::fs::create_dir(&squatted).unwrap();
    std::fs::write(squatted.join("mine"), "not the demo's").unwrap();
    let out = Command::new("bash")
        .arg(scripts.join("demo.sh"))
        .env("ISAAC_HOME", user_home.path())
        .env("CARGO_TARGET_DIR", root.path().join("target"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("was not created by this demo"), "{stderr}");
    assert!(user_home.path().join("precious").exists());
    assert!(squatted.join("mine").exists());
}
