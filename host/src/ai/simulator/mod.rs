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
//!
//! This module is the server every format shares: listening, the key check,
//! the scripted delays, failures and faults, the counters. `script` decides
//! what is answered; each wire format is one module behind
//! [`Format`](format::Format) (`openai`, `anthropic`): where it is asked,
//! how a request carries its key, tools and tool results, and how a whole
//! answer, a stream and a model list are written. A third format is one more
//! module and one line in [`FORMATS`].

mod anthropic;
mod format;
mod openai;
mod script;

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
use serde_json::json;

use format::{Answer, Format};

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
    /// Time between the events of a streamed answer, as a model writing
    /// at that pace.
    pub piece_delay: Duration,
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
            piece_delay: Duration::ZERO,
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
    /// When the first event of the latest streamed answer was sent.
    pub first_piece_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Events of streamed answers sent.
    pub pieces: AtomicU64,
}

/// A streamed answer being sent: one whose client goes away before its
/// last event counts as cancelled.
struct Sending {
    events: std::vec::IntoIter<String>,
    sent: usize,
    stats: Arc<SimStats>,
}

impl Drop for Sending {
    fn drop(&mut self) {
        if self.events.len() > 0 {
            self.stats.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
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
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
        // `isaac bench` opens 500 connections at once: with the backlog
        // `TcpListener::bind` gives (std's 128) the kernel drops the SYNs
        // past it, and each comes back a second later (500 queries at 2 s
        // took 3.07 s, with the drops counted in `nstat`'s ListenOverflows).
        let listener = socket.listen(1024)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(SimStats::default());
        let sim = Arc::new(Sim { config, stats: stats.clone() });
        let mut app = Router::new();
        for format in FORMATS {
            for path in format.paths() {
                let handler = move |State(sim), headers, body| answer(sim, format, headers, body);
                app = app.route(path, post(handler));
            }
        }
        let app = app.route("/v1/models", get(models)).route("/models", get(models)).with_state(sim);
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

/// The formats spoken. A models request gets the list of the first that
/// claims it; OpenAI's, last, claims any.
const FORMATS: [&dyn Format; 2] = [&anthropic::Anthropic, &openai::OpenAi];

/// The models the simulator answers as: any name works, these are listed.
const MODELS: [&str; 2] = ["sim-1", "sim-1-mini"];

/// `GET /v1/models`, in the format the request's headers ask for.
async fn models(headers: HeaderMap) -> Response {
    let format = FORMATS.into_iter().find(|f| f.lists_models(&headers)).unwrap_or(&openai::OpenAi);
    axum::Json(format.models(&MODELS)).into_response()
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

/// A `POST` in `format`: refused over capacity or without the key, then
/// after the delay failed as scripted, or answered (whole or streamed) with
/// the configured fault.
async fn answer(sim: Arc<Sim>, format: &'static dyn Format, headers: HeaderMap, body: Bytes) -> Response {
    let guard = InFlight::new(&sim.stats);
    let n = sim.stats.requests.load(Ordering::SeqCst);
    let c = &sim.config;
    if c.capacity.is_some_and(|cap| guard.now > cap) {
        sim.stats.throttled.fetch_add(1, Ordering::SeqCst);
        guard.finish();
        return error(429, "too many requests at once", c.retry_after);
    }
    if let Some(key) = &c.api_key
        && format.api_key(&headers) != Some(key.as_str())
    {
        guard.finish();
        return error(401, "invalid API key", None);
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
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
    let answer = Answer {
        model: request["model"].as_str().unwrap_or("sim-1"),
        reply: script::reply(format, &request, n),
        input: script::input_tokens(&request),
        // Like a real provider, it stops at the request's `max_tokens`.
        output: request["max_tokens"].as_u64().map_or(c.output_tokens, |max| max.min(c.output_tokens)),
    };
    let response = match request["stream"].as_bool().unwrap_or(false) {
        true => streamed(format.events(&answer), c.fault, c.piece_delay, sim.stats.clone()),
        false => whole(&format.whole(&answer), c.fault),
    };
    guard.finish();
    response
}

/// A whole answer's `body`, spoilt by `fault`.
fn whole(body: &serde_json::Value, fault: Fault) -> Response {
    let mut bytes = body.to_string().into_bytes();
    match fault {
        Fault::Malformed => bytes = b"{this is not json".to_vec(),
        Fault::Truncated => bytes.truncate(bytes.len() / 2),
        Fault::None | Fault::CutStream => {}
    }
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A stream of `events`, `delay` apart, cut half way by
/// [`Fault::CutStream`]; the time the first is sent is noted in `stats`.
fn streamed(mut events: Vec<String>, fault: Fault, delay: Duration, stats: Arc<SimStats>) -> Response {
    if fault == Fault::CutStream {
        events.truncate(events.len() / 2);
    }
    let sending = Sending { events: events.into_iter(), sent: 0, stats };
    let chunks = futures::stream::unfold(sending, move |mut sending| async move {
        if sending.sent > 0 && !delay.is_zero() && sending.events.len() > 0 {
            tokio::time::sleep(delay).await;
        }
        let event = sending.events.next()?;
        if sending.sent == 0 {
            *sending.stats.first_piece_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
        }
        sending.sent += 1;
        sending.stats.pieces.fetch_add(1, Ordering::SeqCst);
        Some((Ok::<_, Infallible>(Bytes::from(event)), sending))
    });
    ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(chunks)).into_response()
}
