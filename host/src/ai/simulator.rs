//! A simulated AI provider: a real HTTP server on loopback that speaks both
//! wire formats (OpenAI-compatible `POST /v1/chat/completions` and Anthropic
//! `POST /v1/messages`, whole or streamed as server-sent events, in the
//! shapes the official SDKs parse; `GET /v1/models` in either), with a set
//! latency, jitter, error rate, token counts and faults. `isaac ai simulate`
//! runs one; tests and benchmarks start their own. Nothing leaves the
//! machine.
//!
//! It counts what it sees ([`SimStats`]): requests, answers completed, and
//! requests whose client went away before the answer (a losing fallback
//! request, cancelled by the router).

use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// A deliberate fault in the answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fault {
    /// Answers are well formed.
    #[default]
    None,
    /// The body is not JSON.
    Malformed,
    /// The JSON body stops half way.
    Truncated,
    /// A stream stops half way, without its final event.
    CutStream,
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Time before each answer.
    pub latency: Duration,
    /// Up to this much more, at random.
    pub jitter: Duration,
    /// The share of requests (0–1) answered with `error_status`.
    pub error_rate: f64,
    /// The status of simulated failures.
    pub error_status: u16,
    /// `Retry-After` seconds sent with failures.
    pub retry_after: Option<u64>,
    /// The first this-many requests fail (deterministic failures).
    pub fail_first: u64,
    /// Output tokens of every answer.
    pub output_tokens: u64,
    /// A fault in every answer.
    pub fault: Fault,
    /// The API key clients must send; `None` accepts any.
    pub api_key: Option<String>,
    /// The most requests answered at once: one more is refused at once with
    /// `429` (and `retry_after`), as a provider's concurrency limit does.
    pub capacity: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            error_status: 500,
            retry_after: None,
            fail_first: 0,
            output_tokens: 20,
            fault: Fault::None,
            api_key: None,
            capacity: None,
        }
    }
}

/// What the simulator has seen.
#[derive(Debug, Default)]
pub struct SimStats {
    /// Requests received.
    pub requests: AtomicU64,
    /// Answers sent in full.
    pub completed: AtomicU64,
    /// Requests whose client went away before the answer.
    pub cancelled: AtomicU64,
    /// Requests being answered now.
    pub in_flight: AtomicU64,
    /// The most requests answered at once.
    pub max_in_flight: AtomicU64,
    /// Requests refused with 429 for going over `capacity`.
    pub throttled: AtomicU64,
}

struct Sim {
    config: SimConfig,
    stats: Arc<SimStats>,
}

/// A running simulator; stops when dropped.
pub struct Simulator {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it has seen.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub stats: Arc<SimStats>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Simulator {
    /// Listen on `127.0.0.1:port` (0: any free port) and serve on the
    /// current tokio runtime.
    pub async fn start(config: SimConfig, port: u16) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(SimStats::default());
        let sim = Arc::new(Sim { config, stats: stats.clone() });
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .route("/v1/models", get(models))
            .route("/models", get(models))
            .with_state(sim);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::warn!("the simulated provider stopped: {e}");
            }
        });
        Ok(Simulator { addr, stats, _shutdown: tx })
    }

    /// The `base_url` of an OpenAI-compatible provider pointing here.
    pub fn openai_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The `base_url` of an Anthropic provider pointing here.
    pub fn anthropic_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Counts a request in flight; a request dropped before it finished was
/// cancelled by its client.
struct InFlight {
    stats: Arc<SimStats>,
    /// Requests in flight, this one included, when it arrived.
    now: u64,
    done: bool,
}

impl InFlight {
    fn new(stats: &Arc<SimStats>) -> Self {
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight { stats: stats.clone(), now, done: false }
    }

    fn finish(mut self) {
        self.done = true;
        self.stats.completed.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.done {
            self.stats.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    OpenAi,
    Anthropic,
}

async fn openai(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(sim, Format::OpenAi, headers, body).await
}

async fn anthropic(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(sim, Format::Anthropic, headers, body).await
}

/// `created` of every answer and model (a fixed time: answers are simulated).
const CREATED: u64 = 1_767_225_600;

/// The models the simulator answers as: any name works, these are listed.
const MODELS: [&str; 2] = ["sim-1", "sim-1-mini"];

/// `GET /v1/models`: OpenAI's list, or Anthropic's when the request carries
/// `anthropic-version` (both SDKs ask it at the same path).
async fn models(headers: HeaderMap) -> Response {
    let body = if headers.contains_key("anthropic-version") {
        let data: Vec<Value> = MODELS
            .iter()
            .map(|id| json!({ "type": "model", "id": id, "display_name": id, "created_at": "2026-01-01T00:00:00Z" }))
            .collect();
        json!({ "data": data, "has_more": false, "first_id": MODELS[0], "last_id": MODELS[MODELS.len() - 1] })
    } else {
        let data: Vec<Value> = MODELS
            .iter()
            .map(|id| json!({ "id": id, "object": "model", "created": CREATED, "owned_by": "isaac-simulator" }))
            .collect();
        json!({ "object": "list", "data": data })
    };
    axum::Json(body).into_response()
}

fn random(seed: u64) -> f64 {
    (RandomState::new().hash_one(seed) % 1_000_000) as f64 / 1_000_000.0
}

fn error(status: u16, message: &str, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({ "error": { "message": message, "type": "simulated" } });
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    response
}

async fn answer(sim: Arc<Sim>, format: Format, headers: HeaderMap, body: Bytes) -> Response {
    let guard = InFlight::new(&sim.stats);
    let n = sim.stats.requests.load(Ordering::SeqCst);
    let c = &sim.config;
    if c.capacity.is_some_and(|cap| guard.now > cap) {
        sim.stats.throttled.fetch_add(1, Ordering::SeqCst);
        guard.finish();
        return error(429, "too many requests at once", c.retry_after);
    }
    if let Some(key) = &c.api_key {
        let sent = match format {
            Format::OpenAi => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim_start_matches("Bearer ").to_owned()),
            Format::Anthropic => headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned),
        };
        if sent.as_deref() != Some(key) {
            guard.finish();
            return error(401, "invalid API key", None);
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        guard.finish();
        return error(400, "the body is not JSON", None);
    };
    let delay = c.latency + c.jitter.mul_f64(random(n.wrapping_mul(31)));
    // A zero sleep still waits for the timer's next millisecond tick.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if n <= c.fail_first || random(n) < c.error_rate {
        guard.finish();
        return error(c.error_status, "simulated failure", c.retry_after);
    }
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let input_tokens: u64 = messages.iter().map(|m| words(&m["content"]).len() as u64).sum::<u64>().max(1);
    let reply = reply(format, &request, n);
    let model = request["model"].as_str().unwrap_or("sim-1").to_owned();
    let stream = request["stream"].as_bool().unwrap_or(false);
    // Like a real provider, it stops at the request's `max_tokens`.
    let output_tokens = request["max_tokens"].as_u64().map_or(c.output_tokens, |max| max.min(c.output_tokens));
    let usage = (input_tokens, output_tokens);
    let response = if stream {
        streamed(format, &model, &reply, usage, c.fault)
    } else {
        whole(format, &model, &reply, usage, c.fault)
    };
    guard.finish();
    response
}

/// What the simulator answers: text, or a call of one of the tools offered.
enum Reply {
    Text(String),
    Call(SimCall),
}

struct SimCall {
    id: String,
    name: String,
    /// `{"args": [...]}` as text.
    arguments: String,
}

impl SimCall {
    fn input(&self) -> Value {
        serde_json::from_str(&self.arguments).unwrap_or_else(|_| json!({}))
    }
}

/// The words of a message's content: a string, or Anthropic's blocks (text
/// and tool results).
fn words(content: &Value) -> Vec<String> {
    text_of(content).split_whitespace().map(str::to_owned).collect()
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .map(|b| match b["type"].as_str() {
                Some("text") => b["text"].as_str().unwrap_or("").to_owned(),
                Some("tool_result") => text_of(&b["content"]),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The results of tool calls in `message`, if it carries any.
fn tool_results(format: Format, message: &Value) -> Vec<String> {
    match format {
        Format::OpenAi if message["role"] == "tool" => vec![text_of(&message["content"])],
        Format::OpenAi => Vec::new(),
        Format::Anthropic => message["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "tool_result")
            .map(|b| text_of(&b["content"]))
            .collect(),
    }
}

/// The answer to `request`. Without tools: "Simulated answer to: PROMPT".
/// With tools, the last prompt is read as a plan: each word that names an
/// offered tool is a call, its arguments the words up to the next tool's
/// name. The calls are made one per answer, in order; once each has its
/// result, the answer quotes the results.
fn reply(format: Format, request: &Value, n: u64) -> Reply {
    let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let is_prompt = |m: &Value| m["role"] == "user" && tool_results(format, m).is_empty();
    let at = messages.iter().rposition(is_prompt);
    let prompt = at.map(|i| text_of(&messages[i]["content"])).unwrap_or_default();
    let tools: Vec<&str> = request["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| match format {
            Format::OpenAi => t["function"]["name"].as_str(),
            Format::Anthropic => t["name"].as_str(),
        })
        .collect();
    let mut plan: Vec<(&str, Vec<&str>)> = Vec::new();
    for word in prompt.split_whitespace() {
        match (tools.contains(&word), plan.last_mut()) {
            (true, _) => plan.push((word, Vec::new())),
            (false, Some((_, args))) => args.push(word),
            (false, None) => {}
        }
    }
    if plan.is_empty() {
        return Reply::Text(format!("Simulated answer to: {prompt}"));
    }
    let after = at.map_or(messages, |i| &messages[i + 1..]);
    let results: Vec<String> = after.iter().flat_map(|m| tool_results(format, m)).collect();
    match plan.get(results.len()) {
        Some((name, args)) => {
            let prefix = if format == Format::OpenAi { "call" } else { "toolu" };
            Reply::Call(SimCall {
                id: format!("{prefix}_sim_{n}_{}", results.len()),
                name: (*name).to_owned(),
                arguments: json!({ "args": args }).to_string(),
            })
        }
        None => {
            let quoted: Vec<String> = results.iter().map(|r| format!("\"{}\"", r.trim())).collect();
            Reply::Text(format!("The tools answered: {}.", quoted.join(" then ")))
        }
    }
}

fn whole(format: Format, model: &str, reply: &Reply, (input, output): (u64, u64), fault: Fault) -> Response {
    let body = match format {
        Format::OpenAi => {
            let (message, finish) = match reply {
                Reply::Text(text) => (json!({ "role": "assistant", "content": text, "refusal": null }), "stop"),
                Reply::Call(call) => (
                    json!({ "role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                        "id": call.id, "type": "function",
                        "function": { "name": call.name, "arguments": call.arguments } }] }),
                    "tool_calls",
                ),
            };
            json!({
                "id": "chatcmpl-sim", "object": "chat.completion", "created": CREATED, "model": model,
                "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
                "usage": { "prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output },
            })
        }
        Format::Anthropic => {
            let (block, stop) = match reply {
                Reply::Text(text) => (json!({ "type": "text", "text": text }), "end_turn"),
                Reply::Call(call) => {
                    (json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": call.input() }), "tool_use")
                }
            };
            json!({
                "id": "msg_sim", "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": stop, "stop_sequence": null,
                "usage": { "input_tokens": input, "output_tokens": output },
            })
        }
    };
    let mut bytes = body.to_string().into_bytes();
    match fault {
        Fault::Malformed => bytes = b"{this is not json".to_vec(),
        Fault::Truncated => bytes.truncate(bytes.len() / 2),
        Fault::None | Fault::CutStream => {}
    }
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn streamed(format: Format, model: &str, reply: &Reply, (input, output): (u64, u64), fault: Fault) -> Response {
    let text = match reply {
        Reply::Text(text) => text.as_str(),
        Reply::Call(call) => call.arguments.as_str(),
    };
    // Text in words; a call's arguments in pieces of a few bytes, as providers send them.
    let pieces: Vec<String> = match reply {
        Reply::Text(_) => text.split_inclusive(' ').map(str::to_owned).collect(),
        Reply::Call(_) => text.chars().collect::<Vec<_>>().chunks(7).map(|c| c.iter().collect()).collect(),
    };
    let call = match reply {
        Reply::Call(call) => Some(call),
        Reply::Text(_) => None,
    };
    let mut events: Vec<String> = Vec::new();
    let data = |v: Value| format!("data: {v}\n\n");
    let event = |name: &str, v: Value| format!("event: {name}\ndata: {v}\n\n");
    match format {
        Format::OpenAi => {
            let chunk = |choices: Value| {
                json!({ "id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": CREATED,
                        "model": model, "system_fingerprint": "fp_sim", "choices": choices })
            };
            let choice = |delta: Value, finish: Value| json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]);
            let finish = match call {
                None => {
                    events.push(data(chunk(choice(json!({ "role": "assistant", "content": "" }), Value::Null))));
                    for piece in &pieces {
                        events.push(data(chunk(choice(json!({ "content": piece }), Value::Null))));
                    }
                    "stop"
                }
                Some(call) => {
                    let start = json!({ "role": "assistant", "content": null, "tool_calls": [{ "index": 0,
                        "id": call.id, "type": "function", "function": { "name": call.name, "arguments": "" } }] });
                    events.push(data(chunk(choice(start, Value::Null))));
                    for piece in &pieces {
                        let delta = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] });
                        events.push(data(chunk(choice(delta, Value::Null))));
                    }
                    "tool_calls"
                }
            };
            events.push(data(chunk(choice(json!({}), json!(finish)))));
            let mut usage = chunk(json!([]));
            usage["usage"] =
                json!({ "prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output });
            events.push(data(usage));
            events.push("data: [DONE]\n\n".to_owned());
        }
        Format::Anthropic => {
            events.push(event(
                "message_start",
                json!({ "type": "message_start", "message": {
                    "id": "msg_sim", "type": "message", "role": "assistant", "content": [], "model": model,
                    "stop_reason": null, "stop_sequence": null,
                    "usage": { "input_tokens": input, "output_tokens": 1 } } }),
            ));
            let (block, stop) = match call {
                None => (json!({ "type": "text", "text": "" }), "end_turn"),
                Some(call) => {
                    (json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": {} }), "tool_use")
                }
            };
            events.push(event(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0, "content_block": block }),
            ));
            events.push(event("ping", json!({ "type": "ping" })));
            for piece in &pieces {
                let delta = match call {
                    None => json!({ "type": "text_delta", "text": piece }),
                    Some(_) => json!({ "type": "input_json_delta", "partial_json": piece }),
                };
                events.push(event(
                    "content_block_delta",
                    json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
                ));
            }
            events.push(event("content_block_stop", json!({ "type": "content_block_stop", "index": 0 })));
            events.push(event(
                "message_delta",
                json!({ "type": "message_delta", "delta": { "stop_reason": stop, "stop_sequence": null },
                        "usage": { "output_tokens": output } }),
            ));
            events.push(event("message_stop", json!({ "type": "message_stop" })));
        }
    }
    if fault == Fault::CutStream {
        events.truncate(events.len() / 2);
    }
    let chunks = futures::stream::iter(events.into_iter().map(|e| Ok::<_, Infallible>(Bytes::from(e))));
    ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(chunks)).into_response()
}
