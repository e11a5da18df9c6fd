//! Has the linker lay out first, in one place, the functions a warm `isaac
//! run` executes (`startup-order.txt`, made by `scripts/startup-order.sh`).
//!
//! They are ~1 MB of the binary's 22 MB of code. Scattered, a start faults
//! in ~90 pieces of code, each mapping 32 pages it mostly does not need;
//! together, ~35 fewer faults and ~0.1 ms less per start (docs/performance.md,
//! "The start-up code in one place").
//!
//! Only where the linker is rust-lld, Rust's default on x86-64 Linux: a
//! configured linker (`RUSTC_LINKER`, `-C linker`) may not know the option.
//! A name in the list that the build does not have is skipped.

// Cargo reads a build script's instructions from its stdout.
#![allow(clippy::disallowed_macros)]

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=startup-order.txt");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if !default_lld() {
        return;
    }
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("startup-order.txt");
    println!("cargo:rustc-link-arg-bin=isaac=-Wl,--symbol-ordering-file={}", order.display());
    println!("cargo:rustc-link-arg-bin=isaac=-Wl,--no-warn-symbol-ordering");
}

/// Whether the binary is linked by rust-lld: x86-64 Linux with no linker of
/// the user's choosing.
fn default_lld() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && env::var_os("RUSTC_LINKER").is_none()
        && !flags.contains("linker")
        && !flags.contains("link-self-contained")
}
