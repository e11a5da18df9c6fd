//! The cache's cold tier on LMDB beside Redis (a real `redis-server` on
//! loopback, started here), in one run: a get that misses both memory tiers
//! and hits L3, a set, and warming 1000 keys into a new process (one
//! pipelined read on Redis). Memory tiers are the same code on both.
//!
//! Run: `cargo bench --bench cold_tiers` (needs `redis-server`; installed by
//! `scripts/setup.sh`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group};
use isaac_host::cache::clock::SystemClock;
use isaac_host::cache::lmdb::LmdbStore;
use isaac_host::cache::redis;
use isaac_host::cache::store::ColdStore;
use isaac_host::cache::{Expiry, MultiLevelCache, Namespace};
use isaac_host::config::{CacheConfig, RedisConfig};
use isaac_host::state::State;
use support::redis::RedisServer;

/// Keys cycled through: more than L1 and L2 hold, so every get reaches L3.
const KEYS: usize = 5000;

fn tiers(c: &mut Criterion) {
    let server = RedisServer::start(&[]);
    let (lmdb_dir, redis_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lmdb = LmdbStore::new(State::open(lmdb_dir.path(), 8192).unwrap());
    let settings = RedisConfig { timeout_ms: 1000, ..RedisConfig::default() };
    let redis = redis::open(&server.url(), settings, LmdbStore::new(State::open(redis_dir.path(), 64).unwrap()));
    let stores: [(&str, Arc<dyn ColdStore>); 2] = [("lmdb", Arc::new(lmdb)), ("redis", redis)];
    let caches: Vec<(&str, MultiLevelCache)> = stores
        .into_iter()
        .map(|(name, store)| (name, MultiLevelCache::new(store, CacheConfig::default(), Arc::new(SystemClock))))
        .collect();
    let ns = Namespace::user();
    let value = vec![7u8; 256];
    let keys: Vec<String> = (0..KEYS).map(|i| format!("key:{i:06}")).collect();
    for (_, cache) in &caches {
        for key in &keys {
            cache.set(&ns, key, &value, Expiry::Never).unwrap();
        }
    }
    let mut group = c.benchmark_group("cold-get");
    for (name, cache) in &caches {
        let mut i = 0;
        group.bench_function(*name, |b| {
            b.iter(|| {
                i = (i + 1) % KEYS;
                cache.get(&ns, black_box(&keys[i])).unwrap().unwrap()
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("cold-set");
    for (name, cache) in &caches {
        let mut i = 0;
        group.bench_function(*name, |b| {
            b.iter(|| {
                i = (i + 1) % KEYS;
                cache.set(&ns, &keys[i], &value, Expiry::Default).unwrap()
            })
        });
    }
    group.finish();
    // Warming 1000 keys into a new process's empty memory: one batched read
    // (one pipelined round trip on Redis).
    let mut group = c.benchmark_group("cold-warm-1000");
    for (name, cache) in &caches {
        for key in &keys[..1000] {
            cache.get(&ns, key).unwrap();
        }
        cache.flush().unwrap();
        group.bench_function(*name, |b| {
            b.iter(|| {
                let fresh = MultiLevelCache::new(cache.store().clone(), CacheConfig::default(), Arc::new(SystemClock));
                let warm = fresh.warmup(&ns, 1000, |_| None).unwrap();
                // The hot set a new process preloads counts as in memory.
                assert_eq!(warm.loaded + warm.in_memory, 1000);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tiers);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
