//! Freshness across hosts: the first connection asks the server for
//! invalidation pushes (`CLIENT TRACKING ON BCAST`) on the entries' prefix;
//! each push, and each lost connection, bumps this process's generation, so
//! its memory tiers empty within the freshness bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, PushInfo, PushKind, RedisError};

use super::keys::Keys;
use crate::cache::store::StoreError;

/// Keeps this process's generation in step with the server: invalidation
/// pushes and lost connections bump it; tracking is turned on again after a
/// reconnect.
#[derive(Clone)]
pub(super) struct Tracker {
    /// The layout, for the prefix to track.
    keys: Keys,
    /// The store's generation.
    generation: Arc<AtomicU64>,
    /// The tracked connection, once open (to track again after a reconnect).
    manager: Arc<OnceLock<ConnectionManager>>,
    /// Where tracking is asked for again after a reconnect.
    runtime: Result<tokio::runtime::Handle, StoreError>,
}

impl Tracker {
    /// A tracker of the entries under `keys`, bumping `generation`; it asks
    /// again for tracking after a reconnect on `runtime`.
    pub(super) fn new(
        keys: Keys,
        generation: Arc<AtomicU64>,
        runtime: Result<tokio::runtime::Handle, StoreError>,
    ) -> Self {
        Tracker { keys, generation, manager: Arc::new(OnceLock::new()), runtime }
    }

    /// Open the tracked connection: pushes reach [`on_push`](Self::on_push).
    pub(super) async fn connect(
        self,
        client: Client,
        config: ConnectionManagerConfig,
    ) -> Result<ConnectionManager, RedisError> {
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
