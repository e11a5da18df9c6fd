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

use crate::__bindings::isaac::plugin::ai as wit;
pub use wit::{AiError, Message, Request, Response, Usage};

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
