//! Builds the guest components the integration tests and benchmarks run:
//! the example plugins (through `example-plugins/build.sh`, into
//! `$OUT_DIR/dist/NAME/`) and the broken fixture plugins of
//! `tests/fixtures/plugins` (into `$OUT_DIR/fixtures/`). Their paths reach
//! the tests as `ISAAC_TEST_DIST` and `ISAAC_TEST_FIXTURES`, and the
//! toolchain folder as `ISAAC_TEST_TOOLS`.
//!
//! A build installs nothing: the toolchains are the ones `scripts/setup.sh`
//! installed (`build.sh --no-install`). A language whose toolchain is
//! missing is named in a cargo warning and its plugins are not built (the
//! tests that need them fail, saying so); this script then runs again on the
//! next build, to pick up what was installed meanwhile. Without the
//! `wasm32-wasip2` target nothing builds: the build fails, naming it.
//!
//! The guests build with their own cargo invocation in `$CARGO_TARGET_DIR/guests`
//! (a separate target directory, so the nested cargo never waits on the
//! lock of the build that runs this script).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &[&str] = &[
    "attack_cmd",
    "cache_probe",
    "filters",
    "hostile",
    "http_probe",
    "metadata_spin",
    "metadata_trap",
    "misbehave",
    "no_run",
    "future_wit",
    "sockets_cmd",
];

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    for watched in [
        "example-plugins/rust",
        "example-plugins/python",
        "example-plugins/js",
        "example-plugins/c",
        "example-plugins/go",
        "example-plugins/zig",
        "example-plugins/cpp",
        "example-plugins/assemblyscript",
        "example-plugins/commands",
        "example-plugins/build.sh",
        "example-plugins/toolchains.sh",
        "plugin-sdk",
        "wit",
        "tests/fixtures/plugins",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }

    let dist = out.join("dist");
    // No plugin left from an earlier build stands in for one that did not build now.
    let _ = std::fs::remove_dir_all(&dist);
    run(guest_command("bash", &target)
        .arg(root.join("example-plugins/build.sh"))
        .arg("--no-install")
        .env("ISAAC_DIST", &dist));
    // Say which example languages were not built, and why (cargo shows these).
    let skipped = std::fs::read_to_string(dist.join("SKIPPED")).unwrap_or_default();
    for line in skipped.lines() {
        println!("cargo:warning=example plugins not built for {line}; their tests will fail: run scripts/setup.sh");
    }
    if !skipped.is_empty() {
        // A path that never exists: cargo runs this script again on the next
        // build, which builds what scripts/setup.sh installed meanwhile.
        println!("cargo:rerun-if-changed={}", out.join("incomplete").display());
    }

    let guests = target.join("guests");
    run(guest_command("cargo", &target)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(root.join("tests/fixtures/plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(&guests));
    let fixtures = out.join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    for name in FIXTURES {
        let built = guests.join("wasm32-wasip2/release").join(format!("{name}.wasm"));
        std::fs::copy(&built, fixtures.join(format!("{name}.wasm")))
            .unwrap_or_else(|e| panic!("copying {}: {e}", built.display()));
    }

    for var in ["ISAAC_LANGS", "ISAAC_TOOLS", "XDG_CACHE_HOME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rustc-env=ISAAC_TEST_DIST={}", dist.display());
    println!("cargo:rustc-env=ISAAC_TEST_FIXTURES={}", fixtures.display());
    println!("cargo:rustc-env=ISAAC_TEST_TOOLS={}", tools().display());
}

/// The toolchain folder, as example-plugins/build.sh finds it: ISAAC_TOOLS,
/// else `isaac-tools` in the user's cache folder.
fn tools() -> PathBuf {
    let set = |var: &str| env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("ISAAC_TOOLS").unwrap_or_else(|| {
        set("XDG_CACHE_HOME").unwrap_or_else(|| set("HOME").unwrap_or_default().join(".cache")).join("isaac-tools")
    })
}

/// A command with the environment of this build script minus what would
/// make the nested cargo build for the host or with the host's flags.
fn guest_command(program: &str, target: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_TARGET_DIR", target);
    cmd
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        status.success(),
        "{cmd:?} failed with {status}: the guest plugins did not build (a missing toolchain is named above; \
         scripts/setup.sh installs them)"
    );
}
