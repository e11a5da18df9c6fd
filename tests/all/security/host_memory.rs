//! The host's memory does not grow with what a guest does: 300 000 gets of
//! distinct 250-byte keys in one call leave `isaac run`'s peak RSS far below
//! what per-key usage counting used to cost (about 600 MB), and the usage
//! entries a plugin leaves are removed with its cache.

use crate::support::{TestHome, fixture, manifest, text};

#[test]
fn distinct_cache_gets_do_not_grow_the_host() {
    let home = TestHome::new();
    let perms = "[limits]\nmemory_mb = 16\ndeadline_ms = 60000\n[permissions]\ncache = true\n";
    home.plant("cache-probe", &manifest("cache-probe", perms), "cache-probe.wasm", &fixture("cache-probe"));
    home.grant("cache-probe");
    let out = home.run(&["run", "cache-probe:scan", "300000"]);
    assert_eq!(text(&out).0, "0 of 300000 found\n", "{}", text(&out).1);
    let history: serde_json::Value = serde_json::from_str(&text(&home.run(&["stats", "--json"])).0).unwrap();
    let run =
        history.as_array().unwrap().iter().rev().find(|r| r["command"] == "run cache-probe:scan").unwrap().clone();
    let peak_mib = run["peak_rss_kb"].as_u64().unwrap() >> 10;
    // The guest may use 16 MiB; the host ~12 MiB on its own.
    assert!(peak_mib < 16 + 100, "isaac run peaked at {peak_mib} MiB: {run}");
    eprintln!("isaac run peak RSS during 300 000 distinct gets: {peak_mib} MiB");

    // Usage counts were written, bounded, and go with the plugin's cache.
    let warm = |home: &TestHome| -> serde_json::Value {
        let args = ["cache", "warm", "--plugin", "cache-probe", "--top", "100000", "--json"];
        serde_json::from_str(&text(&home.run(&args)).0).unwrap()
    };
    let considered = warm(&home)["considered"].as_u64().unwrap();
    assert!(considered > 0 && considered <= isaac_host::cache::USAGE_KEYS as u64, "{considered}");
    assert!(home.run(&["cache", "stats", "--reset"]).status.success());
    assert_eq!(warm(&home)["considered"], 0);
    assert!(home.run(&["run", "cache-probe:scan", "10"]).status.success());
    assert_eq!(warm(&home)["considered"], 10);
    assert!(home.run(&["plugins", "remove", "--purge", "cache-probe"]).status.success());
    assert_eq!(warm(&home)["considered"], 0);
}
