//! The `isaac` binary starts and answers `--version` and `--help`. (Having an
//! integration test here also makes `cargo test --workspace` build the
//! binary that the workspace's integration tests in `tests/` drive.)

use std::process::Command;

#[test]
fn version_and_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_isaac")).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("isaac "));
    let out = Command::new(env!("CARGO_BIN_EXE_isaac")).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("plugins"));
}
