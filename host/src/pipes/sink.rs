//! Where a call's stdout and stderr go: one [`Sink`] each, shared by every
//! handle the guest opens on it ([`Stream`]). A write returns once the
//! bytes are where they go, so a plugin writing faster than its reader
//! waits (back-pressure) and the host holds no more than one write.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

use super::{Blocked, Stop};
use crate::terminal::{self, Pieces};

/// What `check-write` allows a write (a guest may write more at once: up to
/// its hostcall fuel, so one write is still bounded).
const WRITE_SIZE: usize = 64 << 10;

/// The longest diagnostic line kept waiting for its end; a longer one is
/// shown in pieces.
const MAX_LINE: usize = 4 << 10;

/// How a sink passes bytes on.
pub(super) enum Lines {
    /// Kept, to be returned with the result.
    Collect,
    /// To isaac's stdout, exact (a pipe or a file).
    Exact,
    /// To isaac's stdout on a terminal, sanitised.
    Terminal(Pieces),
    /// To isaac's stderr, line by line, each prefixed with the plugin's
    /// name and sanitised; the line not ended yet.
    Diagnostics(String, Vec<u8>),
}

/// One output stream of a call.
pub(super) struct Sink {
    stream: &'static str,
    lines: Lines,
    cap: usize,
    written: usize,
    collected: Vec<u8>,
    blocked: Blocked,
}

impl Sink {
    pub fn new(stream: &'static str, lines: Lines, cap: usize, blocked: Blocked) -> Self {
        Sink { stream, lines, cap, written: 0, collected: Vec::new(), blocked }
    }

    /// Pass `bytes` on; a [`Stop`] ends the call.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let capped = !matches!(self.lines, Lines::Exact);
        if capped && self.written.saturating_add(bytes.len()) > self.cap {
            let terminal = matches!(self.lines, Lines::Terminal(_));
            return Err(Stop::OverCap { stream: self.stream, cap: self.cap >> 10, terminal });
        }
        self.written += bytes.len();
        let blocked = &self.blocked;
        match &mut self.lines {
            Lines::Collect => self.collected.extend_from_slice(bytes),
            Lines::Exact => {
                if !blocked.time(|| crate::console::exact(bytes)) {
                    return Err(Stop::ReaderGone);
                }
            }
            Lines::Terminal(pieces) => {
                let text = pieces.feed(bytes);
                blocked.time(|| crate::console::part(&text));
                if crate::console::closed() || crate::console::failed() {
                    return Err(Stop::ReaderGone);
                }
            }
            Lines::Diagnostics(plugin, line) => {
                line.extend_from_slice(bytes);
                let mut start = 0;
                loop {
                    let rest = &line[start..];
                    match rest.iter().position(|&b| b == b'\n') {
                        Some(end) => {
                            show(plugin, &rest[..end]);
                            start += end + 1;
                        }
                        None if rest.len() > MAX_LINE => {
                            // Cut before a character the cut would split.
                            let cut = MAX_LINE - terminal::incomplete_tail(&rest[..MAX_LINE]);
                            show(plugin, &rest[..cut]);
                            start += cut;
                        }
                        None => break,
                    }
                }
                line.drain(..start);
            }
        }
        Ok(())
    }

    /// Write what waits for more (a partial line, a split character), and
    /// give what was collected.
    pub fn finish(&mut self) -> Vec<u8> {
        match &mut self.lines {
            Lines::Terminal(pieces) => crate::console::part(&pieces.finish()),
            Lines::Diagnostics(plugin, line) if !line.is_empty() => show(plugin, &std::mem::take(line)),
            _ => {}
        }
        std::mem::take(&mut self.collected)
    }
}

/// One diagnostic line of `plugin` on stderr.
fn show(plugin: &str, line: &[u8]) {
    crate::say!("{plugin}| {}", terminal::sanitize(&String::from_utf8_lossy(line), terminal::Lines::One));
}

/// A guest's handle on a sink.
#[derive(Clone)]
pub(super) struct Stream(pub Arc<Mutex<Sink>>);

impl Stream {
    fn write_all(&self, bytes: &[u8]) -> Result<(), Stop> {
        // A poisoned lock: a write panicked; nothing more gets through.
        let mut sink = self.0.lock().map_err(|_| Stop::ReaderGone)?;
        sink.write(bytes)
    }
}

/// Never a terminal to the guest, even on one: what it writes is shown
/// through the sanitiser, so colours and cursor moves would only show as
/// escapes. (A guest that buffers by block off a terminal flushes to show a
/// line at once.)
impl IsTerminal for Stream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Stream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Stream {
    async fn ready(&mut self) {}
}

impl OutputStream for Stream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes).map_err(|stop| StreamError::Trap(wasmtime::Error::new(stop)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_SIZE)
    }
}

impl tokio::io::AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()).map_err(std::io::Error::other))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
