//! [`WireError`]: what is wrong with a provider's answer, the cause of an
//! [`AiError::BadResponse`](super::AiError::BadResponse).

use crate::error::Source;

/// What is wrong with a provider's answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WireError {
    /// The body is not JSON.
    #[error("malformed JSON")]
    Json(#[source] Source),
    /// The event stream is not one (not UTF-8 text).
    #[error("the event stream is malformed")]
    Stream(#[source] Source),
    /// A stream event is not JSON.
    #[error("a stream event is malformed JSON")]
    Event(#[source] Source),
    /// An Anthropic answer without its `content` array.
    #[error("no content array")]
    NoContent,
    /// An OpenAI answer without a message.
    #[error("no choices[0].message.content")]
    NoMessage,
    /// The stream carried an error event.
    #[error("the stream reported an error: {0}")]
    Reported(String),
    /// The body broke off.
    #[error("the answer was cut off")]
    CutOff(#[source] Source),
    /// The body is larger than isaac reads.
    #[error("the answer is refused: it is larger than {0} bytes")]
    TooLarge(usize),
    /// The stream is larger than isaac reads, or one event is (or one
    /// `id:` line).
    #[error(
        "the stream is refused: more than {answer} bytes, an event longer than {event}, or an `id:` line longer than {}",
        super::sse::MAX_ID_LINE
    )]
    StreamTooLarge {
        /// The most an answer may hold.
        answer: usize,
        /// The most one event may hold.
        event: usize,
    },
    /// The stream ended without its last event.
    #[error("the stream ended before the answer was complete")]
    Unfinished,
    /// The answer asks for more tool calls than isaac reads.
    #[error("the answer asks for more than {0} tool calls")]
    TooManyCalls(usize),
}
