//! Watch the plugins folder; on a change, reload what changed and tell the
//! clients when the tools differ.

use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use super::McpError;
use super::server::{Loaded, Shared};

/// Changes closer together than this are one (an install writes several files).
const SETTLE: Duration = Duration::from_millis(200);

/// Start watching `shared`'s plugins folder on the current Tokio runtime;
/// the watch ends when the server's last session is gone.
pub(super) fn start(shared: &Arc<Shared>) -> Result<(), McpError> {
    let dir = shared.host.home().plugins_dir();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| w.watch(&dir, RecursiveMode::Recursive).map(|()| w))
    .map_err(|source| McpError::Watch { path: dir.clone(), source })?;
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            let Some(shared) = weak.upgrade() else { break };
            if reload(&shared).await {
                shared.tools_changed().await;
            }
        }
        // Keep the watcher alive for as long as the loop runs.
        let _ = watcher.unwatch(&dir);
    });
    Ok(())
}

/// Load the plugins again (from the compiled-code cache; what changed is
/// compiled) and swap them in: calls in flight finish on the plugins they
/// started with. Whether the tools changed.
async fn reload(shared: &Shared) -> bool {
    let report = match shared.host.load_all(&|_| {}).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(
                "mcp: loading the plugins failed: {}; keeping the tools as they were",
                crate::error::OneLine(&e)
            );
            return false;
        }
    };
    for failure in &report.failures {
        tracing::warn!("{}", crate::error::OneLine(failure));
    }
    let fresh = Loaded::new(report, &shared.exposed);
    let mut loaded = shared.loaded.write().await;
    let changed = fresh.tools != loaded.tools;
    tracing::info!("mcp: plugins reloaded: {} tools", fresh.tools.len());
    *loaded = fresh;
    changed
}
