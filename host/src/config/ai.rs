//! `[ai]` and `[ai.providers.NAME]`: the AI providers and the router.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions (OpenAI, xAI Grok, Ollama, vLLM,
    /// llama.cpp server, OpenRouter).
    Openai,
    /// Anthropic Messages.
    Anthropic,
}

/// `[ai.providers.NAME]`: one AI provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The wire format.
    pub kind: ProviderKind,
    /// The API root: `https://api.openai.com/v1` (the client adds
    /// `/chat/completions`), or for Anthropic the host root
    /// (`https://api.anthropic.com`; the client adds `/v1/messages`).
    pub base_url: String,
    /// The environment variable that holds the API key; none for local
    /// servers such as Ollama.
    pub api_key_env: Option<String>,
    /// The model used when a request names none.
    pub model: String,
    /// Dollars per million input tokens.
    #[serde(default)]
    pub price_input_per_mtok: f64,
    /// Dollars per million output tokens.
    #[serde(default)]
    pub price_output_per_mtok: f64,
    /// Per-request timeout in milliseconds.
    #[serde(default = "default_request_timeout_ms")]
    pub timeout_ms: u64,
    /// `max_tokens` sent when a request sets none (Anthropic requires one).
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
    /// The most requests on the wire to this provider at once. A 429 lowers
    /// it for a while (halving), answers raise it back.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Other models a request may name, each with its prices. A plugin may
    /// name only `model` and these; the user may name any (priced as `model`).
    #[serde(default)]
    pub models: Vec<ModelConfig>,
}

impl ProviderConfig {
    /// A provider of `kind` at `base_url` answering with `model`, free, with
    /// the default timeout, `max_tokens` and concurrency.
    pub fn new(kind: ProviderKind, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ProviderConfig {
            kind,
            base_url: base_url.into(),
            api_key_env: None,
            model: model.into(),
            price_input_per_mtok: 0.0,
            price_output_per_mtok: 0.0,
            timeout_ms: default_request_timeout_ms(),
            default_max_tokens: default_max_tokens(),
            max_concurrency: default_max_concurrency(),
            models: Vec::new(),
        }
    }
}

/// One entry of `[ai.providers.NAME] models = [...]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model's name, as the provider spells it.
    pub name: String,
    /// Dollars per million input tokens.
    pub price_input_per_mtok: f64,
    /// Dollars per million output tokens.
    pub price_output_per_mtok: f64,
}

fn default_request_timeout_ms() -> u64 {
    60_000
}

fn default_max_tokens() -> u32 {
    1024
}

fn default_max_concurrency() -> usize {
    64
}

/// `[ai]`: providers and the router's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    /// The provider used when a request names none; default: the only one.
    pub default_provider: Option<String>,
    /// The most requests of one batch in flight at once, across providers;
    /// default: no cap beyond each provider's `max_concurrency`.
    pub concurrency: Option<usize>,
    /// Retries after a 429, a 5xx or a connection error.
    pub max_retries: u32,
    /// The first retry's delay in milliseconds; it doubles, with jitter.
    pub retry_base_ms: u64,
    /// How long a cached answer is reused, in seconds (0: no response cache).
    pub cache_ttl_secs: u64,
    /// The most spent per UTC day, in dollars, across the CLI and every plugin.
    pub daily_budget_usd: Option<f64>,
    /// Whether every plugin and the user share one response cache (a plugin
    /// then sees answers to other plugins' prompts); default: each its own.
    pub shared_response_cache: bool,
    /// The providers, by name.
    pub providers: BTreeMap<String, ProviderConfig>,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            default_provider: None,
            concurrency: None,
            max_retries: 2,
            retry_base_ms: 200,
            cache_ttl_secs: 86_400,
            daily_budget_usd: None,
            shared_response_cache: false,
            providers: BTreeMap::new(),
        }
    }
}
