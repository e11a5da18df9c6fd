//! Has the linker lay out first, in one place, the functions a warm `isaac
//! run` executes (`startup-order/PROFILE.txt`, made by
//! `scripts/startup-order.sh`).
//!
//! They are ~1 MB of the `release` binary's 22 MB of code. Scattered, a
//! start faulted in ~90 pieces of code, each mapping 32 pages it mostly did
//! not need; together, ~55 fewer faults and ~0.2 ms less per start
//! (docs/performance.md, "The start-up code in one place").
//!
//! Each profile has its own list (`release`, the tests' binary; `dist`,
//! what users install): Rust's symbol names carry a hash of each crate's
//! version, features, dependencies and profile, so a dependency bump
//! matches fewer of them (a name the build lacks is skipped;
//! `tests/all/layout.rs` says when too many are). `release`'s list holds
//! the names of `cargo build`'s binary and of `cargo test --workspace`'s
//! (isaac-host's `testing` feature on). A profile without a list is linked
//! as it comes.
//!
//! Only where the linker is rust-lld, Rust's default on x86-64 Linux: a
//! linker of the user's choosing (`RUSTC_LINKER`, `-C linker`, `-fuse-ld`)
//! may not know the option. `ISAAC_NO_STARTUP_ORDER=1` turns it off. The
//! crates of this package see `ISAAC_STARTUP_ORDER` set when it is on.

// Cargo reads a build script's instructions from its stdout.
#![allow(clippy::disallowed_macros)]

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=startup-order");
    for var in ["ISAAC_NO_STARTUP_ORDER", "RUSTFLAGS", "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if !default_lld() || env::var_os("ISAAC_NO_STARTUP_ORDER").is_some_and(|v| v != "0") {
        return;
    }
    let Some(profile) = profile() else { return };
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("startup-order")
        .join(format!("{profile}.txt"));
    if !order.is_file() {
        return;
    }
    let Some(order) = order.to_str() else {
        println!("cargo:warning=the start-up code is not ordered: {} is not UTF-8", order.display());
        return;
    };
    // `-Xlinker ARG` passes ARG whole (`-Wl,` would split a path at its commas).
    for arg in ["-Xlinker", &format!("--symbol-ordering-file={order}"), "-Xlinker", "--no-warn-symbol-ordering"] {
        println!("cargo:rustc-link-arg-bin=isaac={arg}");
    }
    println!("cargo:rustc-env=ISAAC_STARTUP_ORDER=1");
}

/// The profile being built: the folder `OUT_DIR` is in
/// (`TARGET_DIR/PROFILE/build/PACKAGE-HASH/out`); cargo's `PROFILE` says
/// only `release` or `debug`.
fn profile() -> Option<String> {
    let out = std::path::PathBuf::from(env::var_os("OUT_DIR")?);
    let name = out.ancestors().nth(3)?.file_name()?.to_str()?;
    Some(name.to_owned())
}

/// Whether the binary is linked by rust-lld: x86-64 Linux with no linker of
/// the user's choosing.
fn default_lld() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && env::var_os("RUSTC_LINKER").is_none()
        && !["linker", "link-self-contained", "fuse-ld", "ld-path", "-B"].iter().any(|f| flags.contains(f))
}
