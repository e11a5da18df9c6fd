//! The cold tier in a shared Redis or Valkey (`[storage] cold =
//! "redis://..."`), so that every host naming the same server shares cache
//! entries, AI answers and the daily AI spend.
//!
//! - **Client**: the `redis` crate's [`ConnectionManager`] over RESP3: one
//!   multiplexed connection per pool slot that reconnects by itself. It runs
//!   on a small runtime of its own; each [`ColdStore`] call hands it one
//!   operation and waits at most `[storage.redis] timeout_ms` for the
//!   answer, so a lost server is a `storage` error, never a hang.
//! - **Connecting** happens at the first operation, not when the host opens:
//!   `isaac run` of a plugin without the cache never connects. An
//!   unreachable server is an error naming the URL (password redacted), or,
//!   with `fallback = "local"`, the home's LMDB with one warning.
//! - **Layout and scripts**: [`keys`] and [`scripts`]. An entry's expiry is
//!   its key's TTL (`SET … PXAT`), so Redis expires entries itself; the
//!   quota is kept by the scripts, which reclaim expired entries' bytes
//!   from a per-namespace sorted set before they check it.
//! - **Freshness**: the first connection turns on `CLIENT TRACKING ON BCAST
//!   PREFIX <prefix>d: NOLOOP`; every invalidation the server pushes (another
//!   client changed an entry) bumps this process's generation, so its memory
//!   tiers empty within the freshness bound. A lost connection bumps it too,
//!   and again once tracking is back on the new connection.
//! - **Durability** is the server's (`appendonly yes`, `appendfsync
//!   always` for the `durable` mode's guarantee): [`ColdStore::sync`] has
//!   nothing to add.

mod error;
pub mod keys;
mod scripts;

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, PushInfo, PushKind, RedisError};

use super::entry;
use super::lmdb::LmdbStore;
use super::store::{Applied, ColdStore, Footprint, Matching, Op, Outcome, Quota, Space, StoreError, namespace_of};
pub use crate::config::redact;
use crate::config::{Fallback, RedisConfig};
use crate::error::Source;
use crate::settings::Secret;
pub use error::{ClientError, RedisFailure};
use keys::Keys;

/// How long a failed connection is remembered before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Keys asked for per `SCAN`.
const SCAN_COUNT: usize = 1000;

enum Link {
    /// Not connected yet.
    Idle,
    /// Connected: the pool.
    Up(Vec<ConnectionManager>),
    /// The last try failed, at this time.
    Down(Instant, StoreError),
    /// Redis could not be reached; the home's LMDB serves (fallback).
    Local,
}

/// L3 in Redis or Valkey. See the module documentation.
pub struct RedisStore {
    url: String,
    settings: RedisConfig,
    keys: Keys,
    runtime: OnceLock<Result<tokio::runtime::Runtime, Arc<std::io::Error>>>,
    link: Mutex<Link>,
    next: AtomicUsize,
    generation: Arc<AtomicU64>,
    local: LmdbStore,
}

/// Where an operation goes.
enum Target<'a> {
    Redis(ConnectionManager),
    Local(&'a LmdbStore),
}

impl RedisStore {
    /// A store on the server at `url`, configured by `settings`; `local` is
    /// the home's LMDB, used only with `fallback = "local"`. Connects at the
    /// first operation.
    pub fn new(url: &str, settings: RedisConfig, local: LmdbStore) -> Self {
        RedisStore {
            url: url.to_owned(),
            keys: Keys::new(&settings.key_prefix),
            settings,
            runtime: OnceLock::new(),
            link: Mutex::new(Link::Idle),
            next: AtomicUsize::new(0),
            generation: Arc::new(AtomicU64::new(0)),
            local,
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    fn failed(&self, failure: RedisFailure) -> StoreError {
        StoreError::Failed { path: redact(&self.url), source: Source::new(failure) }
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime, StoreError> {
        let runtime = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("isaac-redis")
                .enable_all()
                .build()
                .map_err(Arc::new)
        });
        runtime.as_ref().map_err(|e| self.failed(RedisFailure::Runtime(e.clone())))
    }

    /// Run `future` on the client's runtime and wait for it, at most `limit`
    /// (the duration, and the `[storage.redis]` setting that gave it).
    fn block<T: Send + 'static>(
        &self,
        (limit, setting): (Duration, &'static str),
        future: impl Future<Output = Result<T, RedisError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime()?.spawn(async move {
            let _ = tx.send(tokio::time::timeout(limit, future).await);
        });
        match rx.recv() {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(self.explain(e)),
            Ok(Err(_)) => Err(self.failed(RedisFailure::Timeout { limit, setting })),
            Err(_) => Err(self.failed(RedisFailure::Stopped)),
        }
    }

    fn explain(&self, e: RedisError) -> StoreError {
        self.failed(RedisFailure::of(e, self.settings.password_env.as_deref()))
    }

    /// One operation on `op`'s connection, within the timeout.
    fn run<T, F>(&self, conn: ConnectionManager, op: impl FnOnce(ConnectionManager) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, RedisError>> + Send + 'static,
    {
        self.block((self.timeout(), "timeout_ms"), op(conn))
    }

    /// The connection for the next operation, connecting first if needed;
    /// or the local LMDB after a fallback.
    fn target(&self) -> Result<Target<'_>, StoreError> {
        let mut link = self.link.lock().unwrap_or_else(|e| e.into_inner());
        match &*link {
            Link::Up(pool) => {
                let i = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
                return Ok(Target::Redis(pool[i].clone()));
            }
            Link::Local => return Ok(Target::Local(&self.local)),
            Link::Down(at, error) if at.elapsed() < RETRY_AFTER => return Err(error.clone()),
            Link::Down(..) | Link::Idle => {}
        }
        match self.connect() {
            Ok(pool) => {
                let first = pool[0].clone();
                *link = Link::Up(pool);
                Ok(Target::Redis(first))
            }
            Err(error) if self.settings.fallback == Fallback::Local => {
                tracing::warn!(
                    "{}; using this home's own cache instead ([storage.redis] fallback = \"local\")",
                    crate::error::OneLine(&error)
                );
                *link = Link::Local;
                Ok(Target::Local(&self.local))
            }
            Err(error) => {
                let error = self.unreachable(error);
                *link = Link::Down(Instant::now(), error.clone());
                Err(error)
            }
        }
    }

    /// Open the pool; the first connection tracks entries for invalidation.
    fn connect(&self) -> Result<Vec<ConnectionManager>, StoreError> {
        let mut info = redis::IntoConnectionInfo::into_connection_info(self.url.as_str())
            .map_err(|e| self.failed(RedisFailure::Url(ClientError(e))))?;
        let mut redis_info = info.redis_settings().clone().set_protocol(redis::ProtocolVersion::RESP3);
        if let Some(user) = &self.settings.username {
            redis_info = redis_info.set_username(user);
        }
        if let Some(var) = &self.settings.password_env {
            let password =
                Secret::named(var).read().ok_or_else(|| self.failed(RedisFailure::PasswordUnset(var.clone())))?;
            redis_info = redis_info.set_password(password);
        }
        info = info.set_redis_settings(redis_info);
        let client = Client::open(info).map_err(|e| self.explain(e))?;
        let limit = (Duration::from_millis(self.settings.connect_timeout_ms), "connect_timeout_ms");
        let mut pool = Vec::with_capacity(self.settings.pool_size);
        for slot in 0..self.settings.pool_size {
            let tracker = (slot == 0).then(|| Tracker {
                keys: self.keys.clone(),
                generation: self.generation.clone(),
                manager: Arc::new(OnceLock::new()),
                runtime: self.runtime().map(|rt| rt.handle().clone()),
            });
            let config = self.manager_config();
            let client = client.clone();
            let manager = self.block(limit, async move {
                match tracker {
                    Some(tracker) => tracker.connect(client, config).await,
                    None => ConnectionManager::new_with_config(client, config).await,
                }
            })?;
            pool.push(manager);
        }
        Ok(pool)
    }

    /// A failed connection, with what the user can do about it when the
    /// server was not reached (refused credentials say what to do already).
    fn unreachable(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::Failed { path, source } => match source.get().downcast_ref::<RedisFailure>() {
                Some(failure @ (RedisFailure::Client(_) | RedisFailure::Timeout { .. } | RedisFailure::Stopped)) => {
                    StoreError::Failed { path, source: Source::new(RedisFailure::Connect(Box::new(failure.clone()))) }
                }
                _ => StoreError::Failed { path, source },
            },
            other => other,
        }
    }

    fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.timeout()))
            .set_connection_timeout(Some(Duration::from_millis(self.settings.connect_timeout_ms)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1))
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        // Without waiting for the client's tasks: a runtime dropped the
        // blocking way panics inside another runtime's async context.
        if let Some(Ok(runtime)) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Keeps this process's generation in step with the server: invalidation
/// pushes and lost connections bump it; tracking is turned on again after a
/// reconnect.
#[derive(Clone)]
struct Tracker {
    keys: Keys,
    generation: Arc<AtomicU64>,
    manager: Arc<OnceLock<ConnectionManager>>,
    runtime: Result<tokio::runtime::Handle, StoreError>,
}

impl Tracker {
    async fn connect(self, client: Client, config: ConnectionManagerConfig) -> Result<ConnectionManager, RedisError> {
        let pushes = self.clone();
        let config = config.set_push_sender(move |push: PushInfo| {
            pushes.on_push(push);
            Ok::<(), std::convert::Infallible>(())
        });
        let mut manager = ConnectionManager::new_with_config(client, config).await?;
        self.track(&mut manager).await?;
        let _ = self.manager.set(manager.clone());
        Ok(manager)
    }

    async fn track(&self, manager: &mut ConnectionManager) -> Result<(), RedisError> {
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .arg("BCAST")
            .arg("PREFIX")
            .arg(self.keys.data_prefix())
            .arg("NOLOOP")
            .query_async(manager)
            .await
    }

    fn on_push(&self, push: PushInfo) {
        match push.kind {
            PushKind::Invalidate => {
                self.generation.fetch_add(1, Ordering::SeqCst);
            }
            PushKind::Disconnection => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                let (Some(manager), Ok(runtime)) = (self.manager.get(), &self.runtime) else { return };
                let (mut manager, tracker) = (manager.clone(), self.clone());
                runtime.spawn(async move {
                    // The manager reconnects; tracking must be asked for again
                    // on the new connection. Until then memory may have missed
                    // an invalidation: empty it again once tracking is back.
                    while tracker.track(&mut manager).await.is_err() {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    tracker.generation.fetch_add(1, Ordering::SeqCst);
                    tracing::info!("reconnected to Redis; invalidations are tracked again");
                });
            }
            _ => {}
        }
    }
}

/// Parse an integer reply given as text.
fn number(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

impl RedisStore {
    /// The entries `fulls`, encoded, with their expiries: `GET` and
    /// `PEXPIRETIME` for each in one transaction, one round trip.
    fn get_data(&self, conn: ConnectionManager, fulls: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if fulls.is_empty() {
            return Ok(Vec::new());
        }
        let data: Vec<String> = fulls.iter().map(|full| self.keys.data(full)).collect();
        let found: Vec<(Option<Vec<u8>>, i64)> = self.run(conn, move |mut c| async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &data {
                pipe.get(key).cmd("PEXPIRETIME").arg(key);
            }
            let flat: Vec<redis::Value> = pipe.query_async(&mut c).await?;
            let pairs = flat.chunks(2).map(|pair| redis::Value::Array(pair.to_vec())).collect();
            redis::from_redis_value(redis::Value::Array(pairs)).map_err(Into::into)
        })?;
        Ok(found
            .into_iter()
            .map(|(value, at)| value.map(|v| entry::encode(u64::try_from(at).unwrap_or(0), &v)))
            .collect())
    }

    /// The four keys of an entry script for `full`, and its rest.
    fn entry_keys(&self, full: &str) -> ([String; 4], String, String) {
        let ns = namespace_of(full);
        let [sizes, exp, total] = self.keys.quota(ns);
        let data = self.keys.data(full);
        let entry_prefix = data[..data.len() - (full.len() - ns.len())].to_owned();
        ([data, sizes, exp, total], full[ns.len()..].to_owned(), entry_prefix)
    }

    fn quota_error(full: &str, reply: &[String], limit: Option<Quota>) -> StoreError {
        StoreError::Quota {
            namespace: namespace_of(full).to_owned(),
            used: reply.get(1).map_or(0, |t| number(t)),
            more: reply.get(2).map_or(0, |t| number(t)),
            limit: limit.map_or(0, |q| q.limit),
        }
    }

    fn put_data(
        &self,
        conn: ConnectionManager,
        full: &str,
        raw: &[u8],
        quota: Option<Quota>,
    ) -> Result<(), StoreError> {
        let (expires_at, value) = entry::decode(raw).ok_or_else(|| self.failed(RedisFailure::NotEncoded))?;
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let size = full.len() + raw.len();
        let (limit, now) = limits(quota);
        let value = value.to_vec();
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::PUT.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(value).arg(expires_at).arg(now).arg(limit).arg(size).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("ok") => Ok(()),
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    fn delete_data(&self, conn: ConnectionManager, full: &str) -> Result<u32, StoreError> {
        let (keys, rest, _) = self.entry_keys(full);
        let removed: u32 = self.run(conn, move |mut c| async move {
            let mut call = scripts::DELETE.prepare_invoke();
            call.key(&keys[..]).arg(rest);
            call.invoke_async(&mut c).await
        })?;
        Ok(removed)
    }

    #[allow(clippy::too_many_arguments)]
    fn increment(
        &self,
        conn: ConnectionManager,
        full: &str,
        delta: i64,
        new_expiry: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let base = full.len() + entry::HEADER;
        let (limit, _) = limits(quota);
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::INCREMENT.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(delta).arg(new_expiry).arg(now).arg(limit).arg(base).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("ok") => {
                let value = reply.get(1).and_then(|v| v.parse().ok());
                let odd = || self.failed(RedisFailure::Reply { script: "INCREMENT", reply: reply.clone() });
                let value = value.ok_or_else(odd)?;
                Ok(Outcome::Counted { value, expires_at: reply.get(2).map_or(0, |t| number(t)) })
            }
            // INCRBY refused: the value is no integer, or the sum would leave
            // the range of i64; the value itself tells which.
            Some("error") => match self.get_data_value(full)? {
                Some(current) if current.checked_add(delta).is_none() => {
                    Err(StoreError::Overflow { key: full.to_owned(), current, delta })
                }
                _ => Err(StoreError::NotAnInteger { key: full.to_owned() }),
            },
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    /// The integer an entry holds, if it holds one.
    fn get_data_value(&self, full: &str) -> Result<Option<i64>, StoreError> {
        let Target::Redis(conn) = self.target()? else { return Ok(None) };
        let raw = self.get_data(conn, &[full])?.pop().flatten();
        Ok(raw.as_deref().and_then(entry::decode).and_then(|(_, v)| entry::integer(v)))
    }

    #[allow(clippy::too_many_arguments)]
    fn compare_and_swap(
        &self,
        conn: ConnectionManager,
        full: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        expires_at: u64,
        now: u64,
        quota: Option<Quota>,
    ) -> Result<Outcome, StoreError> {
        let (keys, rest, entry_prefix) = self.entry_keys(full);
        let size = full.len() + entry::HEADER + value.len();
        let (limit, _) = limits(quota);
        let (has, expected) = (if expected.is_some() { "1" } else { "0" }, expected.unwrap_or_default().to_vec());
        let value = value.to_vec();
        let reply: Vec<String> = self.run(conn, move |mut c| async move {
            let mut call = scripts::COMPARE_AND_SWAP.prepare_invoke();
            call.key(&keys[..]).arg(rest).arg(has).arg(expected).arg(value);
            call.arg(expires_at).arg(now).arg(limit).arg(size).arg(entry_prefix);
            call.invoke_async(&mut c).await
        })?;
        match reply.first().map(String::as_str) {
            Some("swapped") => Ok(Outcome::Swapped(reply.get(1).is_some_and(|v| v == "1"))),
            _ => Err(Self::quota_error(full, &reply, quota)),
        }
    }

    /// Run a cursor command (`SCAN`, `HSCAN`) built by `command` to the end,
    /// handing each batch to `batch`.
    fn each_batch<T: redis::FromRedisValue + Send + 'static>(
        &self,
        conn: &ConnectionManager,
        command: impl Fn(u64) -> redis::Cmd,
        mut batch: impl FnMut(T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut cursor = 0u64;
        loop {
            let cmd = command(cursor);
            let (next, items): (u64, T) =
                self.run(conn.clone(), move |mut c| async move { cmd.query_async(&mut c).await })?;
            batch(items)?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Every key `SCAN MATCH pattern` finds, batch by batch.
    fn scan_keys(
        &self,
        conn: &ConnectionManager,
        pattern: &str,
        batch: impl FnMut(Vec<Vec<u8>>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let command = |cursor: u64| {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            cmd
        };
        self.each_batch(conn, command, batch)
    }

    /// The counters whose names match `pattern`, with their values, by name.
    fn scan_counters(&self, conn: &ConnectionManager, pattern: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let key = self.keys.counters();
        let command = |cursor: u64| {
            let mut cmd = redis::cmd("HSCAN");
            cmd.arg(&key).arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            cmd
        };
        let mut out = Vec::new();
        self.each_batch(conn, command, |pairs: Vec<(String, String)>| {
            out.extend(pairs.into_iter().map(|(name, value)| (name, number(&value))));
            Ok(())
        })?;
        // A cursor may return an entry twice.
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        Ok(out)
    }

    fn delete_where(
        &self,
        conn: &ConnectionManager,
        space: Space,
        prefix: &str,
        matching: Matching<'_>,
    ) -> Result<u32, StoreError> {
        match space {
            // Redis expires entries itself; their bytes are reclaimed at the
            // namespace's next quota check.
            Space::Data if matches!(matching, Matching::Expired { .. }) => Ok(0),
            Space::Data => {
                let glob = match matching {
                    Matching::Glob { namespace, pattern } => Some((namespace, pattern)),
                    _ => None,
                };
                let Some(pattern) = self.keys.data_pattern(prefix, glob) else { return Ok(0) };
                let mut removed = 0;
                self.scan_keys(conn, &pattern, |batch| {
                    let mut by_ns: std::collections::BTreeMap<String, Vec<String>> = Default::default();
                    for full in batch.iter().filter_map(|k| self.keys.full_of(k)) {
                        if full.starts_with(prefix) && matching.matches(&full, &[]) {
                            by_ns.entry(namespace_of(&full).to_owned()).or_default().push(full);
                        }
                    }
                    for (ns, fulls) in by_ns {
                        removed += self.delete_many(conn, &ns, &fulls)?;
                    }
                    Ok(())
                })?;
                Ok(removed)
            }
            Space::Counters => {
                let names: Vec<String> = self
                    .scan_counters(conn, &self.keys.name_pattern(prefix, false))?
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                let mut removed = 0;
                for chunk in names.chunks(SCAN_COUNT) {
                    let (key, chunk) = (self.keys.counters(), chunk.to_vec());
                    removed +=
                        self.run::<u32, _>(conn.clone(), move |mut c| async move { c.hdel(key, chunk).await })?;
                }
                Ok(removed)
            }
            Space::Meta => {
                let mut removed = 0;
                self.scan_keys(conn, &self.keys.name_pattern(prefix, true), |batch| {
                    if !batch.is_empty() {
                        removed +=
                            self.run::<u32, _>(conn.clone(), move |mut c| async move { c.unlink(batch).await })?;
                    }
                    Ok(())
                })?;
                Ok(removed)
            }
        }
    }

    fn delete_many(&self, conn: &ConnectionManager, ns: &str, fulls: &[String]) -> Result<u32, StoreError> {
        let [sizes, exp, total] = self.keys.quota(ns);
        let keys: Vec<String> =
            [sizes, exp, total].into_iter().chain(fulls.iter().map(|f| self.keys.data(f))).collect();
        let rests: Vec<String> = fulls.iter().map(|f| f[ns.len()..].to_owned()).collect();
        self.run(conn.clone(), move |mut c| async move {
            let mut call = scripts::DELETE_MANY.prepare_invoke();
            call.key(&keys[..]).arg(&rests[..]);
            call.invoke_async(&mut c).await
        })
    }

    /// A run of counter additions, in one transaction.
    fn add_all(&self, conn: &ConnectionManager, adds: &[(String, u64)]) -> Result<(), StoreError> {
        if adds.is_empty() {
            return Ok(());
        }
        let (key, adds) = (self.keys.counters(), adds.to_vec());
        self.run(conn.clone(), move |mut c| async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (name, delta) in &adds {
                pipe.hincr(&key, name, *delta).ignore();
            }
            pipe.query_async::<()>(&mut c).await
        })
    }
}

/// `(limit, now)` as the scripts take them (`-1`: no limit).
fn limits(quota: Option<Quota>) -> (i64, u64) {
    quota.map_or((-1, 0), |q| (i64::try_from(q.limit).unwrap_or(i64::MAX), q.now_ms))
}

impl ColdStore for RedisStore {
    fn get(&self, space: Space, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = match self.target()? {
            Target::Local(local) => return local.get(space, key),
            Target::Redis(conn) => conn,
        };
        match space {
            Space::Data => Ok(self.get_data(conn, &[key])?.pop().flatten()),
            Space::Meta => {
                let key = self.keys.meta(key);
                self.run(conn, |mut c| async move { c.get(key).await })
            }
            Space::Counters => {
                let (hash, name) = (self.keys.counters(), key.to_owned());
                let value: Option<String> = self.run(conn, |mut c| async move { c.hget(hash, name).await })?;
                Ok(value.map(|v| number(&v).to_le_bytes().to_vec()))
            }
        }
    }

    fn get_many(&self, space: Space, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        match self.target()? {
            Target::Local(local) => local.get_many(space, keys),
            Target::Redis(conn) if space == Space::Data => self.get_data(conn, keys),
            Target::Redis(_) => keys.iter().map(|key| self.get(space, key)).collect(),
        }
    }

    fn scan(&self, space: Space, prefix: &str, visit: &mut dyn FnMut(&str, &[u8]) -> bool) -> Result<(), StoreError> {
        let conn = match self.target()? {
            Target::Local(local) => return local.scan(space, prefix, visit),
            Target::Redis(conn) => conn,
        };
        let mut found: Vec<(String, Vec<u8>)> = Vec::new();
        match space {
            Space::Counters => {
                let pattern = self.keys.name_pattern(prefix, false);
                found = self
                    .scan_counters(&conn, &pattern)?
                    .into_iter()
                    .filter(|(name, _)| name.starts_with(prefix))
                    .map(|(name, value)| (name, value.to_le_bytes().to_vec()))
                    .collect();
            }
            Space::Meta | Space::Data => {
                let pattern = match space {
                    Space::Meta => self.keys.name_pattern(prefix, true),
                    _ => self.keys.data_pattern(prefix, None).unwrap_or_default(),
                };
                let mut names = Vec::new();
                self.scan_keys(&conn, &pattern, |batch| {
                    names.extend(batch.iter().filter_map(|k| match space {
                        Space::Meta => {
                            std::str::from_utf8(k).ok().and_then(|k| self.keys.meta_of(k)).map(str::to_owned)
                        }
                        _ => self.keys.full_of(k),
                    }));
                    Ok(())
                })?;
                names.sort();
                names.dedup();
                for name in names.into_iter().filter(|n| n.starts_with(prefix)) {
                    if let Some(value) = self.get(space, &name)? {
                        found.push((name, value));
                    }
                }
            }
        }
        for (key, value) in &found {
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn apply(&self, ops: &[Op<'_>]) -> Result<Applied, StoreError> {
        let conn = match self.target()? {
            Target::Local(local) => return local.apply(ops),
            Target::Redis(conn) => conn,
        };
        let generation_before = if ops.iter().any(Op::touches_data) {
            self.generation.fetch_add(1, Ordering::SeqCst)
        } else {
            self.generation.load(Ordering::SeqCst)
        };
        let (mut deleted, mut outcome) = (0u32, None);
        let mut adds: Vec<(String, u64)> = Vec::new();
        for op in ops {
            if let Op::Add { key, delta } = *op {
                adds.push((key.to_owned(), delta));
                continue;
            }
            self.add_all(&conn, &std::mem::take(&mut adds))?;
            match *op {
                Op::Add { .. } => unreachable!("additions are gathered above"),
                Op::Put { space: Space::Data, key, value, quota } => self.put_data(conn.clone(), key, value, quota)?,
                Op::Put { space: Space::Meta, key, value, .. } => {
                    let (key, value) = (self.keys.meta(key), value.to_vec());
                    self.run::<(), _>(conn.clone(), |mut c| async move { c.set(key, value).await })?;
                }
                Op::Put { space: Space::Counters, key, value, .. } => {
                    let n = value.try_into().map_or(0, u64::from_le_bytes);
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    self.run::<(), _>(conn.clone(), move |mut c| async move { c.hset(hash, name, n).await })?;
                }
                Op::Delete { space: Space::Data, key } => deleted += self.delete_data(conn.clone(), key)?,
                Op::Delete { space: Space::Meta, key } => {
                    let key = self.keys.meta(key);
                    deleted += self.run::<u32, _>(conn.clone(), |mut c| async move { c.del(key).await })?;
                }
                Op::Delete { space: Space::Counters, key } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    deleted += self.run::<u32, _>(conn.clone(), |mut c| async move { c.hdel(hash, name).await })?;
                }
                Op::Sub { key, delta } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    self.run::<i64, _>(conn.clone(), move |mut c| async move {
                        scripts::SUB.key(hash).arg(name).arg(delta).invoke_async(&mut c).await
                    })?;
                }
                Op::AddCapped { key, delta, cap } => {
                    let (hash, name) = (self.keys.counters(), key.to_owned());
                    let reply: Vec<String> = self.run(conn.clone(), move |mut c| async move {
                        scripts::ADD_CAPPED.key(hash).arg(name).arg(delta).arg(cap).invoke_async(&mut c).await
                    })?;
                    if reply.first().is_some_and(|r| r == "over") {
                        let current = reply.get(1).map_or(0, |t| number(t));
                        return Err(StoreError::OverCap { key: key.to_owned(), current, delta, cap });
                    }
                }
                Op::Increment { key, delta, expires_at, now_ms, quota } => {
                    outcome = Some(self.increment(conn.clone(), key, delta, expires_at, now_ms, quota)?);
                }
                Op::CompareAndSwap { key, expected, value, expires_at, now_ms, quota } => {
                    let swapped =
                        self.compare_and_swap(conn.clone(), key, expected, value, expires_at, now_ms, quota)?;
                    outcome = Some(swapped);
                }
                Op::DeleteWhere { space, prefix, matching } => {
                    deleted += self.delete_where(&conn, space, prefix, matching)?;
                }
            }
        }
        self.add_all(&conn, &adds)?;
        Ok(Applied { generation_before, deleted, outcome })
    }

    fn generation(&self) -> Result<u64, StoreError> {
        if matches!(*self.link.lock().unwrap_or_else(|e| e.into_inner()), Link::Local) {
            return self.local.generation();
        }
        Ok(self.generation.load(Ordering::SeqCst))
    }

    fn footprint(&self) -> Result<Footprint, StoreError> {
        let conn = match self.target()? {
            Target::Local(local) => return local.footprint(),
            Target::Redis(conn) => conn,
        };
        let (entries, info): (u64, String) = self.run(conn, |mut c| async move {
            redis::pipe().cmd("DBSIZE").cmd("INFO").arg("memory").query_async(&mut c).await
        })?;
        let bytes = info.lines().find_map(|l| l.strip_prefix("used_memory:")).map_or(0, |v| number(v.trim()));
        Ok(Footprint { entries, bytes })
    }

    fn namespace_bytes(&self, ns: &str) -> Result<u64, StoreError> {
        let conn = match self.target()? {
            Target::Local(local) => return local.namespace_bytes(ns),
            Target::Redis(conn) => conn,
        };
        let [_, _, total] = self.keys.quota(ns);
        let value: Option<i64> = self.run(conn, |mut c| async move { c.get(total).await })?;
        Ok(value.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
    }

    fn sync(&self) -> Result<(), StoreError> {
        match self.target()? {
            Target::Local(local) => local.sync(),
            // Durability is the server's: `appendfsync always`.
            Target::Redis(_) => Ok(()),
        }
    }

    fn describe(&self) -> String {
        match *self.link.lock().unwrap_or_else(|e| e.into_inner()) {
            Link::Local => format!("{} (Redis at {} unreachable)", self.local.describe(), redact(&self.url)),
            _ => format!("redis ({})", redact(&self.url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(redact("redis://:s3cret@db:6379/0"), "redis://:***@db:6379/0");
        assert_eq!(redact("rediss://team:s3cret@db/1"), "rediss://team:***@db/1");
        assert_eq!(redact("redis://db:6379/0"), "redis://db:6379/0");
        assert_eq!(redact("redis+unix:///run/redis.sock"), "redis+unix:///run/redis.sock");
    }
}
