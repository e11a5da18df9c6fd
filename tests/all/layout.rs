//! The `isaac` binary as built: the code a warm `isaac run` executes is laid
//! out in one place, as `host/startup-order/release.txt` lists it
//! (host/build.rs).

use std::collections::HashMap;
use std::process::Command;

use crate::support::isaac_bin;

#[test]
fn the_start_up_code_is_laid_out_in_one_place() {
    if cfg!(debug_assertions) || !isaac_host::testing::STARTUP_ORDERED {
        // The list names the functions of the `release` build, and
        // host/build.rs applies it only where the linker is rust-lld.
        return;
    }
    let listed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/host/startup-order/release.txt")).unwrap();
    let listed: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    let out = Command::new("nm").args(["--defined-only", "-S"]).arg(isaac_bin()).output().expect("nm (binutils)");
    assert!(out.status.success(), "nm: {}", String::from_utf8_lossy(&out.stderr));
    let symbols = String::from_utf8(out.stdout).unwrap();
    // Name → (address, size) of every function with a size.
    let functions: HashMap<&str, (u64, u64)> = symbols
        .lines()
        .filter_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            [address, size, "t" | "T", name] => {
                Some((name, (u64::from_str_radix(address, 16).ok()?, u64::from_str_radix(size, 16).ok()?)))
            }
            _ => None,
        })
        .collect();
    let found: Vec<(u64, u64)> = listed.iter().filter_map(|name| functions.get(name).copied()).collect();
    // The list holds the names of two builds (`cargo build`'s and this
    // one's, with the `testing` feature): most of each are the other's too.
    assert!(
        found.len() * 2 >= listed.len(),
        "only {} of the {} functions of host/startup-order/release.txt are in the binary (names change with \
         the dependencies): run scripts/startup-order.sh release",
        found.len(),
        listed.len()
    );
    // Together they span little more than their own size: not scattered
    // over the binary's 22 MB of code.
    let start = found.iter().map(|(address, _)| *address).min().unwrap();
    let end = found.iter().map(|(address, size)| address + size).max().unwrap();
    let size: u64 = found.iter().map(|(_, size)| size).sum();
    assert!(
        end - start < size * 3 / 2,
        "the listed functions span {} KiB for {} KiB of code: is the binary linked by rust-lld with host/build.rs's order?",
        (end - start) >> 10,
        size >> 10
    );
}
