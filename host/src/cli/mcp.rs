//! `isaac mcp`: serve the installed plugins' commands as MCP tools.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

use super::{Context, Failure};
use crate::host::Host;
use crate::mcp::{McpError, McpServer, Token};

/// Serve every installed plugin command as a tool of a Model Context Protocol
/// server, for Claude Code, Claude Desktop, Cursor or any MCP client.
///
/// Over stdio by default (the client starts `isaac mcp`); `--http` serves
/// Streamable HTTP at http://ADDR/mcp on loopback instead, to clients that
/// send the bearer token it prints at start (and writes to
/// $ISAAC_HOME/mcp-token, readable by you alone). Each tool call
/// runs the command in its own sandbox with the plugin's grant and limits,
/// exactly as `isaac run` does. `[mcp] expose` chooses the plugins;
/// installs and removals reach connected clients at once.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve Streamable HTTP at this loopback address instead of stdio.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8931")]
    http: Option<SocketAddr>,
}

pub fn run(cx: &Context, args: McpArgs) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let host = Arc::new(Host::open(&cx.settings)?);
    let token = match args.http {
        Some(addr) if !addr.ip().is_loopback() => return Err(McpError::NotLoopback(addr).into()),
        Some(_) => {
            let token = Token::generate()?;
            let file = host.home().mcp_token_file();
            token
                .write_to(&file)
                .map_err(|e| anyhow::anyhow!("cannot write the token file {}: {e}", file.display()))?;
            Some((token, file))
        }
        None => None,
    };
    runtime.block_on(async {
        let server = McpServer::open(host.clone()).await?;
        let tools = server.tool_count().await;
        match (args.http, token) {
            (Some(addr), Some((token, file))) => {
                let ready = |bound| {
                    crate::say!("isaac mcp: {tools} tools at http://{bound}/mcp (Ctrl-C stops)");
                    crate::say!(
                        "isaac mcp: clients send `Authorization: Bearer {}` (also in {}, readable by you alone; a new token each start)",
                        token.as_str(),
                        file.display()
                    );
                };
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                server.serve_http(addr, token.clone(), ready, shutdown).await
            }
            _ => server.serve_stdio().await,
        }
    })?;
    host.finish("mcp");
    Ok(0)
}
