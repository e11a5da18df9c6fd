//! [`Format`]: what the simulator needs of one wire format, and the
//! [`Answer`] it encodes.

use axum::http::HeaderMap;
use serde_json::{Value, json};

/// One wire format the simulator speaks: how a request carries its key, its
/// tools and their results, and how an answer, a stream and a model list
/// are written. Everything else (listening, delays, failures, faults,
/// counters, what is answered) is the shared server's.
pub(super) trait Format: Send + Sync {
    /// The paths it answers `POST` requests at.
    fn paths(&self) -> &'static [&'static str];
    /// The API key a request sent, as this format sends it.
    fn api_key<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str>;
    /// The names of the tools a request offers.
    fn tools<'r>(&self, request: &'r Value) -> Vec<&'r str>;
    /// The results of tool calls `message` carries (none for a prompt).
    fn tool_results(&self, message: &Value) -> Vec<String>;
    /// How the ids of its tool calls begin (`call`, `toolu`).
    fn call_prefix(&self) -> &'static str;
    /// A whole answer's body.
    fn whole(&self, answer: &Answer) -> Value;
    /// A streamed answer, event by event, each framed as a server-sent
    /// event ([`data`], [`event`]).
    fn events(&self, answer: &Answer) -> Vec<String>;
    /// Whether a `GET /v1/models` with `headers` asks for this format's list.
    fn lists_models(&self, headers: &HeaderMap) -> bool;
    /// The list of `models`, as this format's SDK reads it.
    fn models(&self, models: &[&str]) -> Value;
}

/// What one request is answered, for a format to write.
pub(super) struct Answer<'a> {
    /// The model the request named.
    pub model: &'a str,
    /// Text or a tool call.
    pub reply: Reply,
    /// Input tokens counted.
    pub input: u64,
    /// Output tokens reported.
    pub output: u64,
}

/// What the simulator answers: text, or a call of one of the tools offered.
pub(super) enum Reply {
    /// Text.
    Text(String),
    /// A tool call.
    Call(SimCall),
}

/// A call of an offered tool.
pub(super) struct SimCall {
    /// Its id (the format's prefix, the request's number, the step).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// `{"args": [...]}` as text.
    pub arguments: String,
}

impl SimCall {
    /// The arguments as JSON.
    pub fn input(&self) -> Value {
        serde_json::from_str(&self.arguments).unwrap_or_else(|_| json!({}))
    }
}

impl Reply {
    /// The pieces a stream sends: text in words; a call's arguments in
    /// pieces of a few bytes, as providers send them.
    pub fn pieces(&self) -> Vec<String> {
        match self {
            Reply::Text(text) => text.split_inclusive(' ').map(str::to_owned).collect(),
            Reply::Call(call) => {
                call.arguments.chars().collect::<Vec<_>>().chunks(7).map(|c| c.iter().collect()).collect()
            }
        }
    }

    /// The call, if it is one.
    pub fn call(&self) -> Option<&SimCall> {
        match self {
            Reply::Call(call) => Some(call),
            Reply::Text(_) => None,
        }
    }
}

/// `v` as an unnamed server-sent event.
pub(super) fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

/// `v` as the server-sent event `name`.
pub(super) fn event(name: &str, v: &Value) -> String {
    format!("event: {name}\ndata: {v}\n\n")
}
