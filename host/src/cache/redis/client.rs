//! The client side of the Redis store: its own small runtime, the pool of
//! connections (opened at the first operation, a failure remembered for
//! [`RETRY_AFTER`]), and each operation run on it within its time limit.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

use super::error::{ClientError, RedisFailure};
use super::tracker::Tracker;
use super::{RedisStore, redact};
use crate::cache::store::StoreError;
use crate::error::Source;
use crate::settings::Secret;

/// How long a failed connection is remembered before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The state of the pool.
pub(super) enum Link {
    /// Not connected yet.
    Idle,
    /// Connected: the pool.
    Up(Vec<ConnectionManager>),
    /// The last try failed, at this time.
    Down(Instant, StoreError),
}

impl RedisStore {
    /// The server's URL, as configured (with any password: see [`redact`]).
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// A failure of this store, naming its server (password redacted).
    pub(super) fn failed(&self, failure: RedisFailure) -> StoreError {
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
    pub(super) fn run<T, F>(
        &self,
        conn: ConnectionManager,
        op: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, RedisError>> + Send + 'static,
    {
        self.block((self.timeout(), "timeout_ms"), op(conn))
    }

    /// The connection for the next operation, connecting first if needed.
    /// A failed connection is remembered for [`RETRY_AFTER`], as an error
    /// that says what to do.
    pub(super) fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut link = self.link.lock().unwrap_or_else(|e| e.into_inner());
        if let Link::Down(at, error) = &*link
            && at.elapsed() < RETRY_AFTER
        {
            return Err(error.clone());
        }
        self.pooled(&mut link).map_err(|error| {
            let error = self.unreachable(error);
            *link = Link::Down(Instant::now(), error.clone());
            error
        })
    }

    /// Connect now unless connected: for [`LocalFallback`](super::LocalFallback),
    /// which decides at the first operation. A failure is the client's, as
    /// it came (the fallback's warning says what happens instead).
    pub(super) fn reach(&self) -> Result<(), StoreError> {
        let mut link = self.link.lock().unwrap_or_else(|e| e.into_inner());
        self.pooled(&mut link).map(drop)
    }

    /// The next connection of the pool, opening the pool first if it is not.
    fn pooled(&self, link: &mut Link) -> Result<ConnectionManager, StoreError> {
        if let Link::Up(pool) = link {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
            return Ok(pool[i].clone());
        }
        let pool = self.connect()?;
        let first = pool[0].clone();
        *link = Link::Up(pool);
        Ok(first)
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
            let tracker = (slot == 0).then(|| {
                Tracker::new(self.keys.clone(), self.generation.clone(), self.runtime().map(|rt| rt.handle().clone()))
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
