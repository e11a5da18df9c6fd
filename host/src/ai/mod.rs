//! Asynchronous AI queries: providers over `reqwest`, the [`AiRouter`] that
//! runs single queries, concurrent batches and concurrent fallback, a
//! response cache on the three-tier cache that counts the money it saved,
//! per-provider statistics, and a daily spending cap.
//!
//! Two wire formats cover the providers people use: OpenAI-compatible chat
//! completions (OpenAI, xAI Grok, Ollama, vLLM, llama.cpp server,
//! OpenRouter) and Anthropic Messages. `simulator` is a real HTTP server
//! that speaks both, for tests, benchmarks and demos: no test reaches the
//! internet.

mod anthropic;
pub mod caller;
mod calls;
pub mod gate;
pub mod ledger;
mod openai;
pub mod provider;
pub mod router;
pub(crate) mod simulator;
mod sse;
mod wire;

use serde::{Deserialize, Serialize};

use crate::error::Source;

pub use caller::Caller;
pub use router::AiRouter;
pub use wire::WireError;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant`, or `tool` (a tool's result).
    pub role: String,
    /// The text.
    pub content: String,
    /// The tools an assistant message called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message of `role` with `content`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message { role: role.into(), content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::new("user", content)
    }

    /// The assistant's turn that called `calls` (with its text, if any).
    pub fn assistant_calls(text: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Message { tool_calls: calls, ..Message::new("assistant", text) }
    }

    /// The result of the tool call `id`.
    pub fn tool_result(id: impl Into<String>, content: impl Into<String>) -> Self {
        Message { tool_call_id: Some(id.into()), ..Message::new("tool", content) }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The JSON schema of its input (an object).
    pub parameters: serde_json::Value,
}

/// A call of a tool, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id of the call; the result names it.
    pub id: String,
    /// The tool.
    pub name: String,
    /// Its input: a JSON object, as text.
    pub arguments: String,
}

/// A request, as the CLI, plugins and `isaac ai batch` lines give it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiRequest {
    /// The conversation.
    pub messages: Vec<Message>,
    /// The provider; default: the configured default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model; default: the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The most output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Tools the model may call instead of answering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDef>,
}

impl AiRequest {
    /// A request of one user message.
    pub fn prompt(text: impl Into<String>) -> Self {
        AiRequest { messages: vec![Message::user(text)], ..AiRequest::default() }
    }
}

/// Token counts of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiResponse {
    /// The text.
    pub text: String,
    /// The provider that answered.
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// Whether it came from the response cache.
    pub cached: bool,
    /// Token counts.
    pub usage: Usage,
    /// Wall time of the request, in milliseconds.
    pub latency_ms: f64,
    /// What it cost, in dollars (for a cached answer: what it saved).
    pub cost_usd: f64,
    /// The tools the model called (when the request offered tools): run
    /// them and send their results to get the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}

/// Why a query produced no answer. Each names the provider where there is
/// one, and what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AiError {
    /// No provider is configured.
    #[error("no AI provider is configured: add an [ai.providers.NAME] table to config.toml (see docs/ai.md)")]
    NoProvider,
    /// The request named a provider that is not configured.
    #[error("no AI provider named `{name}` (configured: {known})")]
    UnknownProvider {
        /// What was asked for.
        name: String,
        /// What there is.
        known: String,
    },
    /// Several providers and no default.
    #[error("several AI providers are configured ({known}): name one with --provider, or set [ai] default_provider")]
    NoDefault {
        /// What there is.
        known: String,
    },
    /// The key variable is not set.
    #[error(
        "provider `{provider}` needs its API key in the environment variable {var} (config: ai.providers.{provider}.api_key_env)"
    )]
    MissingKey {
        /// The provider.
        provider: String,
        /// The variable.
        var: String,
    },
    /// The provider answered with an error status.
    #[error("provider `{provider}` answered HTTP {status}: {message}")]
    Status {
        /// The provider.
        provider: String,
        /// The status.
        status: u16,
        /// Its body, or what it means.
        message: String,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u64>,
    },
    /// No answer within the timeout.
    #[error("provider `{provider}` did not answer within {timeout_ms} ms (raise ai.providers.{provider}.timeout_ms)")]
    Timeout {
        /// The provider.
        provider: String,
        /// The timeout.
        timeout_ms: u64,
    },
    /// The connection failed.
    #[error("cannot reach provider `{provider}` at {url}")]
    Connect {
        /// The provider.
        provider: String,
        /// Where.
        url: String,
        /// What failed.
        #[source]
        source: Source,
    },
    /// The answer could not be read.
    #[error("provider `{provider}` sent an answer isaac cannot read")]
    BadResponse {
        /// The provider.
        provider: String,
        /// What is wrong with it.
        #[source]
        source: WireError,
    },
    /// The daily budget would be passed.
    #[error(
        "the daily AI budget of ${budget:.2} would be passed (${spent:.4} spent today, this request may cost up to ${estimate:.4}); raise [ai] daily_budget_usd or wait until tomorrow (UTC)"
    )]
    Budget {
        /// The budget.
        budget: f64,
        /// Spent today.
        spent: f64,
        /// The request's estimated cost.
        estimate: f64,
    },
    /// A plugin named a model its provider's config does not list.
    #[error(
        "model `{model}` is not listed for provider `{provider}`: a plugin may name only the provider's model and those in its `models = [...]` (with their prices)"
    )]
    ModelNotAllowed {
        /// The provider.
        provider: String,
        /// The model named.
        model: String,
    },
    /// A plugin call's own budget (requests or tokens) would be passed.
    #[error("{0}")]
    CallBudget(String),
    /// Every provider of a fallback failed.
    #[error("every provider failed: {}", .0.iter().map(|(p, e)| format!("[{p}] {}", crate::error::one_line(e))).collect::<Vec<_>>().join("; "))]
    AllFailed(Vec<(String, AiError)>),
    /// The state (cache, statistics) failed.
    #[error(transparent)]
    State(Source),
    /// The HTTP client could not be built.
    #[error("cannot create the HTTP client")]
    Client(#[source] Source),
}

impl AiError {
    /// Whether trying again may help: 429, 5xx, connection errors.
    pub fn retryable(&self) -> bool {
        match self {
            AiError::Status { status, .. } => *status == 429 || *status >= 500,
            AiError::Connect { .. } => true,
            _ => false,
        }
    }
}
