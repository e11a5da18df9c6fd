//! A streamed answer (`isaac:plugin/ai.answer`): the request runs as a task
//! on the call's runtime and appends each piece of text to what waits for
//! the guest, which takes it with `next`. What waits unread is capped
//! ([`MAX_UNREAD`]): a guest that does not read its answer cannot make the
//! host hold more (past the cap the answer ends with an error). Dropping
//! the answer aborts the task: the request is cancelled in flight and
//! charged as any cancelled request (its reservations stand, see
//! [`crate::ai::caller`]).

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::{summary, to_wit};
use crate::ai::{AiError, AiRequest, AiResponse, AiRouter, Caller};
use crate::bindings::{WitAiError, WitSummary};

/// The most text an answer holds for its guest before it is read.
pub const MAX_UNREAD: usize = 1 << 20;

/// What the request's task has produced and the guest not yet taken.
#[derive(Default)]
struct Waiting {
    text: String,
    /// More than [`MAX_UNREAD`] arrived unread.
    overflow: bool,
    end: Option<Result<AiResponse, AiError>>,
}

/// The task's side and the guest's side of one answer.
#[derive(Default)]
struct Shared {
    waiting: Mutex<Waiting>,
    changed: Notify,
}

impl Shared {
    fn update(&self, change: impl FnOnce(&mut Waiting)) {
        change(&mut self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_one();
    }
}

/// One streamed answer of a call.
pub(super) struct Answer {
    shared: Arc<Shared>,
    task: AbortHandle,
    /// How it ended, once the guest has seen it end.
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
        let shared = Arc::new(Shared::default());
        let feed = shared.clone();
        let task = tokio::spawn(async move {
            let mut on_text = |text: &str| {
                feed.update(|w| match w.text.len() + text.len() > MAX_UNREAD {
                    true => w.overflow = true,
                    false => w.text.push_str(text),
                })
            };
            let end = router.stream_for(&req, &caller, &mut on_text).await;
            feed.update(|w| w.end = Some(end));
        });
        Answer { shared, task: task.abort_handle(), end: None }
    }

    /// The text that arrived since the last call, waiting for some; `None`
    /// at the end. After the end (or an error) it says the same again.
    pub(super) async fn next(&mut self) -> Result<Option<String>, WitAiError> {
        loop {
            if let Some(end) = &self.end {
                return end.clone().map(|_| None);
            }
            let changed = self.shared.changed.notified();
            {
                let mut waiting = self.shared.waiting.lock().unwrap_or_else(|e| e.into_inner());
                if !waiting.text.is_empty() {
                    return Ok(Some(std::mem::take(&mut waiting.text)));
                }
                if waiting.overflow {
                    let why = format!("more than {} KiB of the answer arrived unread", MAX_UNREAD >> 10);
                    self.end = Some(Err(WitAiError::Provider(why)));
                    continue;
                }
                if let Some(end) = waiting.end.take() {
                    self.end = Some(end.as_ref().map(summary).map_err(|e| to_wit(e.clone())));
                    continue;
                }
            }
            changed.await;
        }
    }

    /// Who answered, once the answer is complete.
    pub(super) fn summary(&self) -> Option<WitSummary> {
        self.end.as_ref()?.as_ref().ok().cloned()
    }
}
