//! One configured provider: builds its wire format's request, sends it,
//! reads the answer (whole or streamed) and maps every failure to an
//! [`AiError`] that names the provider.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::calls::CallParts;
use super::gate::Gate;
use super::{AiError, AiRequest, AiResponse, ToolCall, Usage, WireError, anthropic, openai, sse};
use crate::config::{ProviderConfig, ProviderKind};
use crate::error::Source;
use crate::settings::Secret;
use crate::sources::net::ReadError;

/// A provider from `[ai.providers.NAME]`.
#[derive(Debug)]
pub struct Provider {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub config: ProviderConfig,
    /// Its in-flight limit.
    pub gate: Gate,
}

/// An answer as read: text, tool calls, the model that answered, usage.
type Parts = (String, Vec<ToolCall>, Option<String>, Usage);

/// The most of an error body quoted in a message.
const ERROR_BODY_LIMIT: usize = 300;
/// The most bytes read of an error answer (of which the first
/// [`ERROR_BODY_LIMIT`] characters are shown).
const ERROR_BODY_READ: usize = 64 << 10;
/// The most bytes read of one answer, whole or streamed: far more than any
/// `max_tokens` yields, so only a broken or hostile endpoint meets it.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;
/// The most bytes of one server-sent event still waiting for its end.
const MAX_EVENT_BYTES: usize = 1 << 20;

impl Provider {
    /// The provider `name` configured by `config`.
    pub fn new(name: &str, config: &ProviderConfig) -> Self {
        Provider { name: name.to_owned(), config: config.clone(), gate: Gate::new(config.max_concurrency) }
    }

    /// The prices of `model` (dollars per million input and output tokens):
    /// the provider's for its default model, a listed model's own; `None`
    /// for a model the config does not list.
    pub fn prices(&self, model: &str) -> Option<(f64, f64)> {
        if model == self.config.model {
            return Some((self.config.price_input_per_mtok, self.config.price_output_per_mtok));
        }
        let listed = self.config.models.iter().find(|m| m.name == model)?;
        Some((listed.price_input_per_mtok, listed.price_output_per_mtok))
    }

    /// What `usage` costs on `model`, in dollars (an unlisted model, which
    /// only the user may name, at the default model's prices).
    pub fn cost(&self, model: &str, usage: Usage) -> f64 {
        let (input, output) =
            self.prices(model).unwrap_or((self.config.price_input_per_mtok, self.config.price_output_per_mtok));
        (usage.input_tokens as f64 * input + usage.output_tokens as f64 * output) / 1e6
    }

    /// The model a request runs on.
    pub fn model<'a>(&'a self, req: &'a AiRequest) -> &'a str {
        req.model.as_deref().unwrap_or(&self.config.model)
    }

    fn key(&self) -> Result<Option<String>, AiError> {
        match &self.config.api_key_env {
            None => Ok(None),
            Some(var) => match Secret::named(var).read() {
                Some(key) => Ok(Some(key)),
                None => Err(AiError::MissingKey { provider: self.name.clone(), var: var.clone() }),
            },
        }
    }

    fn url(&self) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        match self.config.kind {
            ProviderKind::Openai => format!("{base}/chat/completions"),
            ProviderKind::Anthropic => format!("{base}/v1/messages"),
        }
    }

    fn request(
        &self,
        client: &reqwest::Client,
        req: &AiRequest,
        stream: bool,
    ) -> Result<reqwest::RequestBuilder, AiError> {
        let key = self.key()?;
        let model = self.model(req);
        let timeout = Duration::from_millis(self.config.timeout_ms);
        let builder = client.post(self.url()).timeout(timeout);
        Ok(match self.config.kind {
            ProviderKind::Openai => {
                let body = openai::body(model, req, req.max_tokens, stream);
                let builder = builder.json(&body);
                match key {
                    Some(key) => builder.bearer_auth(key),
                    None => builder,
                }
            }
            ProviderKind::Anthropic => {
                let max = req.max_tokens.unwrap_or(self.config.default_max_tokens);
                let body = anthropic::body(model, req, max, stream);
                let builder = builder.json(&body).header("anthropic-version", anthropic::VERSION);
                match key {
                    Some(key) => builder.header("x-api-key", key),
                    None => builder,
                }
            }
        })
    }

    fn send_error(&self, e: reqwest::Error) -> AiError {
        if e.is_timeout() {
            AiError::Timeout { provider: self.name.clone(), timeout_ms: self.config.timeout_ms }
        } else if e.is_body() || e.is_decode() {
            self.bad(WireError::CutOff(Source::new(e)))
        } else {
            AiError::Connect { provider: self.name.clone(), url: self.url(), source: Source::new(e) }
        }
    }

    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, AiError> {
        let response = builder.send().await.map_err(|e| self.send_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = crate::sources::net::read_capped(response, ERROR_BODY_READ).await.unwrap_or_default();
        let mut message: String = String::from_utf8_lossy(&body).chars().take(ERROR_BODY_LIMIT).collect();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            let var = self.config.api_key_env.as_deref().unwrap_or("(none configured)");
            message = format!("the API key was refused; check {var} ({message})");
        }
        Err(AiError::Status { provider: self.name.clone(), status: status.as_u16(), message, retry_after })
    }

    fn bad(&self, source: WireError) -> AiError {
        AiError::BadResponse { provider: self.name.clone(), source }
    }

    fn answer(&self, req: &AiRequest, parts: Parts, start: Instant) -> AiResponse {
        let (text, tool_calls, model, usage) = parts;
        AiResponse {
            text,
            provider: self.name.clone(),
            model: model.unwrap_or_else(|| self.model(req).to_owned()),
            cached: false,
            usage,
            latency_ms: start.elapsed().as_secs_f64() * 1e3,
            cost_usd: self.cost(self.model(req), usage),
            tool_calls,
        }
    }

    /// Send `req` and read the whole answer.
    pub async fn complete(&self, client: &reqwest::Client, req: &AiRequest) -> Result<AiResponse, AiError> {
        let start = Instant::now();
        let response = self.send(self.request(client, req, false)?).await?;
        let bytes = crate::sources::net::read_capped(response, MAX_ANSWER_BYTES).await.map_err(|e| match e {
            ReadError::Transfer(e) => self.send_error(e),
            ReadError::TooLarge(cap) => self.bad(WireError::TooLarge(cap)),
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| self.bad(WireError::Json(Source::new(e))))?;
        let parsed = match self.config.kind {
            ProviderKind::Openai => openai::parse(&value),
            ProviderKind::Anthropic => anthropic::parse(&value),
        };
        Ok(self.answer(req, parsed.map_err(|e| self.bad(e))?, start))
    }

    /// Send `req` as a stream, calling `on_text` with each piece of text as
    /// it arrives; return the whole answer with its usage.
    pub async fn stream(
        &self,
        client: &reqwest::Client,
        req: &AiRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<AiResponse, AiError> {
        let start = Instant::now();
        let response = self.send(self.request(client, req, true)?).await?;
        let caps = sse::Caps { answer: MAX_ANSWER_BYTES, event: MAX_EVENT_BYTES };
        let mut events = sse::Reader::new(response.bytes_stream(), caps);
        let (mut text, mut usage, mut done) = (String::new(), Usage::default(), false);
        let mut calls = CallParts::default();
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| match e {
                sse::StreamError::Transfer(e) => self.send_error(e),
                sse::StreamError::TooLarge => {
                    self.bad(WireError::StreamTooLarge { answer: caps.answer, event: caps.event })
                }
                sse::StreamError::Malformed(e) => self.bad(WireError::Stream(Source::new(e))),
            })?;
            match self.config.kind {
                ProviderKind::Openai => {
                    match openai::stream_event(&event.data, &mut calls).map_err(|e| self.bad(e))? {
                        Some((delta, u)) => {
                            on_text(&delta);
                            text.push_str(&delta);
                            usage = u.unwrap_or(usage);
                        }
                        None => done = true,
                    }
                }
                ProviderKind::Anthropic => {
                    let part = anthropic::stream_event(event.event.as_deref(), &event.data, &mut calls);
                    match part.map_err(|e| self.bad(e))? {
                        anthropic::StreamPart::Text(delta) => {
                            on_text(&delta);
                            text.push_str(&delta);
                        }
                        anthropic::StreamPart::Input(n) => usage.input_tokens = n,
                        anthropic::StreamPart::Output(n) => usage.output_tokens = n,
                        anthropic::StreamPart::Stop => done = true,
                        anthropic::StreamPart::Other => {}
                    }
                }
            }
        }
        if !done {
            return Err(self.bad(WireError::Unfinished));
        }
        Ok(self.answer(req, (text, calls.finish(), None, usage), start))
    }
}
