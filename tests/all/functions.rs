//! The function cache (compiled functions shared between plugins), through
//! the real binary: a second compile reuses the first one's functions (a
//! second JavaScript plugin, the engine's, skipping Winch), and
//! a record that is corrupted, truncated or moved onto another function's
//! key is ignored (counted, its pack deleted) and compiled afresh, giving
//! the very code a clean compile gives.

use std::fs;
use std::path::PathBuf;

use crate::support::{TestHome, dist};

fn add_hello(home: &TestHome) {
    home.ok(&["plugins", "add", dist("hello").to_str().unwrap(), "--yes", "-q"]);
}

/// The function cache's packs (not its lock, notes or temporary files).
fn packs(home: &TestHome) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for namespace in fs::read_dir(home.path().join("compiled/functions")).unwrap().flatten() {
        if namespace.path().is_dir() {
            let packs = fs::read_dir(namespace.path()).unwrap().flatten().map(|e| e.path());
            out.extend(packs.filter(|p| p.extension().is_some_and(|e| e == "pack")));
        }
    }
    out.sort();
    out
}

/// Where each index entry of a pack's `bytes` is (docs/security.md:
/// `"isaacpk1" | count: u32 | count × (key: 32 | offset: u64 | length: u32) | records`),
/// as the entry's own offset in the file, the record's offset and length.
fn index(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    assert_eq!(&bytes[..8], b"isaacpk1");
    let count = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| {
            let at = 12 + i * 44;
            let offset = u64::from_le_bytes(bytes[at + 32..at + 40].try_into().unwrap()) as usize;
            let len = u32::from_le_bytes(bytes[at + 40..at + 44].try_into().unwrap()) as usize;
            (at, offset, len)
        })
        .collect()
}

/// The compiled code of the only plugin in `home`.
fn artifact(home: &TestHome) -> Vec<u8> {
    let cwasm = home.artifacts();
    assert_eq!(cwasm.len(), 1, "{cwasm:?}");
    fs::read(&cwasm[0]).unwrap()
}

fn functions(home: &TestHome) -> serde_json::Value {
    home.json(&["plugins", "info", "hello", "--json"])["functions"].clone()
}

#[test]
fn a_second_compile_reuses_the_functions_of_the_first() {
    let home = TestHome::new();
    add_hello(&home);
    let first = functions(&home);
    assert!(first["compiled"].as_u64().unwrap() > 100, "{first}");
    home.ok(&["plugins", "remove", "hello", "-q"]);
    add_hello(&home);
    let second = functions(&home);
    let (reused, compiled) = (second["reused"].as_u64().unwrap(), second["compiled"].as_u64().unwrap());
    // Most, not all: functions compiled on two threads at once are both
    // compiled, and a few keys differ from one compile to the next.
    assert!(reused >= 3 * compiled, "most functions come from the cache: {second}");
    assert_eq!(second["rejected"], 0);
    let stats = home.json(&["stats", "--json"]);
    let total: u64 = stats.as_array().unwrap().iter().map(|r| r["functions_reused"].as_u64().unwrap()).sum();
    assert!(total >= reused, "isaac stats counts them: {stats}");
    assert_eq!(home.ok(&["run", "hello", "a"]).trim(), "Hello, a!");
}

#[test]
fn corrupted_truncated_and_moved_records_are_ignored_and_compiled_afresh() {
    let clean = TestHome::new();
    add_hello(&clean);
    // Each way on its own: a bit of the code flipped; the record truncated
    // (the index says it is shorter, the next entry starting where it
    // ends); an entry pointing at another function's valid record.
    for way in ["flipped", "truncated", "moved"] {
        let home = TestHome::new();
        add_hello(&home);
        let stored = packs(&home);
        assert_eq!(stored.len(), 1, "one compile, one pack: {stored:?}");
        let mut bytes = fs::read(&stored[0]).unwrap();
        let entries = index(&bytes);
        assert!(entries.len() > 30, "{} records", entries.len());
        let mut tampered = 0;
        for (i, &(at, offset, len)) in entries.iter().enumerate().filter(|(i, _)| i % 10 == 0 && i + 1 < entries.len())
        {
            let next_at = entries[i + 1].0;
            match way {
                "flipped" => bytes[offset + len - 1] ^= 0x40,
                "truncated" => {
                    let cut = len / 2;
                    bytes[at + 40..at + 44].copy_from_slice(&(cut as u32).to_le_bytes());
                    let next_len = entries[i + 1].2 + len - cut;
                    bytes[next_at + 32..next_at + 40].copy_from_slice(&((offset + cut) as u64).to_le_bytes());
                    bytes[next_at + 40..next_at + 44].copy_from_slice(&(next_len as u32).to_le_bytes());
                }
                _ => {
                    // Swap the two entries' keys: each now names the other's record.
                    let (this, next) = (bytes[at..at + 32].to_vec(), bytes[next_at..next_at + 32].to_vec());
                    bytes[at..at + 32].copy_from_slice(&next);
                    bytes[next_at..next_at + 32].copy_from_slice(&this);
                }
            }
            tampered += 1;
        }
        fs::write(&stored[0], &bytes).unwrap();
        home.ok(&["plugins", "remove", "hello", "-q"]);
        let out = home.run(&["plugins", "add", dist("hello").to_str().unwrap(), "--yes"]);
        assert!(out.status.success(), "{way}: {}", String::from_utf8_lossy(&out.stderr));
        let warned = String::from_utf8_lossy(&out.stderr);
        assert!(warned.contains("failed its check"), "{way}: {warned}");
        let counts = functions(&home);
        let rejected = counts["rejected"].as_u64().unwrap();
        // A failed pack is not read again, so one rejection stops the rest.
        assert!(rejected >= 1 && rejected <= tampered, "{way}: {counts} of {tampered} tampered");
        // The pack that failed is gone; what was compiled afresh is in a new one.
        let now = packs(&home);
        assert!(!now.contains(&stored[0]) && now.len() == 1, "{way}: {now:?}");
        // The code is what a clean compile gives, byte for byte, and runs.
        assert!(artifact(&home) == artifact(&clean), "{way}: the artifact differs from a clean compile");
        assert_eq!(home.ok(&["run", "hello", "a"]).trim(), "Hello, a!");
        // And nothing fails a check again.
        home.ok(&["plugins", "remove", "hello", "-q"]);
        add_hello(&home);
        assert_eq!(functions(&home)["rejected"], 0, "{way}");
        assert!(artifact(&home) == artifact(&clean));
    }
}

#[test]
fn a_second_javascript_plugin_reuses_the_engine_and_skips_winch() {
    // componentize-js snapshots its engine with each script: wordfreq-js's
    // engine module differs from greet-js's in its data, not its code. Once
    // Cranelift compiled greet-js (in the foreground: TestHome's isaac runs
    // untiered), wordfreq-js, though big, skips Winch, and most of its
    // functions come from the cache.
    crate::support::require_example("greet-js", "js");
    crate::support::require_example("wordfreq-js", "js");
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("greet-js").to_str().unwrap(), "--yes", "-q"]);
    let out = home
        .isaac()
        .env("ISAAC_TIERED", "1")
        .args(["-vv", "plugins", "add", dist("wordfreq-js").to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("compiling it with Cranelift at once"), "{stderr}");
    let info = home.json(&["plugins", "info", "wordfreq-js", "--json"]);
    assert_eq!(info["tier"], "optimized", "no Winch code first: {info}");
    let (reused, compiled) =
        (info["functions"]["reused"].as_u64().unwrap(), info["functions"]["compiled"].as_u64().unwrap());
    assert!(reused >= 4 * compiled, "most functions come from the cache: {info}");
    assert_eq!(home.ok(&["run", "wordfreq", "a b a"]), "2 a\n1 b\n");
}

#[test]
fn with_no_budget_there_is_no_function_cache() {
    let home = TestHome::new();
    fs::write(home.path().join("config.toml"), "[loader]\nfunction_cache_mb = 0\n").unwrap();
    add_hello(&home);
    assert!(!home.path().join("compiled/functions").exists());
    assert_eq!(functions(&home), serde_json::Value::Null);
    assert_eq!(home.ok(&["run", "hello", "a"]).trim(), "Hello, a!");
}

/// LEB128 of `n`.
fn leb(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        out.push(if n == 0 { byte } else { byte | 0x80 });
        if n == 0 {
            return out;
        }
    }
}

/// A hostile component: an empty core module inside `levels` components,
/// each the only section of the one around it.
fn nested_components(levels: usize) -> Vec<u8> {
    const HEADER: &[u8] = b"\0asm\x0d\0\x01\0";
    let mut innermost = HEADER.to_vec();
    innermost.push(1);
    innermost.extend(leb(8));
    innermost.extend_from_slice(b"\0asm\x01\0\0\0");
    // Sizes from the inside out, then the headers from the outside in.
    let mut sizes = vec![innermost.len()];
    for _ in 0..levels {
        let inner = *sizes.last().unwrap();
        sizes.push(HEADER.len() + 1 + leb(inner).len() + inner);
    }
    let mut bytes = Vec::with_capacity(*sizes.last().unwrap());
    for inner in sizes[..levels].iter().rev() {
        bytes.extend_from_slice(HEADER);
        bytes.push(4);
        bytes.extend(leb(*inner));
    }
    bytes.extend(innermost);
    bytes
}

#[test]
fn a_component_nested_to_overflow_the_module_walk_is_refused_cleanly() {
    // The walks of a plugin's bytes before wasmtime validates them (its core
    // modules; its nesting), and wasmtime's own parse, which took tens of
    // gigabytes here: 100 000 nested components (1.3 MB) are refused first.
    let home = TestHome::new();
    let bytes = nested_components(100_000);
    assert!(bytes.len() > 1 << 20);
    let dir = home.path().join("deep");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("plugin.toml"), "name = \"deep\"\nversion = \"0.1.0\"\ncomponent = \"deep.wasm\"\n").unwrap();
    fs::write(dir.join("deep.wasm"), &bytes).unwrap();
    let out = home.run(&["plugins", "add", dir.to_str().unwrap(), "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a clear error, not a crash: {stderr}");
    assert!(stderr.contains("deep.wasm nests components more than 32 deep"), "{stderr}");
    add_hello(&home);
    assert_eq!(home.ok(&["run", "hello", "a"]).trim(), "Hello, a!", "the host carries on");
}
