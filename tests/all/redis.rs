//! The cold tier on a real `redis-server`: the same behaviour as LMDB, two
//! homes ("hosts") sharing entries, notes, AI answers and the daily spend,
//! invalidation pushes, a server killed with `kill -9` and restarted,
//! Redis's own TTLs, and the errors a user meets.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use isaac_host::cache::clock::SystemClock;
use isaac_host::cache::lmdb::LmdbStore;
use isaac_host::cache::redis;
use isaac_host::cache::store::{ColdStore, StoreError};
use isaac_host::cache::{CacheError, Expiry, MultiLevelCache, Namespace};
use isaac_host::config::{CacheConfig, ProviderKind, RedisConfig};
use isaac_host::state::State;
use isaac_host::testing::SimConfig;

use crate::ai::{Sims, home_with};
use crate::support::redis::RedisServer;
use crate::support::{TestHome, dist, text};

/// A cache over `store`, with its own memory tiers (a process of its own).
fn cache_over(store: Arc<dyn ColdStore>) -> MultiLevelCache {
    MultiLevelCache::new(store, CacheConfig::default(), Arc::new(SystemClock))
}

/// A Redis store (another "host" each time), with its fallback LMDB in `dir`.
fn redis_store(server: &RedisServer, timeout_ms: u64, dir: &std::path::Path) -> Arc<dyn ColdStore> {
    let local = LmdbStore::new(State::open(dir, 64).unwrap());
    redis::open(&server.url(), RedisConfig { timeout_ms, ..RedisConfig::default() }, local)
}

/// Poll `f` until it is true, for at most `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn get(cache: &MultiLevelCache, ns: &Namespace, key: &str) -> Option<String> {
    cache.get(ns, key).unwrap().map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// What a cold tier must do, whichever it is: `one` and `two` are two
/// processes over the same tier. Returns what it saw, to compare tiers.
fn exercise(one: &MultiLevelCache, two: &MultiLevelCache) -> Vec<String> {
    let (user, plugin) = (Namespace::user(), Namespace::plugin("p"));
    let mut seen = Vec::new();
    // Entries, across processes.
    one.set(&user, "a", b"1", Expiry::Never).unwrap();
    assert_eq!(get(two, &user, "a").as_deref(), Some("1"));
    assert!(two.delete(&user, "a").unwrap());
    assert!(!two.delete(&user, "a").unwrap());
    // Globs with every character Redis's own globs treat specially.
    let keys = ["a[1]", "a1", "a^b", "a\\c", "a?d", "a*e", "ab", "é1", "x1"];
    for key in keys {
        one.set(&user, key, key.as_bytes(), Expiry::Never).unwrap();
    }
    one.set(&plugin, "a1", b"plugin's", Expiry::Never).unwrap();
    for pattern in ["a[1]", "a^b", "a\\\\c", "a\\?d", "a\\*e", "?1", "a*", "*"] {
        seen.push(format!("{pattern} removed {}", two.invalidate(&user, pattern).unwrap()));
    }
    assert_eq!(get(one, &plugin, "a1").as_deref(), Some("plugin's"), "another namespace is untouched");
    // Atomics.
    assert_eq!(one.increment(&user, "n", 5, None).unwrap(), 5);
    assert_eq!(two.increment(&user, "n", -7, None).unwrap(), -2);
    two.set(&user, "word", b"007", Expiry::Never).unwrap();
    assert!(matches!(one.increment(&user, "word", 1, None), Err(CacheError::NotAnInteger { .. })));
    two.set(&user, "max", i64::MAX.to_string().as_bytes(), Expiry::Never).unwrap();
    let overflow = one.increment(&user, "max", 1, None).unwrap_err();
    assert!(matches!(overflow, CacheError::Overflow { current: i64::MAX, delta: 1, .. }), "{overflow:?}");
    assert!(one.compare_and_swap(&user, "c", None, b"x", Expiry::Never, None).unwrap());
    assert!(!two.compare_and_swap(&user, "c", Some(b"stale"), b"y", Expiry::Never, None).unwrap());
    assert!(two.compare_and_swap(&user, "c", Some(b"x"), b"y", Expiry::Never, None).unwrap());
    assert_eq!(get(two, &user, "c").as_deref(), Some("y"));
    // The quota, counted by both processes.
    let q = Namespace::plugin("q");
    let entry = |key: &str, len: usize| (q.key(key).len() + 9 + len) as u64;
    let limit = Some(2 * entry("k1", 100));
    one.set_within(&q, "k1", &[1; 100], Expiry::Never, limit).unwrap();
    two.set_within(&q, "k2", &[2; 100], Expiry::Never, limit).unwrap();
    assert!(matches!(one.set_within(&q, "k3", &[3; 100], Expiry::Never, limit), Err(CacheError::Quota { .. })));
    assert!(matches!(two.increment(&q, "n", 1, limit), Err(CacheError::Quota { .. })));
    assert_eq!(two.bytes_used(&q).unwrap(), 2 * entry("k1", 100));
    assert_eq!(one.invalidate(&q, "*").unwrap(), 2);
    assert_eq!(two.bytes_used(&q).unwrap(), 0);
    // Counters: add, subtract (stops at 0), reserve within a cap, list, clear.
    one.add_counters(&[("t/a".into(), 5), ("t/b".into(), 1)]).unwrap();
    two.adjust_counters(&[("t/a".into(), -2), ("t/b".into(), -9)]).unwrap();
    one.reserve_counter("t/c", 7, 10).unwrap();
    assert!(matches!(
        two.reserve_counter("t/c", 4, 10),
        Err(CacheError::Store(StoreError::OverCap { current: 7, .. }))
    ));
    assert_eq!(two.counters("t/").unwrap(), [("t/a".into(), 3), ("t/b".into(), 0), ("t/c".into(), 7)]);
    one.clear_counters("t/").unwrap();
    assert!(two.counters("t/").unwrap().is_empty());
    // Expiry: a second, on the real clock.
    one.set(&user, "brief", b"v", Expiry::After(Duration::from_secs(1))).unwrap();
    assert_eq!(get(two, &user, "brief").as_deref(), Some("v"));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get(two, &user, "brief"), None);
    // Warming from the usage counts processes flush (one read for all the
    // keys: one round trip on Redis).
    for key in ["w1", "w2"] {
        one.set(&user, key, b"w", Expiry::Never).unwrap();
        assert_eq!(get(one, &user, key).as_deref(), Some("w"));
    }
    one.flush().unwrap();
    let warm = two.warmup(&user, 10, |_| None).unwrap();
    seen.push(format!("warm: {} considered, {} live", warm.considered, warm.loaded + warm.in_memory));
    seen
}

#[test]
fn redis_behaves_like_lmdb() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(dir.path(), 64).unwrap();
    let lmdb: Vec<String> =
        exercise(&cache_over(Arc::new(LmdbStore::new(state.clone()))), &cache_over(Arc::new(LmdbStore::new(state))));
    let server = RedisServer::start(&[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let redis =
        exercise(&cache_over(redis_store(&server, 5000, a.path())), &cache_over(redis_store(&server, 5000, b.path())));
    assert_eq!(redis, lmdb);
    let want = [
        "a[1] removed 1",
        "a^b removed 1",
        "a\\\\c removed 1",
        "a\\?d removed 1",
        "a\\*e removed 1",
        "?1 removed 3",
        "a* removed 1",
        "* removed 0",
        "warm: 5 considered, 3 live",
    ];
    assert_eq!(lmdb, want);
}

#[test]
fn another_hosts_write_reaches_this_hosts_memory_by_push() {
    let server = RedisServer::start(&[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (here, there) =
        (cache_over(redis_store(&server, 5000, a.path())), cache_over(redis_store(&server, 5000, b.path())));
    let user = Namespace::user();
    here.set(&user, "k", b"1", Expiry::Never).unwrap();
    assert_eq!(get(&here, &user, "k").as_deref(), Some("1"));
    assert_eq!(here.stats().unwrap().counters.l1_hits, 1, "served from memory");
    // Only the push can tell `here` that its L1 is stale: its generation is
    // its own.
    there.set(&user, "k", b"2", Expiry::Never).unwrap();
    assert!(eventually(Duration::from_secs(3), || get(&here, &user, "k").as_deref() == Some("2")));
    assert!(there.delete(&user, "k").unwrap());
    assert!(eventually(Duration::from_secs(3), || get(&here, &user, "k").is_none()));
    // Dropped inside an async context, as a host in a task is: no panic.
    crate::support::runtime().block_on(async move { drop(here) });
}

#[test]
fn a_killed_server_gives_errors_then_reconnects_with_everything_acknowledged() {
    let mut server = RedisServer::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let here = cache_over(redis_store(&server, 300, a.path()));
    let user = Namespace::user();
    for i in 0..200 {
        here.set(&user, &format!("k{i}"), i.to_string().as_bytes(), Expiry::Never).unwrap();
    }
    assert_eq!(here.increment(&user, "n", 200, None).unwrap(), 200);
    server.kill();
    // Typed errors, within the timeout; no panic, no hang.
    for _ in 0..3 {
        let err = here.get(&user, "never-set").unwrap_err();
        assert!(matches!(err, CacheError::Store(StoreError::Failed { .. })), "{err:?}");
        assert!(here.set(&user, "lost", b"x", Expiry::Never).is_err());
    }
    server.restart();
    // The client reconnects by itself.
    assert!(eventually(Duration::from_secs(10), || here.set(&user, "after", b"1", Expiry::Never).is_ok()));
    let fresh = cache_over(redis_store(&server, 5000, b.path()));
    for i in 0..200 {
        assert_eq!(get(&fresh, &user, &format!("k{i}")), Some(i.to_string()), "k{i} was acknowledged");
    }
    assert_eq!(fresh.increment(&user, "n", 0, None).unwrap(), 200);
    // Tracking is back on the new connection: another host's write empties
    // this one's memory.
    assert_eq!(get(&here, &user, "k0").as_deref(), Some("0"));
    fresh.set(&user, "k0", b"changed", Expiry::Never).unwrap();
    assert!(eventually(Duration::from_secs(3), || get(&here, &user, "k0").as_deref() == Some("changed")));
}

#[test]
fn expiry_is_redis_own_ttl() {
    let server = RedisServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_over(redis_store(&server, 5000, dir.path()));
    let user = Namespace::user();
    cache.set(&user, "brief", b"v", Expiry::After(Duration::from_secs(1))).unwrap();
    cache.set(&user, "forever", b"v", Expiry::Never).unwrap();
    let key = |name: &str| format!("isaac:d:{{u\u{1f}}}{name}");
    let pttl: i64 = server.cli(&["PTTL", &key("brief")]).unwrap().parse().unwrap();
    assert!((1..=1000).contains(&pttl), "{pttl}");
    assert_eq!(server.cli(&["PTTL", &key("forever")]).as_deref(), Some("-1"));
    std::thread::sleep(Duration::from_millis(1200));
    // Gone on the server, with no sweep from isaac.
    assert_eq!(server.cli(&["EXISTS", &key("brief")]).as_deref(), Some("0"));
    assert_eq!(server.cli(&["EXISTS", &key("forever")]).as_deref(), Some("1"));
}

#[test]
fn two_homes_share_notes_visits_ai_answers_and_the_daily_spend() {
    let server = RedisServer::start(&[]);
    let sims = Sims::new().add("sim", ProviderKind::Openai, SimConfig::default());
    let homes: Vec<TestHome> = (0..2)
        .map(|_| {
            let home = home_with(&sims, "daily_budget_usd = 0.0005");
            let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
            std::fs::write(home.path().join("config.toml"), format!("{config}\n{}", server.config(""))).unwrap();
            for name in ["notes", "greet-rs"] {
                home.ok(&["plugins", "add", "--yes", dist(name).to_str().unwrap()]);
            }
            home
        })
        .collect();
    let (a, b) = (&homes[0], &homes[1]);
    a.ok(&["run", "note", "add", "from a"]);
    b.ok(&["run", "note", "add", "from b"]);
    assert_eq!(a.ok(&["run", "note", "list"]), "1. from a\n2. from b\n");
    assert_eq!(a.ok(&["run", "greet-rs", "bars"]), "Hello, bars! (visit #1)\n");
    assert_eq!(b.ok(&["run", "greet-rs", "bars"]), "Hello, bars! (visit #2)\n");
    // One answer, paid once, shared; one daily budget, shared.
    let first: serde_json::Value =
        serde_json::from_str(&a.ok(&["ai", "query", "what is isaac?", "--max-tokens", "20", "--json"])).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&b.ok(&["ai", "query", "what is isaac?", "--max-tokens", "20", "--json"])).unwrap();
    assert_eq!((first["cached"].as_bool(), second["cached"].as_bool()), (Some(false), Some(true)));
    assert_eq!(sims.stats("sim").requests.load(Ordering::SeqCst), 1);
    let out = b.run(&["ai", "query", "something new", "--max-tokens", "20"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    assert!(text(&out).1.contains("daily AI budget"), "{}", text(&out).1);
    assert!(a.ok(&["cache", "stats"]).contains(&format!("in redis ({})", server.url())));
}

#[test]
fn an_unreachable_server_a_wrong_password_and_the_local_fallback() {
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("hello").to_str().unwrap()]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let write = |config: String| std::fs::write(home.path().join("config.toml"), config).unwrap();
    write(format!("[storage]\ncold = \"redis://:s3cret@127.0.0.1:{port}/0\"\n"));
    // A plugin without the cache never connects.
    let out = home.run(&["run", "hello"]);
    assert_eq!(text(&out), ("Hello, world!\n".to_owned(), String::new()));
    let out = home.run(&["cache", "get", "k"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(&format!("redis://:***@127.0.0.1:{port}/0")) && stderr.contains("could not connect"),
        "{stderr}"
    );
    assert!(stderr.contains("fallback") && !stderr.contains("s3cret"), "{stderr}");
    write(format!("[storage]\ncold = \"redis://127.0.0.1:{port}/0\"\n[storage.redis]\nfallback = \"local\"\n"));
    home.ok(&["cache", "set", "k", "kept locally"]);
    let out = home.run(&["cache", "get", "k"]);
    assert_eq!(text(&out).0, "kept locally\n");
    assert_eq!(text(&out).1.matches("fallback = \"local\"").count(), 1, "one warning: {}", text(&out).1);

    let server = RedisServer::start(&["--requirepass", "right"]);
    write(server.config("password_env = \"ISAAC_TEST_REDIS_PASSWORD\""));
    let with = |password: &str| {
        home.isaac().args(["cache", "set", "k", "v"]).env("ISAAC_TEST_REDIS_PASSWORD", password).output().unwrap()
    };
    let out = with("wrong");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("$ISAAC_TEST_REDIS_PASSWORD ([storage.redis] password_env)"), "{}", text(&out).1);
    assert!(with("right").status.success(), "{}", text(&with("right")).1);
}
