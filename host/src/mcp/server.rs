//! The MCP handler: `tools/list` from the loaded plugins, `tools/call` in a
//! fresh sandbox per call, exactly as `isaac run` runs a command.

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::sync::{RwLock, Semaphore};

use crate::host::{Host, LoadReport};
use crate::pipes::Stdio;
use crate::terminal::{self, Lines};
use crate::tools::{self, Exposed, ToolSpec};

/// The plugins a server has loaded and the tools they offer. A call holds
/// its own reference, so a reload never waits for calls, nor calls for it.
pub(super) struct Loaded {
    pub(super) report: Arc<LoadReport>,
    pub(super) tools: Vec<ToolSpec>,
}

impl Loaded {
    pub(super) fn new(report: LoadReport, exposed: &Exposed) -> Self {
        let tools = tools::list(&report, exposed);
        Loaded { report: Arc::new(report), tools }
    }
}

/// What every session of one `isaac mcp` shares.
pub(super) struct Shared {
    pub(super) host: Arc<Host>,
    pub(super) exposed: Exposed,
    pub(super) loaded: RwLock<Loaded>,
    calls: Semaphore,
    peers: Mutex<Vec<Peer<RoleServer>>>,
}

impl Shared {
    pub(super) fn new(host: Arc<Host>, exposed: Exposed, loaded: Loaded, max_calls: usize) -> Self {
        Shared { host, exposed, loaded: RwLock::new(loaded), calls: Semaphore::new(max_calls), peers: Mutex::default() }
    }

    /// Tell every connected client that the tool list changed.
    pub(super) async fn tools_changed(&self) {
        let peers: Vec<Peer<RoleServer>> = {
            let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            peers.retain(|p| !p.is_transport_closed());
            peers.clone()
        };
        for peer in peers {
            if let Err(e) = peer.notify_tool_list_changed().await {
                tracing::debug!("mcp: could not send tools/list_changed: {e}");
            }
        }
    }
}

/// One MCP session's handler; every session of a server shares its plugins.
#[derive(Clone)]
pub struct McpServer {
    pub(super) shared: Arc<Shared>,
}

fn tool(spec: &ToolSpec) -> Tool {
    let mut tool = Tool::new(spec.name.clone(), spec.description.clone(), Arc::new(spec.schema()));
    tool.title = Some(format!("{} {}", spec.plugin, spec.command));
    tool
}

fn text_result(text: &str, is_error: bool) -> CallToolResponse {
    let content = vec![ContentBlock::text(terminal::clean(text, Lines::Keep))];
    match is_error {
        true => CallToolResult::error(content).into(),
        false => CallToolResult::success(content).into(),
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build())
            .with_server_info(Implementation::new("isaac", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Each tool is one command of an isaac plugin (`PLUGIN__COMMAND`), run in a WebAssembly \
                 sandbox with only what its user granted. Pass the command's words as `args`.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let loaded = self.shared.loaded.read().await;
        Ok(ListToolsResult { tools: loaded.tools.iter().map(tool).collect(), ..Default::default() })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (report, spec) = {
            let loaded = self.shared.loaded.read().await;
            let spec = loaded.tools.iter().find(|t| t.name == request.name).cloned();
            (loaded.report.clone(), spec)
        };
        let Some(spec) = spec else {
            let name = terminal::clean(&request.name, Lines::One);
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{name}`: `tools/list` names the tools"),
                None,
            ));
        };
        let input = match spec.input(request.arguments.as_ref()) {
            Ok(input) => input,
            Err(e) => return Ok(text_result(&format!("{}: {e}", spec.name), true)),
        };
        let Some(plugin) = report.plugins.iter().find(|p| p.name == spec.plugin) else {
            return Err(ErrorData::internal_error(format!("{} is no longer loaded", spec.plugin), None));
        };
        let _turn = self.shared.calls.acquire().await.map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let stdio = Stdio::text(input.stdin);
        tokio::select! {
            result = plugin.run_with(&spec.command, &input.words, &stdio, None) => Ok(match result {
                Ok(output) => text_result(&output, false),
                Err(e) => text_result(&e.tool_text(), true),
            }),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("the call was cancelled", None)),
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.shared.peers.lock().unwrap_or_else(|e| e.into_inner()).push(context.peer);
    }
}
