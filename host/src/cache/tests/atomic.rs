//! Increment and compare-and-swap: decided in L3's write transaction, with
//! expired entries absent, memory tiers that never decide, and the quota.

use std::sync::Arc;
use std::time::Duration;

use super::{Fixture, get, set};
use crate::cache::{CacheError, Expiry, Namespace};
use crate::config::CacheConfig;

fn user() -> Namespace {
    Namespace::user()
}

#[test]
fn increment_counts_from_zero_keeps_the_expiry_and_treats_expired_as_absent() {
    let f = Fixture::new();
    let cache = f.small(4, 4);
    let ttl = Duration::from_secs(CacheConfig::default().default_ttl_secs);
    assert_eq!(cache.increment(&user(), "n", 5, None).unwrap(), 5);
    assert_eq!(get(&cache, "n").as_deref(), Some(&b"5"[..]));
    // An existing key keeps the expiry its first increment gave it.
    f.clock.advance(ttl - Duration::from_millis(1));
    assert_eq!(cache.increment(&user(), "n", -7, None).unwrap(), -2);
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(get(&cache, "n"), None);
    // Expired counts as absent: from 0 again, with a new default TTL.
    assert_eq!(cache.increment(&user(), "n", 1, None).unwrap(), 1);
    f.clock.advance(ttl - Duration::from_millis(1));
    assert_eq!(get(&cache, "n").as_deref(), Some(&b"1"[..]));
    // A value set to never expire stays that way.
    cache.set(&user(), "forever", b"41", Expiry::Never).unwrap();
    assert_eq!(cache.increment(&user(), "forever", 1, None).unwrap(), 42);
    f.clock.advance(ttl * 10);
    assert_eq!(get(&cache, "forever").as_deref(), Some(&b"42"[..]));
}

#[test]
fn increment_refuses_what_is_not_an_integer_and_overflow_changing_nothing() {
    let f = Fixture::new();
    let cache = f.small(4, 4);
    for value in ["hello", "007", " 1", "1.5", "-0", ""] {
        set(&cache, "v", value);
        let err = cache.increment(&user(), "v", 1, None).unwrap_err();
        assert!(matches!(err, CacheError::NotAnInteger { ref key } if key == "v"), "{value:?}");
        assert!(err.to_string().contains("`v` is not a decimal integer"), "{err}");
        assert_eq!(get(&cache, "v").as_deref(), Some(value.as_bytes()));
    }
    set(&cache, "max", &i64::MAX.to_string());
    let err = cache.increment(&user(), "max", 1, None).unwrap_err();
    assert!(matches!(err, CacheError::Overflow { current: i64::MAX, delta: 1, .. }), "{err:?}");
    assert_eq!(cache.increment(&user(), "max", -1, None).unwrap(), i64::MAX - 1);
    assert_eq!(cache.increment(&user(), "min", i64::MIN, None).unwrap(), i64::MIN);
    assert!(matches!(cache.increment(&user(), "min", -1, None), Err(CacheError::Overflow { .. })));
}

#[test]
fn compare_and_swap_sets_only_on_the_live_expected_value() {
    let f = Fixture::new();
    let cache = f.small(4, 4);
    let swap = |expected: Option<&str>, new: &str, expiry| {
        cache.compare_and_swap(&user(), "k", expected.map(str::as_bytes), new.as_bytes(), expiry, None).unwrap()
    };
    assert!(!swap(Some("a"), "b", Expiry::Never), "absent is not `a`");
    assert_eq!(get(&cache, "k"), None);
    assert!(swap(None, "a", Expiry::Never));
    assert!(!swap(None, "b", Expiry::Never), "present is not absent");
    // A stale expected value: false, and nothing changes.
    assert!(swap(Some("a"), "b", Expiry::Never));
    assert!(!swap(Some("a"), "c", Expiry::Never));
    assert_eq!(get(&cache, "k").as_deref(), Some(&b"b"[..]));
    // An expired value counts as absent.
    assert!(swap(Some("b"), "c", Expiry::After(Duration::from_secs(10))));
    f.clock.advance(Duration::from_secs(10));
    assert!(!swap(Some("c"), "d", Expiry::Never), "expired is not `c`");
    assert!(swap(None, "d", Expiry::Never));
    assert_eq!(get(&cache, "k").as_deref(), Some(&b"d"[..]));
}

#[test]
fn another_process_update_is_never_lost_to_a_stale_memory_tier() {
    let f = Fixture::new();
    let (one, other) = (f.small(4, 4), f.small(4, 4));
    assert_eq!(one.increment(&user(), "n", 1, None).unwrap(), 1);
    cache_in_memory(&one, "n", b"1");
    // Within the freshness bound `one` would still serve its memory tier
    // for a get; the increment is decided in L3 and sees `other`'s.
    assert_eq!(other.increment(&user(), "n", 10, None).unwrap(), 11);
    assert_eq!(one.increment(&user(), "n", 1, None).unwrap(), 12);
    assert_eq!(get(&one, "n").as_deref(), Some(&b"12"[..]));
    // The same for a swap: `one` expects what it last saw and loses; its
    // next read is the value that won.
    assert!(other.compare_and_swap(&user(), "n", Some(b"12"), b"20", Expiry::Never, None).unwrap());
    assert!(!one.compare_and_swap(&user(), "n", Some(b"12"), b"13", Expiry::Never, None).unwrap());
    assert_eq!(get(&one, "n").as_deref(), Some(&b"20"[..]));
}

/// Read `key` so it sits in `cache`'s memory tiers.
fn cache_in_memory(cache: &crate::cache::MultiLevelCache, key: &str, want: &[u8]) {
    assert_eq!(get(cache, key).as_deref(), Some(want));
    let before = cache.pending_counters().l1_hits;
    assert_eq!(get(cache, key).as_deref(), Some(want));
    assert_eq!(cache.pending_counters().l1_hits, before + 1, "{key} is not in L1");
}

#[test]
fn concurrent_increments_and_updates_from_two_processes_lose_nothing() {
    let f = Fixture::new();
    let caches = [Arc::new(f.small(4, 4)), Arc::new(f.small(4, 4))];
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let cache = caches[t % 2].clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    cache.increment(&user(), "n", 1, None).unwrap();
                    // A read-modify-write as a retry loop, as the SDK's `update`.
                    loop {
                        let old = cache.get(&user(), "list").unwrap();
                        let mut new = old.as_deref().unwrap_or_default().to_vec();
                        new.push(b'0' + t as u8);
                        let swapped =
                            cache.compare_and_swap(&user(), "list", old.as_deref(), &new, Expiry::Never, None);
                        if swapped.unwrap() {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Past the freshness bound, a get sees the other process's last write.
    f.clock.advance(Duration::from_millis(CacheConfig::default().freshness_ms));
    assert_eq!(get(&caches[0], "n").as_deref(), Some(&b"400"[..]));
    let list = get(&caches[1], "list").unwrap();
    assert_eq!(list.len(), 400);
    for t in 0..4u8 {
        assert_eq!(list.iter().filter(|b| **b == b'0' + t).count(), 100);
    }
}

#[test]
fn increments_and_swaps_count_toward_the_quota() {
    let f = Fixture::new();
    let cache = f.small(4, 4);
    let ns = Namespace::plugin("p");
    let entry = |key: &str, value: usize| (ns.key(key).len() + 9 + value) as u64;
    let limit = entry("n", 1) + entry("big", 100);
    let quota = Some(limit);
    assert_eq!(cache.increment(&ns, "n", 9, quota).unwrap(), 9);
    assert!(cache.compare_and_swap(&ns, "big", None, &[b'x'; 100], Expiry::Never, quota).unwrap());
    assert_eq!(cache.bytes_used(&ns).unwrap(), limit);
    // One more digit is one byte past the quota: refused, nothing changed.
    assert!(matches!(cache.increment(&ns, "n", 1, quota), Err(CacheError::Quota { .. })));
    assert_eq!(cache.increment(&ns, "n", -1, quota).unwrap(), 8);
    let grown = cache.compare_and_swap(&ns, "big", Some(&[b'x'; 100]), &[b'y'; 101], Expiry::Never, quota);
    assert!(matches!(grown, Err(CacheError::Quota { .. })), "{grown:?}");
    assert_eq!(get_in(&cache, &ns, "big"), vec![b'x'; 100]);
}

fn get_in(cache: &crate::cache::MultiLevelCache, ns: &Namespace, key: &str) -> Vec<u8> {
    cache.get(ns, key).unwrap().unwrap().to_vec()
}
