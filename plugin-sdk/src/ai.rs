//! AI queries through the host: its providers, its response cache, its
//! spending cap.
//!
//! The plugin's manifest must ask for a budget per call, e.g.
//! `ai = { max_requests = 5, max_tokens = 20000 }` under `[permissions]`;
//! otherwise every call returns [`AiError::Denied`]. The call blocks while
//! the host waits for the provider.
//!
//! ```no_run
//! use isaac_plugin_sdk::ai::{self, Request};
//!
//! # fn demo() -> Result<(), ai::AiError> {
//! let answer = ai::query(&Request::prompt("Name three prime numbers"))?;
//! let many = ai::batch(&[Request::prompt("one"), Request::prompt("two")]);
//! # Ok(()) }
//! ```
//!
//! A long answer can be streamed: [`query_stream`] returns an iterator over
//! pieces of its text as the model writes them, so a plugin can pass them
//! on to its stdout at once.
//!
//! ```no_run
//! use std::io::Write;
//! use isaac_plugin_sdk::ai::{self, Request};
//!
//! # fn demo() -> Result<(), ai::AiError> {
//! let mut out = std::io::stdout();
//! for piece in ai::query_stream(&Request::prompt("Tell me a story"))? {
//!     let _ = out.write_all(piece?.as_bytes()).and_then(|()| out.flush());
//! }
//! # Ok(()) }
//! ```

use crate::__bindings::isaac::plugin::ai as wit;
pub use wit::{AiError, Message, Request, Response, Summary, Usage};

impl Request {
    /// A request of one user message, with the host's defaults.
    pub fn prompt(text: &str) -> Self {
        Request {
            messages: vec![Message { role: "user".to_owned(), content: text.to_owned() }],
            model: None,
            max_tokens: None,
            temperature: None,
        }
    }
}

/// One query.
pub fn query(req: &Request) -> Result<Response, AiError> {
    wit::query(req)
}

/// One query, its answer streamed: pieces of text as the model writes them.
/// The budget is reserved when the request is sent and settled from the
/// usage the provider reports, as for [`query`]; dropping the [`Answer`]
/// before its end cancels the request.
pub fn query_stream(req: &Request) -> Result<Answer, AiError> {
    Ok(Answer { inner: wit::query_stream(req)?, done: false })
}

/// A streamed answer: an iterator over pieces of its text, each a
/// `Result` (a provider that fails midway ends it with an error). Once it
/// has ended, [`Answer::summary`] says who answered and the tokens used.
pub struct Answer {
    inner: wit::Answer,
    done: bool,
}

impl Answer {
    /// Who answered and the tokens used, once the iterator has ended
    /// without an error.
    pub fn summary(&self) -> Option<Summary> {
        self.inner.summary()
    }
}

impl Iterator for Answer {
    type Item = Result<String, AiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.inner.next() {
            Ok(Some(text)) => Some(Ok(text)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Many queries at once; results in the order of `reqs`.
pub fn batch(reqs: &[Request]) -> Vec<Result<Response, AiError>> {
    wit::batch(reqs)
}

/// The same query to several providers at once; the first answer wins.
pub fn query_with_fallback(req: &Request, providers: &[String]) -> Result<Response, AiError> {
    wit::query_with_fallback(req, providers)
}

/// A sentence for `error`, naming the fix where there is one.
pub fn explain(error: &AiError) -> String {
    match error {
        AiError::Denied => {
            "AI queries are not granted to this plugin (add `ai = { max_requests = N, max_tokens = M }` under [permissions] in plugin.toml)".to_owned()
        }
        AiError::OverBudget(message) => format!("over budget: {message}"),
        AiError::Provider(message) => format!("the AI provider failed: {message}"),
    }
}

impl From<AiError> for crate::Error {
    fn from(error: AiError) -> Self {
        crate::Error::Failed(explain(&error))
    }
}
