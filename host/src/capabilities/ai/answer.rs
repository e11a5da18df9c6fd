//! A streamed answer (`isaac:plugin/ai.answer`): the request runs as a task
//! on the call's runtime and hands each piece of text to the guest, which
//! pulls them with `next`. The pieces wait in a channel whose size the
//! answer's own cap bounds (a provider's answer is metered, see
//! [`crate::ai::sse`]). Dropping the answer aborts the task: the request is
//! cancelled in flight and charged as any cancelled request (its
//! reservations stand, see [`crate::ai::caller`]).

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{summary, to_wit};
use crate::ai::{AiError, AiRequest, AiResponse, AiRouter, Caller};
use crate::bindings::{WitAiError, WitSummary};

/// What the request's task sends.
enum Piece {
    Text(String),
    End(Result<AiResponse, AiError>),
}

/// One streamed answer of a call.
pub(super) struct Answer {
    pieces: mpsc::UnboundedReceiver<Piece>,
    task: AbortHandle,
    /// How it ended, once it has.
    end: Option<Result<WitSummary, WitAiError>>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Answer {
    /// Send `req` for `caller` on the current runtime; its text arrives
    /// through [`next`](Self::next).
    pub(super) fn start(router: Arc<AiRouter>, req: AiRequest, caller: Arc<Caller>) -> Self {
        let (sender, pieces) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut on_text = |text: &str| {
                if !text.is_empty() {
                    let _ = sender.send(Piece::Text(text.to_owned()));
                }
            };
            let end = router.stream_for(&req, &caller, &mut on_text).await;
            let _ = sender.send(Piece::End(end));
        });
        Answer { pieces, task: task.abort_handle(), end: None }
    }

    /// The next piece of text, waiting for it; `None` at the end. After the
    /// end (or an error) it says the same again.
    pub(super) async fn next(&mut self) -> Result<Option<String>, WitAiError> {
        if let Some(end) = &self.end {
            return end.clone().map(|_| None);
        }
        let end = match self.pieces.recv().await {
            Some(Piece::Text(text)) => return Ok(Some(text)),
            Some(Piece::End(result)) => result.as_ref().map(summary).map_err(|e| to_wit(e.clone())),
            None => Err(WitAiError::Provider("the answer's request ended before it finished".to_owned())),
        };
        self.end = Some(end.clone());
        end.map(|_| None)
    }

    /// Who answered, once the answer is complete.
    pub(super) fn summary(&self) -> Option<WitSummary> {
        self.end.as_ref()?.as_ref().ok().cloned()
    }
}
