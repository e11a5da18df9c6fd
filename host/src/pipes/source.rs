//! A call's stdin when it is isaac's own or a file: read as the guest reads,
//! at most what it asks for, with the time spent waiting counted as
//! blocked.

use std::io::Read;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

use super::Blocked;

/// The most one read takes.
const READ_SIZE: usize = 64 << 10;

/// Where the bytes come from.
#[derive(Clone)]
enum From {
    Stdin,
    File(Arc<std::fs::File>),
}

/// A guest's stdin.
#[derive(Clone)]
pub(super) struct Source {
    from: From,
    blocked: Blocked,
}

impl Source {
    /// isaac's stdin.
    pub fn stdin(blocked: Blocked) -> Self {
        Source { from: From::Stdin, blocked }
    }

    /// An open file.
    pub fn file(file: Arc<std::fs::File>, blocked: Blocked) -> Self {
        Source { from: From::File(file), blocked }
    }

    /// Up to `size` bytes, waiting for them; `Ok(0)` at the end. A read
    /// a signal interrupted (`isaac run`'s clock, `crate::epoch`) is made
    /// again.
    fn read_into(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.blocked.time(|| {
            loop {
                let read = match &self.from {
                    From::Stdin => std::io::stdin().lock().read(buf),
                    From::File(file) => (&**file).read(buf),
                };
                match read {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    read => return read,
                }
            }
        })
    }
}

impl IsTerminal for Source {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for Source {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Source {
    async fn ready(&mut self) {}
}

impl InputStream for Source {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if size == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = BytesMut::zeroed(size.min(READ_SIZE));
        let read = self.read_into(&mut buf).map_err(|e| StreamError::LastOperationFailed(wasmtime::Error::new(e)))?;
        if read == 0 {
            return Err(StreamError::Closed);
        }
        buf.truncate(read);
        Ok(buf.freeze())
    }
}

impl tokio::io::AsyncRead for Source {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let read = self.read_into(buf.initialize_unfilled());
        Poll::Ready(read.map(|n| buf.advance(n)))
    }
}
