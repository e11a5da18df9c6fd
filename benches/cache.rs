//! The three-tier cache: get on an L1 hit, an L2 hit, an L3 (LMDB) hit and a
//! miss; set, increment and compare-and-swap in the `fast` and `durable`
//! modes; and the hit rate of each tier on a Zipf-distributed trace beside
//! moka (TinyLFU) given the same total in-memory capacity.
//!
//! Run: `cargo bench --bench cache`. The hit-rate table prints first.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use isaac_host::cache::clock::SystemClock;
use isaac_host::cache::lmdb::LmdbStore;
use isaac_host::cache::{Expiry, MultiLevelCache, Namespace};
use isaac_host::config::{CacheConfig, Durability};
use isaac_host::state::State;
use isaac_host::testing::{Trace, compare_policies};

fn cache(dir: &std::path::Path, config: CacheConfig) -> MultiLevelCache {
    let state = State::open(dir, 8192).unwrap();
    MultiLevelCache::new(Arc::new(LmdbStore::new(state)), config, Arc::new(SystemClock))
}

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key:{i:06}")).collect()
}

fn tiers(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cache = cache(dir.path(), CacheConfig::default());
    let ns = Namespace::user();
    let value = vec![7u8; 256];
    let all = keys(5000);
    for k in &all {
        cache.set(&ns, k, &value, Expiry::Never).unwrap();
    }
    let mut group = c.benchmark_group("cache-get");
    // The key set last: L1. (The first keys set went down to L2 while it
    // had room, and stay there: a hit in L2 keeps the entry in L2.)
    let newest = &all[all.len() - 1];
    cache.reset_stats().unwrap();
    group.bench_function("l1-hit", |b| b.iter(|| cache.get(&ns, black_box(newest)).unwrap().unwrap()));
    let counters = cache.stats().unwrap().counters;
    assert_eq!((counters.l2_hits, counters.l3_hits), (0, 0), "l1-hit must measure L1 hits");
    // 200 keys in a cycle: each was used 200 gets ago, past L1 (100), in L2.
    let mut i = 0;
    group.bench_function("l2-hit", |b| {
        b.iter(|| {
            i = (i + 1) % 200;
            cache.get(&ns, black_box(&all[i])).unwrap().unwrap()
        })
    });
    // 5000 keys in a cycle: past L1 + L2 (1100), so from LMDB.
    let mut j = 0;
    group.bench_function("l3-hit", |b| {
        b.iter(|| {
            j = (j + 1) % all.len();
            cache.get(&ns, black_box(&all[j])).unwrap().unwrap()
        })
    });
    group.bench_function("miss", |b| b.iter(|| cache.get(&ns, black_box("never:set")).unwrap()));
    group.finish();

    writes(c, &all, &value);
}

/// set, increment and compare-and-swap, each in the `fast` and `durable`
/// modes; all on 1000 keys in a cycle.
fn writes(c: &mut Criterion, keys: &[String], value: &[u8]) {
    let ns = Namespace::user();
    let fast_dir = tempfile::tempdir().unwrap();
    let durable_dir = tempfile::tempdir().unwrap();
    let modes = [
        ("fast", cache(fast_dir.path(), CacheConfig::default())),
        (
            "durable",
            cache(durable_dir.path(), CacheConfig { durability: Durability::Durable, ..CacheConfig::default() }),
        ),
    ];
    type Write = fn(&MultiLevelCache, &Namespace, &str, &[u8]);
    // Each: its group, the keys' first value, the write.
    let ops: [(&str, &[u8], Write); 3] = [
        ("cache-set", value, |cache, ns, key, value| cache.set(ns, key, value, Expiry::Default).unwrap()),
        ("cache-increment", b"0", |cache, ns, key, _| {
            cache.increment(ns, key, 1, None).unwrap();
        }),
        // Swap the value for itself: always the expected one, always set.
        ("cache-compare-and-swap", value, |cache, ns, key, value| {
            assert!(cache.compare_and_swap(ns, key, Some(value), value, Expiry::Never, None).unwrap())
        }),
    ];
    for (name, first, op) in ops {
        let mut group = c.benchmark_group(name);
        let names: Vec<String> = keys[..1000].iter().map(|k| format!("{name}:{k}")).collect();
        for (mode, cache) in &modes {
            for key in &names {
                cache.set(&ns, key, first, Expiry::Never).unwrap();
            }
            if *mode == "durable" {
                group.sample_size(20);
            }
            let mut n = 0;
            group.bench_function(*mode, |b| {
                b.iter(|| {
                    n = (n + 1) % 1000;
                    op(cache, &ns, &names[n], value)
                })
            });
        }
        group.finish();
    }
}

/// A cache-aside trace: get; on a miss, set. Prints the hit rate per tier
/// on Zipf 0.99 at the default capacity, then the memory tiers' policy
/// beside moka and a plain LRU holding as many entries, on each trace at 1 %
/// and 10 % of the keys.
fn hit_rates() {
    const KEYS: usize = 100_000;
    const REQUESTS: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let ours = cache(dir.path(), CacheConfig::default());
    let ns = Namespace::user();
    ours.reset_stats().unwrap();
    let names = keys(KEYS);
    let value = vec![1u8; 64];
    let start = Instant::now();
    for k in Trace::Zipf.generate(KEYS, REQUESTS, 42) {
        let name = &names[k as usize];
        if ours.get(&ns, name).unwrap().is_none() {
            ours.set(&ns, name, &value, Expiry::Never).unwrap();
        }
    }
    let took = start.elapsed();
    let s = ours.stats().unwrap();
    let pct = |n: u64| 100.0 * n as f64 / REQUESTS as f64;
    println!("hit rate, Zipf s=0.99 over {KEYS} keys, {REQUESTS} requests, cache-aside ({took:.1?} in all):");
    println!("  isaac L1 ({} entries)   {:6.2} %", 100, pct(s.counters.l1_hits));
    println!("  isaac L2 ({} entries)  {:6.2} %", 1000, pct(s.counters.l2_hits));
    println!("  isaac L1+L2 (memory)   {:6.2} %", 100.0 * s.memory_hit_rate);
    println!("  isaac L3 (LMDB)        {:6.2} %", pct(s.counters.l3_hits));
    println!("  isaac overall          {:6.2} %", 100.0 * s.hit_rate);
    println!("memory-tier policy beside moka and LRU at the same entry capacity ({REQUESTS} requests):");
    for trace in Trace::ALL {
        let asked = trace.generate(KEYS, REQUESTS, 42);
        for capacity in [KEYS / 100, KEYS / 10] {
            let r = compare_policies(&asked, capacity);
            println!(
                "  {:24} {capacity:6} entries: isaac {:6.2} %  moka {:6.2} %  LRU {:6.2} %",
                trace.name(),
                100.0 * r.isaac,
                100.0 * r.moka,
                100.0 * r.lru
            );
        }
    }
}

criterion_group!(benches, tiers);

fn main() {
    hit_rates();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
