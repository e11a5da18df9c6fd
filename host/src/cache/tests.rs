//! The cache against a real LMDB environment in a temporary folder, with a
//! mock clock.

use std::sync::Arc;
use std::time::Duration;

use super::clock::MockClock;
use super::lmdb::LmdbStore;
use super::*;
use crate::config::Durability;
use crate::state::State;

mod atomic;

const START: u64 = 1_700_000_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    state: Arc<State>,
    clock: Arc<MockClock>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path(), 64).unwrap();
        Fixture { _dir: dir, state, clock: Arc::new(MockClock::new(START)) }
    }

    /// A cache with its own memory tiers over the shared L3, like another
    /// process on the same home.
    fn cache(&self, config: CacheConfig) -> MultiLevelCache {
        MultiLevelCache::new(Arc::new(LmdbStore::new(self.state.clone())), config, self.clock.clone())
    }

    fn small(&self, l1: usize, l2: usize) -> MultiLevelCache {
        self.cache(CacheConfig { l1_entries: l1, l2_entries: l2, ..CacheConfig::default() })
    }
}

fn get(cache: &MultiLevelCache, key: &str) -> Option<Vec<u8>> {
    cache.get(&Namespace::user(), key).unwrap().map(|v| v.to_vec())
}

fn set(cache: &MultiLevelCache, key: &str, value: &str) {
    cache.set(&Namespace::user(), key, value.as_bytes(), Expiry::Default).unwrap();
}

#[test]
fn entries_move_down_the_tiers_and_l2_admits_by_frequency() {
    let f = Fixture::new();
    let cache = f.small(2, 2);
    for k in ["a", "b", "c", "d", "e"] {
        set(&cache, k, k);
    }
    // L1: e, d; L2: a, b (it had room); c, pushed out of L1 when L2 was
    // full and asked for no more often than L2's oldest, only in L3.
    let c = cache.stats().unwrap().counters;
    assert_eq!((c.l1_evictions, c.l2_evictions), (2, 1));
    assert_eq!(get(&cache, "e").as_deref(), Some(&b"e"[..]));
    assert_eq!(get(&cache, "b").as_deref(), Some(&b"b"[..]));
    assert_eq!(get(&cache, "c").as_deref(), Some(&b"c"[..]));
    assert_eq!(get(&cache, "c").as_deref(), Some(&b"c"[..]));
    assert_eq!(get(&cache, "zz"), None);
    let s = cache.stats().unwrap();
    assert_eq!((s.counters.l1_hits, s.counters.l2_hits, s.counters.l3_hits, s.counters.misses), (2, 1, 1, 1));
    assert_eq!((s.l1_entries, s.l2_entries, s.l3_entries), (2, 2, 5));
    assert!((s.hit_rate - 0.8).abs() < 1e-9 && (s.memory_hit_rate - 0.6).abs() < 1e-9);
}

#[test]
fn ttl_expiry_with_the_mock_clock() {
    let f = Fixture::new();
    let cache = f.small(10, 10);
    let ns = Namespace::user();
    cache.set(&ns, "short", b"1", Expiry::After(Duration::from_secs(10))).unwrap();
    cache.set(&ns, "default", b"2", Expiry::Default).unwrap();
    cache.set(&ns, "note", b"3", Expiry::Never).unwrap();
    f.clock.advance(Duration::from_secs(9));
    assert!(get(&cache, "short").is_some());
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(get(&cache, "short"), None, "expired in memory");
    // Expired entries are gone from L3 too: a fresh process does not see them.
    assert_eq!(get(&f.small(10, 10), "short"), None);
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(get(&cache, "default"), None, "the default TTL is one hour");
    assert_eq!(get(&cache, "note").as_deref(), Some(&b"3"[..]));
    assert_eq!(cache.stats().unwrap().counters.expirations, 2);
    assert_eq!(cache.stats().unwrap().l3_entries, 1);
}

#[test]
fn an_expired_entry_in_l3_is_a_miss_and_is_removed() {
    let f = Fixture::new();
    let writer = f.small(10, 10);
    writer.set(&Namespace::user(), "k", b"v", Expiry::After(Duration::from_secs(5))).unwrap();
    drop(writer);
    f.clock.advance(Duration::from_secs(6));
    let reader = f.small(10, 10);
    assert_eq!(get(&reader, "k"), None);
    let s = reader.stats().unwrap();
    assert_eq!((s.counters.expirations, s.l3_entries), (1, 0));
}

#[test]
fn the_sweep_removes_expired_entries_from_l3() {
    let f = Fixture::new();
    let cache = f.small(10, 10);
    for i in 0..5 {
        cache.set(&Namespace::user(), &format!("t{i}"), b"x", Expiry::After(Duration::from_secs(1))).unwrap();
    }
    set(&cache, "keep", "x");
    f.clock.advance(Duration::from_secs(2));
    assert_eq!(cache.sweep().unwrap(), 5);
    assert_eq!(cache.stats().unwrap().l3_entries, 1);
}

#[test]
fn pattern_invalidation_reaches_every_tier_and_only_matching_keys() {
    let f = Fixture::new();
    let cache = f.small(1, 1);
    for k in ["user:1:c", "user:1:b", "user:1:a", "user:2:a", "user:10:a"] {
        set(&cache, k, "v");
    }
    // user:1:a in L1, user:1:b in L2, user:1:c in L3 only.
    assert_eq!(cache.invalidate(&Namespace::user(), "user:1:*").unwrap(), 3);
    for gone in ["user:1:a", "user:1:b", "user:1:c"] {
        assert_eq!(get(&cache, gone), None, "{gone}");
    }
    assert!(get(&cache, "user:2:a").is_some() && get(&cache, "user:10:a").is_some());
    assert_eq!(cache.invalidate(&Namespace::user(), "user:?0:*").unwrap(), 1);
    assert_eq!(cache.stats().unwrap().counters.invalidations, 4);
}

#[test]
fn namespaces_do_not_see_each_other() {
    let f = Fixture::new();
    let cache = f.small(10, 10);
    let (a, b) = (Namespace::plugin("a"), Namespace::plugin("ab"));
    cache.set(&a, "k", b"a's", Expiry::Never).unwrap();
    cache.set(&b, "k", b"ab's", Expiry::Never).unwrap();
    assert_eq!(cache.get(&a, "k").unwrap().as_deref(), Some(&b"a's"[..]));
    assert_eq!(cache.get(&Namespace::user(), "k").unwrap(), None);
    // Crafted keys and patterns stay inside the namespace.
    for pattern in ["*", "../*", "\u{1f}*", "*\u{1f}*"] {
        cache.invalidate(&b, pattern).unwrap();
    }
    assert_eq!(cache.get(&a, "k").unwrap().as_deref(), Some(&b"a's"[..]));
    assert_eq!(cache.get(&b, "k").unwrap(), None);
    assert_eq!(cache.get(&b, "\u{1f}p\u{1f}a\u{1f}k").unwrap(), None);
}

#[test]
fn another_process_writes_are_seen_within_the_freshness_bound() {
    let f = Fixture::new();
    let (shell, other) = (f.small(10, 10), f.small(10, 10));
    set(&other, "k", "1");
    assert_eq!(get(&shell, "k").as_deref(), Some(&b"1"[..]));
    set(&other, "k", "2");
    // Within 100 ms the shell may still answer from memory...
    f.clock.advance(Duration::from_millis(50));
    assert_eq!(get(&shell, "k").as_deref(), Some(&b"1"[..]));
    // ...but not after.
    f.clock.advance(Duration::from_millis(50));
    assert_eq!(get(&shell, "k").as_deref(), Some(&b"2"[..]));
    other.invalidate(&Namespace::user(), "*").unwrap();
    f.clock.advance(Duration::from_millis(100));
    assert_eq!(get(&shell, "k"), None);
    // A process's own writes are seen at once, and its write notices the
    // other's: its memory is emptied, not trusted.
    set(&other, "x", "other");
    set(&shell, "y", "shell");
    assert_eq!(get(&shell, "x").as_deref(), Some(&b"other"[..]));
    assert_eq!(get(&shell, "y").as_deref(), Some(&b"shell"[..]));
}

#[test]
fn statistics_add_up_across_processes_and_reset() {
    let f = Fixture::new();
    for _ in 0..3 {
        let cache = f.small(10, 10);
        set(&cache, "k", "v");
        get(&cache, "k");
        get(&cache, "missing");
    }
    let s = f.small(10, 10).stats().unwrap();
    assert_eq!((s.counters.sets, s.hits, s.counters.misses), (3, 3, 3));
    assert!((s.hit_rate - 0.5).abs() < 1e-9);
    let cache = f.small(10, 10);
    cache.reset_stats().unwrap();
    assert_eq!(cache.stats().unwrap().counters, Counters::default());
}

#[test]
fn the_hot_set_is_preloaded_after_a_restart() {
    let f = Fixture::new();
    {
        let cache = f.small(3, 3);
        for k in ["a", "b", "c", "d", "e"] {
            set(&cache, k, k);
        }
        for _ in 0..5 {
            get(&cache, "a");
            get(&cache, "b");
        }
        get(&cache, "c");
    }
    let restarted = f.small(3, 3);
    restarted.reset_stats().unwrap();
    // The first gets of the hot keys are L1 hits.
    assert!(get(&restarted, "a").is_some() && get(&restarted, "b").is_some() && get(&restarted, "c").is_some());
    let s = restarted.stats().unwrap();
    assert_eq!((s.counters.l1_hits, s.counters.l3_hits), (3, 0));
    // The reset forgot the usage counts: only the gets since count.
    let top = restarted.top_keys(&Namespace::user(), 2).unwrap();
    assert_eq!(top, vec![("a".to_owned(), 1), ("b".to_owned(), 1)]);
}

#[test]
fn warmup_loads_from_l3_and_generates_the_rest() {
    let f = Fixture::new();
    {
        let cache = f.small(10, 10);
        set(&cache, "present", "v");
        for key in ["present", "present", "absent", "absent", "cold"] {
            get(&cache, key);
        }
    }
    let cache = f.small(1, 1);
    let report = cache
        .warmup(&Namespace::user(), 2, |key| (key == "absent").then(|| (b"made".to_vec(), Expiry::Never)))
        .unwrap();
    assert_eq!(report.considered, 2, "{report:?}");
    assert_eq!(report.generated, 1, "{report:?}");
    assert_eq!((report.loaded + report.in_memory, report.missing), (1, 0), "{report:?}");
    assert_eq!(get(&cache, "absent").as_deref(), Some(&b"made"[..]));
}

#[test]
fn limits_on_keys_and_values() {
    let f = Fixture::new();
    let cache = f.cache(CacheConfig { max_key_bytes: 8, max_value_kb: 1, ..CacheConfig::default() });
    let ns = Namespace::user();
    assert!(matches!(cache.set(&ns, "", b"x", Expiry::Never), Err(CacheError::EmptyKey)));
    let err = cache.set(&ns, "123456789", b"x", Expiry::Never).unwrap_err();
    assert!(err.to_string().contains("max_key_bytes"), "{err}");
    let err = cache.set(&ns, "k", &[0; 1025], Expiry::Never).unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { len: 1025, max: 1024 }), "{err:?}");
    assert!(err.to_string().contains("max_value_kb"));
    cache.set(&ns, "k", &[0; 1024], Expiry::Never).unwrap();
}

#[test]
fn huge_values_live_in_l3_only() {
    let f = Fixture::new();
    let cache = f.cache(CacheConfig { l1_max_mb: 1, l2_max_mb: 1, max_value_kb: 4096, ..CacheConfig::default() });
    cache.set(&Namespace::user(), "big", &vec![7; 2 << 20], Expiry::Never).unwrap();
    let s = cache.stats().unwrap();
    assert_eq!((s.l1_entries, s.l2_entries, s.l3_entries), (0, 0, 1));
    assert_eq!(get(&cache, "big").unwrap().len(), 2 << 20);
    assert_eq!(cache.stats().unwrap().counters.l3_hits, 1);
}

#[test]
fn a_full_store_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(dir.path(), 1).unwrap();
    let cache =
        MultiLevelCache::new(Arc::new(LmdbStore::new(state)), CacheConfig::default(), Arc::new(MockClock::new(START)));
    let value = vec![1u8; 64 << 10];
    let mut written = 0;
    let err = loop {
        match cache.set(&Namespace::user(), &format!("k{written}"), &value, Expiry::Never) {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 1000, "a 1 MiB map never filled");
    };
    assert!(matches!(err, CacheError::Store(StoreError::Full { .. })), "{err}");
    assert!(err.to_string().contains("map_size_mb"), "{err}");
    assert!(written > 0);
    for i in 0..written {
        assert_eq!(get(&cache, &format!("k{i}")).map(|v| v.len()), Some(value.len()), "k{i}");
    }
}

#[test]
fn durable_mode_syncs_before_a_write_returns() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::store::{Applied, ColdStore, Footprint, Op, Space, StoreError};

    /// LMDB, counting the syncs and what was applied when each happened.
    struct Counting {
        lmdb: LmdbStore,
        applied: AtomicUsize,
        synced_after: std::sync::Mutex<Vec<usize>>,
    }
    impl ColdStore for Counting {
        fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.lmdb.get(space, key)
        }
        fn scan(&self, space: Space, p: &str, v: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError> {
            self.lmdb.scan(space, p, v)
        }
        fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError> {
            let applied = self.lmdb.apply(ops)?;
            self.applied.fetch_add(1, Ordering::SeqCst);
            Ok(applied)
        }
        fn generation(&self) -> Result<u64, StoreError> {
            self.lmdb.generation()
        }
        fn footprint(&self) -> Result<Footprint, StoreError> {
            self.lmdb.footprint()
        }
        fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError> {
            self.lmdb.namespace_bytes(ns)
        }
        fn sync(&self) -> Result<(), StoreError> {
            self.synced_after.lock().unwrap().push(self.applied.load(Ordering::SeqCst));
            self.lmdb.sync()
        }
        fn describe(&self) -> String {
            self.lmdb.describe()
        }
    }

    let f = Fixture::new();
    for (durability, syncs) in [(Durability::Durable, vec![1, 2, 3]), (Durability::Fast, vec![])] {
        let store = Arc::new(Counting {
            lmdb: LmdbStore::new(f.state.clone()),
            applied: AtomicUsize::new(0),
            synced_after: std::sync::Mutex::new(Vec::new()),
        });
        let config = CacheConfig { durability, ..CacheConfig::default() };
        let cache = MultiLevelCache::new(store.clone(), config, f.clock.clone());
        set(&cache, "k", "v");
        cache.delete(&Namespace::user(), "k").unwrap();
        cache.invalidate(&Namespace::user(), "*").unwrap();
        // Durable: each write was synced after its commit, before it returned.
        assert_eq!(*store.synced_after.lock().unwrap(), syncs, "{durability:?}");
        set(&cache, "k", "v");
        assert_eq!(get(&f.small(10, 10), "k").as_deref(), Some(&b"v"[..]));
    }
}

#[test]
fn concurrent_threads_agree() {
    let f = Fixture::new();
    let cache = Arc::new(f.small(50, 100));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let cache = cache.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let key = format!("t{t}-{}", i % 20);
                    cache.set(&Namespace::user(), &key, format!("{i}").as_bytes(), Expiry::Never).unwrap();
                    let got = cache.get(&Namespace::user(), &key).unwrap().unwrap();
                    assert_eq!(&*got, format!("{i}").as_bytes());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(cache.stats().unwrap().l3_entries, 80);
}

#[test]
fn a_quota_counts_live_bytes_across_processes_deletes_and_expiry() {
    let f = Fixture::new();
    let (one, other) = (f.small(4, 4), f.small(4, 4));
    let ns = Namespace::plugin("p");
    let value = vec![b'v'; 1000];
    // An entry counts its namespaced key, the 9-byte header and the value.
    let full = |key: &str| ns.key(key).len() as u64 + 9 + 1000;
    let limit = 3 * full("a");
    let quota = Some(limit);
    for key in ["a", "b", "c"] {
        one.set_within(&ns, key, &value, Expiry::Never, quota).unwrap();
    }
    // Another process sees the same count and is refused.
    let refused = other.set_within(&ns, "d", &value, Expiry::Never, quota).unwrap_err();
    assert!(matches!(refused, CacheError::Quota { used, limit, .. } if used == limit && limit == 3 * full("a")));
    assert!(refused.to_string().contains("plugin `p`"), "{refused}");
    // Replacing a value with one no larger is always allowed.
    one.set_within(&ns, "a", &value, Expiry::Never, quota).unwrap();
    // Deletes and invalidation give the bytes back.
    assert!(other.delete(&ns, "a").unwrap());
    one.set_within(&ns, "d", &value, Expiry::After(Duration::from_secs(10)), quota).unwrap();
    assert_eq!(one.bytes_used(&ns).unwrap(), 3 * full("a"));
    assert_eq!(one.invalidate(&ns, "b").unwrap(), 1);
    assert_eq!(one.bytes_used(&ns).unwrap(), 2 * full("a"));
    one.set_within(&ns, "e", &value, Expiry::Never, quota).unwrap();
    // Full again; once `d` expires it stops counting at the next set.
    assert!(one.set_within(&ns, "f", &value, Expiry::Never, quota).is_err());
    f.clock.advance(Duration::from_secs(11));
    one.set_within(&ns, "f", &value, Expiry::Never, quota).unwrap();
    assert_eq!(one.bytes_used(&ns).unwrap(), 3 * full("a"));
    // Other namespaces are not counted, nor limited by it.
    one.set(&Namespace::user(), "a", &value, Expiry::Never).unwrap();
    assert_eq!(one.bytes_used(&ns).unwrap(), 3 * full("a"));
}
