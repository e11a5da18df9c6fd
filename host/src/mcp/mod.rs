//! `isaac mcp`: installed plugin commands as the tools of a Model Context
//! Protocol server, over stdio or Streamable HTTP on loopback, with the
//! official Rust SDK (`rmcp`).
//!
//! Every plugin is loaded once; each `tools/call` runs in a fresh sandbox
//! with the plugin's grant and limits, exactly as `isaac run` does, at most
//! `[mcp] max_concurrent_calls` at once. The plugins folder is watched: an
//! install, upgrade or removal loads the plugins again (from the
//! compiled-code cache) and swaps them in without waiting for calls in
//! flight, and tells every client (`notifications/tools/list_changed`). Nothing a client sends can install,
//! grant or change anything. Over HTTP, a client must show the bearer
//! token the server made at start ([`Token`]).

mod server;
mod token;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

pub use server::McpServer;
pub use token::Token;

use crate::host::{Host, HostError};
use crate::tools::Exposed;
use server::{Loaded, Shared};

/// `isaac mcp` could not serve.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The plugins could not be loaded.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The plugins folder cannot be watched.
    #[error("cannot watch the plugins folder {path} for installs")]
    Watch {
        /// The folder.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: notify::Error,
    },
    /// `--http` named an address that is not loopback.
    #[error(
        "--http {0}: isaac serves MCP over HTTP on loopback only (127.0.0.1 or [::1]), for clients on this machine"
    )]
    NotLoopback(SocketAddr),
    /// The transport failed.
    #[error("MCP over {transport}: {message}")]
    Transport {
        /// stdio or the address.
        transport: String,
        /// What failed.
        message: String,
    },
}

impl McpServer {
    /// Load every installed plugin of `host` and start watching its plugins
    /// folder (for as long as the returned server lives on a Tokio runtime).
    pub async fn open(host: Arc<Host>) -> Result<Self, McpError> {
        let mcp = host.settings().mcp();
        let exposed = match &mcp.expose {
            None => Exposed::All,
            Some(names) => Exposed::Only(names.iter().cloned().collect()),
        };
        if let Exposed::Only(names) = &exposed {
            let installed = host.installed();
            for name in names.iter().filter(|n| !installed.contains(n)) {
                tracing::warn!("[mcp] expose names `{name}`, which is not installed");
            }
        }
        let report = host.load_all(&|_| {}).await?;
        for failure in &report.failures {
            tracing::warn!("{}", crate::error::OneLine(failure));
        }
        let loaded = Loaded::new(report, &exposed);
        let shared = Arc::new(Shared::new(host.clone(), exposed, loaded, mcp.max_concurrent_calls));
        watch::start(&shared)?;
        Ok(McpServer { shared })
    }

    /// How many tools are offered now.
    pub async fn tool_count(&self) -> usize {
        self.shared.loaded.read().await.tools.len()
    }

    /// Serve one client over stdin and stdout until it closes them.
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        let transport =
            |e: &dyn std::fmt::Display| McpError::Transport { transport: "stdio".into(), message: e.to_string() };
        let running = self.serve(rmcp::transport::stdio()).await.map_err(|e| transport(&e))?;
        running.waiting().await.map_err(|e| transport(&e))?;
        Ok(())
    }

    /// Serve Streamable HTTP at `http://ADDR/mcp` (loopback only) to
    /// clients that send `token` as `Authorization: Bearer`, until
    /// `shutdown` completes. `ready` is told the bound address.
    pub async fn serve_http(
        self,
        addr: SocketAddr,
        token: Token,
        ready: impl FnOnce(SocketAddr),
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), McpError> {
        if !addr.ip().is_loopback() {
            return Err(McpError::NotLoopback(addr));
        }
        let transport =
            |e: &dyn std::fmt::Display| McpError::Transport { transport: addr.to_string(), message: e.to_string() };
        // Loopback hosts only (DNS rebinding), and no browser page may call in.
        let config = StreamableHttpServerConfig::default().enforce_origin_validation();
        let service =
            StreamableHttpService::new(move || Ok(self.clone()), Arc::new(LocalSessionManager::default()), config);
        // Every request, whatever its path, shows the token first.
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn_with_state(token, token::require));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| transport(&e))?;
        ready(listener.local_addr().map_err(|e| transport(&e))?);
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await.map_err(|e| transport(&e))
    }
}
