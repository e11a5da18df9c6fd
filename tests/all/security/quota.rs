//! One plugin cannot fill the disk: its live entries may hold its quota and
//! no more (across processes), a 0.1.0 plugin built before quotas gets the
//! refusal as `too-large`, and a full store still takes the host's own writes.

use crate::support::{TestHome, dist, fixture, manifest, text};

fn prebuilt_v0_1() -> Vec<u8> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prebuilt/cache-probe-wit-0.1.0.wasm");
    std::fs::read(path).unwrap()
}

fn hoarder(home: &TestHome, name: &str, wasm: &[u8]) {
    home.plant(name, &manifest(name, "[permissions]\ncache = true\n"), &format!("{name}.wasm"), wasm);
    home.grant(name);
}

fn used(home: &TestHome, name: &str) -> u64 {
    let stats: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["cache", "stats", "--plugin", name, "--json"])).0).unwrap();
    stats["used_bytes"].as_u64().unwrap()
}

#[test]
fn a_plugin_writing_past_its_quota_is_refused_and_told_why() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[cache]\nplugin_quota_mb = 4\n").unwrap();
    hoarder(&home, "hoarder", &fixture("cache-probe"));
    // 1 MiB values that never expire: four fit in no process, whatever it tries.
    let out = text(&home.run(&["run", "hoarder:hoard", "big", "20", "1000"])).0;
    assert!(out.starts_with("stored 4, then CacheError::Quota("), "{out}");
    assert!(out.contains("its quota of 4 MiB") && out.contains("`cache_quota_mb` under [plugins.hoarder]"), "{out}");
    let out = text(&home.run(&["run", "hoarder:hoard", "again", "20", "1000"])).0;
    assert!(out.starts_with("stored 0, then CacheError::Quota("), "another process: {out}");
    let stored = used(&home, "hoarder");
    eprintln!("bytes stored by a plugin writing 20 MiB past a 4 MiB quota: {stored}");
    assert!(stored <= 4 << 20, "{stored}");
    let shown = text(&home.run(&["cache", "stats", "--plugin", "hoarder"])).0;
    assert!(shown.contains(&format!("hoarder: {stored} of {} bytes", 4 << 20)), "{shown}");
    // Deleting frees room; invalidating frees it all.
    assert_eq!(text(&home.run(&["run", "hoarder:del", "big-0"])).0, "true\n");
    assert!(
        text(&home.run(&["run", "hoarder:hoard", "more", "2", "1000"]))
            .0
            .starts_with("stored 1, then CacheError::Quota(")
    );
    assert_eq!(text(&home.run(&["run", "hoarder:inval", "*"])).0, "4\n");
    assert_eq!(used(&home, "hoarder"), 0);
    // The user may raise one plugin's quota.
    std::fs::write(
        home.path().join("config.toml"),
        "[cache]\nplugin_quota_mb = 4\n[plugins.hoarder]\ncache_quota_mb = 8\n",
    )
    .unwrap();
    assert!(text(&home.run(&["run", "hoarder:hoard", "big", "20", "1000"])).0.starts_with("stored 8, then"));
}

#[test]
fn compare_and_swap_and_increment_cannot_pass_the_quota_either() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[cache]\nplugin_quota_mb = 1\n").unwrap();
    hoarder(&home, "hoarder", &fixture("cache-probe"));
    // Swapped into absent keys, 256 KiB at a time.
    let out = text(&home.run(&["run", "hoarder:hoard", "big", "20", "256", "cas"])).0;
    assert!(out.starts_with("stored 3, then CacheError::Quota("), "{out}");
    assert_eq!(text(&home.run(&["run", "hoarder:inval", "*"])).0, "3\n");
    // Many small counters, one new key each: refused when they add up.
    let out = text(&home.run(&["run", "hoarder:hoard", "n", "100000", "0", "incr"])).0;
    assert!(out.contains(", then CacheError::Quota(") && !out.starts_with("stored 100000"), "{out}");
    let stored = used(&home, "hoarder");
    assert!(stored <= 1 << 20 && stored > (1 << 20) - 64, "{stored}");
}

#[test]
fn a_plugin_built_for_0_1_0_gets_the_refusal_as_too_large() {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[cache]\nplugin_quota_mb = 2\n").unwrap();
    hoarder(&home, "old-probe", &prebuilt_v0_1());
    let info: serde_json::Value =
        serde_json::from_str(&text(&home.run(&["plugins", "info", "old-probe", "--json"])).0).unwrap();
    assert_eq!(info["wit_version"], "0.1.0");
    assert_eq!(text(&home.run(&["run", "old-probe:set", "k", "v"])).0, "ok\n");
    let out = text(&home.run(&["run", "old-probe:hoard", "big", "10", "1000"])).0;
    assert!(out.starts_with("stored 2, then CacheError::TooLarge(") && out.contains("quota of 2 MiB"), "{out}");
}

#[test]
fn a_full_store_keeps_room_for_the_hosts_own_writes() {
    let home = TestHome::new();
    // A 32 MiB map: plugins' data stops 4 MiB short of full.
    std::fs::write(home.path().join("config.toml"), "[storage]\nmap_size_mb = 32\n[cache]\nplugin_quota_mb = 64\n")
        .unwrap();
    hoarder(&home, "filler", &fixture("cache-probe"));
    let out = text(&home.run(&["run", "filler:hoard", "big", "64", "1000"])).0;
    assert!(out.contains("then CacheError::Storage(") && out.contains("kept for isaac's own records"), "{out}");
    // Grants, the index and installs still work.
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    assert_eq!(text(&home.run(&["run", "hello", "full"])).0, "Hello, full!\n");
    hoarder(&home, "second", &crate::support::distinct(&fixture("cache-probe"), 51));
}
