//! The server-sent events (`text/event-stream`) of a streamed answer, parsed
//! by `eventsource-stream` (any line ending: `\n`, `\r\n` or a lone `\r`;
//! `data` over several lines; `id`, `retry` and comments), within the caps
//! isaac puts on what a provider may send: the whole stream, and the event
//! still waiting for its end.
//!
//! The parser buffers without a bound, so [`Reader`] meters the bytes it
//! feeds it, in pieces of at most [`PIECE`] bytes (it copies what follows
//! each line it reads, so a large chunk would cost time in the square of its
//! size): a chunk that would take the stream past `answer` bytes, or a piece
//! that would take the bytes fed since the last complete event past `event`,
//! ends the stream before the parser sees it. When an event comes out, the
//! count of pending bytes restarts at the size of the piece it came from
//! (what follows the event in that piece is still buffered, and is at most
//! that), so the count never falls below what the parser holds.
//!
//! The parser keeps the last `id:` it read and copies it at every blank
//! line, so a long id would make each byte that follows cost a copy of it:
//! an `id:` line longer than [`MAX_ID_LINE`] ends the stream (OpenAI and
//! Anthropic send no ids).
//!
//! The parser waits after a `\r` for a possible `\n`, so a body ending in a
//! lone `\r` would lose its last event: the meter ends such a body with a
//! `\n` (`\r\n` is the same one line ending).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError};
use futures::{Stream, StreamExt};

/// The most bytes fed to the parser at once.
const PIECE: usize = 8 << 10;

/// The longest `id:` line a stream may send.
pub const MAX_ID_LINE: usize = 256;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

/// What a stream may hold, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// The whole stream.
    pub answer: usize,
    /// One event still waiting for its end.
    pub event: usize,
}

/// Why a stream of events ended early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError<E> {
    /// The transfer failed.
    #[error("the transfer failed")]
    Transfer(#[source] E),
    /// The stream, or one event, is larger than its [`Caps`].
    #[error("the stream is larger than its caps")]
    TooLarge,
    /// Not an event stream (not UTF-8 text).
    #[error("the event stream is malformed")]
    Malformed(#[source] EventStreamError<std::convert::Infallible>),
}

/// The events of a body, read within [`Caps`].
pub struct Reader<S> {
    events: EventStream<Metered<S>>,
    meter: Arc<Meter>,
}

impl<S, E> Reader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    /// Read the events of `body`, within `caps`.
    pub fn new(body: S, caps: Caps) -> Self {
        let meter = Arc::new(Meter::default());
        let metered = Metered {
            body,
            caps,
            received: 0,
            rest: Bytes::new(),
            ends_in_cr: false,
            ended: false,
            line: Line::default(),
            meter: meter.clone(),
        };
        Reader { events: EventStream::new(metered), meter }
    }

    /// The next complete event; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Result<Event, StreamError<E>>> {
        let next = match self.events.next().await? {
            Ok(event) => {
                let last = self.meter.last.load(Ordering::Relaxed);
                self.meter.pending.store(last, Ordering::Relaxed);
                // The spec's default type: no `event:` field was sent.
                let name = (event.event != "message").then_some(event.event);
                Ok(Event { event: name, data: event.data })
            }
            Err(EventStreamError::Transport(Refused::Transfer(e))) => Err(StreamError::Transfer(e)),
            Err(EventStreamError::Transport(Refused::TooLarge)) => Err(StreamError::TooLarge),
            Err(EventStreamError::Utf8(e)) => Err(StreamError::Malformed(EventStreamError::Utf8(e))),
            Err(EventStreamError::Parser(e)) => Err(StreamError::Malformed(EventStreamError::Parser(e))),
        };
        Some(next)
    }
}

/// What the parser may hold, shared between the [`Reader`] and its
/// [`Metered`] body.
#[derive(Debug, Default)]
struct Meter {
    /// Bytes fed since the last complete event, counting the chunk it came
    /// from in full.
    pending: AtomicUsize,
    /// The size of the last chunk fed.
    last: AtomicUsize,
}

/// Why the metered body stopped.
#[derive(Debug)]
enum Refused<E> {
    Transfer(E),
    TooLarge,
}

/// The body as the parser is fed it: in pieces of at most [`PIECE`] bytes,
/// each counted, none past the caps.
struct Metered<S> {
    body: S,
    caps: Caps,
    received: usize,
    /// What is left of the last chunk, to be fed in pieces.
    rest: Bytes,
    /// Whether the last chunk ended in `\r`.
    ends_in_cr: bool,
    /// Whether the body has ended (it is not polled again).
    ended: bool,
    /// The line being fed.
    line: Line,
    meter: Arc<Meter>,
}

/// The line being fed: its length so far and its first bytes.
#[derive(Debug, Default)]
struct Line {
    len: usize,
    head: [u8; 3],
}

impl Line {
    /// Follow `bytes`; `false` once an `id:` line is longer than
    /// [`MAX_ID_LINE`].
    fn follow(&mut self, bytes: &[u8]) -> bool {
        for &byte in bytes {
            if byte == b'\n' || byte == b'\r' {
                self.len = 0;
                continue;
            }
            if let Some(slot) = self.head.get_mut(self.len) {
                *slot = byte;
            }
            self.len += 1;
            if self.len > MAX_ID_LINE && self.head == *b"id:" {
                return false;
            }
        }
        true
    }
}

impl<S, E> Stream for Metered<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, Refused<E>>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.rest.is_empty() {
            let piece = this.rest.split_to(this.rest.len().min(PIECE));
            return Poll::Ready(Some(this.feed(piece)));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.body.poll_next_unpin(cx)) {
            Some(Ok(mut chunk)) => {
                this.received += chunk.len();
                if this.received > this.caps.answer {
                    return Poll::Ready(Some(Err(Refused::TooLarge)));
                }
                if let Some(&last) = chunk.last() {
                    this.ends_in_cr = last == b'\r';
                }
                this.rest = chunk.split_off(chunk.len().min(PIECE));
                Poll::Ready(Some(this.feed(chunk)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(Refused::Transfer(e)))),
            None => {
                this.ended = true;
                Poll::Ready(this.ends_in_cr.then(|| Ok(Bytes::from_static(b"\n"))))
            }
        }
    }
}

impl<S> Metered<S> {
    /// Count `piece` as pending, unless that passes the cap of an event
    /// (or it holds too long an `id:` line).
    fn feed<E>(&mut self, piece: Bytes) -> Result<Bytes, Refused<E>> {
        let pending = self.meter.pending.load(Ordering::Relaxed) + piece.len();
        if pending > self.caps.event || !self.line.follow(&piece) {
            return Err(Refused::TooLarge);
        }
        self.meter.pending.store(pending, Ordering::Relaxed);
        self.meter.last.store(piece.len(), Ordering::Relaxed);
        Ok(piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: Caps = Caps { answer: 16 << 20, event: 1 << 20 };

    fn event(name: Option<&str>, data: &str) -> Event {
        Event { event: name.map(str::to_owned), data: data.to_owned() }
    }

    /// The events of `chunks`, or the error that ended them.
    fn read(chunks: Vec<Vec<u8>>, caps: Caps) -> Result<Vec<Event>, StreamError<std::io::Error>> {
        let body = futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        let mut reader = Reader::new(body, caps);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut events = Vec::new();
            while let Some(event) = reader.next().await {
                events.push(event?);
            }
            Ok(events)
        })
    }

    fn chunks(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    #[test]
    fn events_across_chunks() {
        let events = read(chunks(&["event: a\ndata: {\"x\"", ":1}\n\ndata: [DONE]\r\n\r\ndata: par"]), CAPS);
        assert_eq!(events.unwrap(), vec![event(Some("a"), "{\"x\":1}"), event(None, "[DONE]")]);
    }

    #[test]
    fn every_line_ending() {
        // `\r\n`, a lone `\r`, and a `\r\n` split between chunks.
        let events = read(chunks(&["data: one\r\n\r\n", "data: two\r\rdata: thr", "ee\r", "\n\r\n"]), CAPS);
        assert_eq!(events.unwrap(), vec![event(None, "one"), event(None, "two"), event(None, "three")]);
    }

    #[test]
    fn a_body_ending_in_a_lone_cr_keeps_its_last_event() {
        let events = read(chunks(&["data: one\r\r", "data: two\r", "\r", ""]), CAPS);
        assert_eq!(events.unwrap(), vec![event(None, "one"), event(None, "two")]);
    }

    #[test]
    fn multi_line_data_ids_retries_and_comments() {
        let text = ": keep-alive\n\nid: 7\nretry: 3000\nevent: delta\ndata: a\ndata:b\n\n";
        assert_eq!(read(chunks(&[text]), CAPS).unwrap(), vec![event(Some("delta"), "a\nb")]);
    }

    #[test]
    fn an_oversized_pending_event_is_refused() {
        let caps = Caps { answer: 1 << 20, event: 64 };
        // Many small events pass, in any number of chunks...
        let small = "data: 0123456789\n\n".repeat(1000);
        let parts: Vec<&str> = small.as_bytes().chunks(20).map(|c| std::str::from_utf8(c).unwrap()).collect();
        assert_eq!(read(chunks(&parts), caps).unwrap().len(), 1000);
        // ...one event longer than the cap does not, however it is cut.
        let long = format!("data: {}\n\n", "x".repeat(100));
        assert!(matches!(read(chunks(&[&long]), caps), Err(StreamError::TooLarge)));
        let parts: Vec<&str> = long.as_bytes().chunks(10).map(|c| std::str::from_utf8(c).unwrap()).collect();
        assert!(matches!(read(chunks(&parts), caps), Err(StreamError::TooLarge)));
        // Comments never complete an event: they count towards the next one.
        let comments = ": ping\n\n".repeat(20) + "data: late\n\n";
        let parts: Vec<&str> = comments.as_bytes().chunks(8).map(|c| std::str::from_utf8(c).unwrap()).collect();
        assert!(matches!(read(chunks(&parts), caps), Err(StreamError::TooLarge)));
    }

    #[test]
    fn the_leftover_of_a_chunk_is_counted() {
        // An event ends early in a chunk whose rest starts the next event:
        // that rest counts (as the whole chunk) until an event completes.
        let caps = Caps { answer: 1 << 20, event: 64 };
        let first = format!("data: a\n\ndata: {}", "y".repeat(40));
        let second = "y".repeat(20);
        assert!(matches!(read(chunks(&[&first, &second, "\n\n"]), caps), Err(StreamError::TooLarge)));
        assert_eq!(read(chunks(&[&first, "\n\n"]), caps).unwrap().len(), 2);
    }

    #[test]
    fn a_large_chunk_is_fed_in_pieces() {
        // 4 pieces' worth of small events in one chunk: events that straddle
        // two pieces are whole, and what is pending stays under two pieces.
        let caps = Caps { answer: 1 << 20, event: 2 * PIECE + 100 };
        let text: String = (0..4000).map(|i| format!("data: {i}\n\n")).collect();
        assert!(text.len() > 3 * PIECE);
        let events = read(vec![text.into_bytes()], caps).unwrap();
        assert_eq!(events.len(), 4000);
        assert!(events.iter().enumerate().all(|(i, e)| e.data == i.to_string()));
    }

    #[test]
    fn a_stream_past_its_cap_is_refused() {
        let caps = Caps { answer: 1000, event: 64 };
        let parts = vec!["data: 0123456789\n\n"; 100];
        assert!(matches!(read(chunks(&parts), caps), Err(StreamError::TooLarge)));
        assert_eq!(read(chunks(&parts[..50]), caps).unwrap().len(), 50);
    }

    #[test]
    fn bytes_that_are_not_text_are_malformed() {
        let body = vec![b"data: ok\n\n".to_vec(), vec![b'd', 0xff, b'\n', b'\n']];
        assert!(matches!(read(body, CAPS), Err(StreamError::Malformed(_))));
    }

    #[test]
    fn a_long_id_line_ends_the_stream_however_it_is_cut() {
        let long = format!("id: {}\ndata: x\n\n", "a".repeat(MAX_ID_LINE));
        assert!(matches!(read(vec![long.clone().into_bytes()], CAPS), Err(StreamError::TooLarge)));
        let bytes: Vec<Vec<u8>> = long.bytes().map(|b| vec![b]).collect();
        assert!(matches!(read(bytes, CAPS), Err(StreamError::TooLarge)));
        let short = format!("id: {}\ndata: x\n\n", "a".repeat(MAX_ID_LINE - 4));
        assert_eq!(read(vec![short.into_bytes()], CAPS).unwrap(), vec![event(None, "x")]);
        let data = format!("data: {}\n\n", "a".repeat(4 * MAX_ID_LINE));
        assert_eq!(read(vec![data.into_bytes()], CAPS).unwrap().len(), 1, "a long data line is no id");
    }
}
