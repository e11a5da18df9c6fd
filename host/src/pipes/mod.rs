//! A call's stdio, for plugins built against `isaac:plugin@0.3.0` and
//! later, and for WASI commands: a plugin is a Unix filter.
//!
//! - **stdin** ([`Input`]) is what the user piped into isaac, read as the
//!   plugin reads (never slurped), or a file (`CMD < FILE` in the shell),
//!   or text (an MCP tool call's `stdin`); empty on a terminal, so a plugin
//!   never waits on the keyboard. No grant: it is input the user chose to
//!   pass, as an argument is.
//! - **stdout** ([`Output`]) reaches isaac's stdout as it is written, with
//!   back-pressure (a write returns once the reader took it, so host memory
//!   stays bounded): byte-exact to a pipe or a file; sanitised on a
//!   terminal (a character or `\r\n` split across writes is joined first)
//!   and capped there by `[limits] max_output_kb`. Or it is collected, up to
//!   the same cap, and returned before the result (`--json`, MCP, `ask`, the
//!   library's default).
//! - **stderr** is the plugin's diagnostics: line by line on isaac's
//!   stderr, prefixed with the plugin's name, sanitised, capped at
//!   [`MAX_PRINT_BYTES`].
//!
//! When the reader of stdout goes away (`isaac run gen | head -1`) the
//! plugin's next write ends the call ([`Stop::ReaderGone`]), and isaac exits
//! quietly with status 141, as a Unix tool killed by `SIGPIPE` would.
//!
//! Time spent blocked on the pipes (waiting for input, or for the reader to
//! take output) is not the plugin's running time: it is counted in a
//! [`Blocked`] clock, and the call's deadline is moved back by it.

mod sink;
mod source;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime_wasi::WasiCtxBuilder;

use sink::{Lines, Sink, Stream};

/// The most a call may write to stderr, and an older plugin print on its
/// captured stdout and stderr (each); past it the call ends.
pub const MAX_PRINT_BYTES: usize = 1 << 20;

/// Where a call's stdin comes from.
#[derive(Debug, Clone, Default)]
pub enum Input {
    /// Nothing: an empty stdin.
    #[default]
    Empty,
    /// isaac's own stdin (a pipe or a file), read as the plugin reads.
    Inherit,
    /// An open file (`CMD < FILE` in the shell), read as the plugin reads.
    File(Arc<std::fs::File>),
    /// Given bytes (an MCP tool call's `stdin`).
    Bytes(bytes::Bytes),
}

/// Where a call's stdout goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Output {
    /// Collected (up to `[limits] max_output_kb`) and returned before the
    /// call's result.
    #[default]
    Collect,
    /// isaac's stdout, as it is written.
    Console,
}

/// A call's stdin and stdout. The default reads nothing and collects.
#[derive(Debug, Clone, Default)]
pub struct Stdio {
    /// Its stdin.
    pub input: Input,
    /// Its stdout.
    pub output: Output,
}

impl Stdio {
    /// isaac's own: its stdin unless that is a terminal, its stdout.
    pub fn console() -> Self {
        use std::io::IsTerminal;
        let input = if std::io::stdin().is_terminal() { Input::Empty } else { Input::Inherit };
        Stdio { input, output: Output::Console }
    }

    /// Text as stdin, stdout collected (a tool call).
    pub fn text(input: Option<String>) -> Self {
        Stdio { input: input.map_or(Input::Empty, |text| Input::Bytes(text.into())), output: Output::Collect }
    }
}

/// Time a call spent blocked on its pipes, shared by its streams and its
/// deadline.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blocked(Arc<AtomicU64>);

impl Blocked {
    /// The time blocked so far.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    /// Run `io`, counting its time as blocked.
    fn time<R>(&self, io: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let result = io();
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
        result
    }
}

/// Why a stream ended the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// The reader of isaac's stdout went away.
    #[error("stdout's reader went away")]
    ReaderGone,
    /// A stream passed its cap.
    #[error("wrote more than {cap} KiB to {stream}")]
    OverCap {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// Its cap, in KiB.
        cap: usize,
        /// It was shown on a terminal (a pipe or a file has no cap).
        terminal: bool,
    },
}

/// The stdio of one call: built into its WASI context by [`Pipes::attach`],
/// read back after it by [`Pipes::finish`].
pub(crate) struct Pipes {
    stdout: Arc<Mutex<Sink>>,
    stderr: Arc<Mutex<Sink>>,
    input: Input,
    blocked: Blocked,
}

impl Pipes {
    /// The pipes of a call of `plugin` with `stdio`; `cap` bounds collected
    /// output and output shown on a terminal.
    pub fn new(plugin: &str, stdio: &Stdio, cap: usize, blocked: Blocked) -> Self {
        let out = match stdio.output {
            Output::Collect => Lines::Collect,
            Output::Console if crate::console::stdout_is_terminal() => Lines::Terminal(Default::default()),
            Output::Console => Lines::Exact,
        };
        let stdout = Sink::new("stdout", out, cap, blocked.clone());
        let stderr =
            Sink::new("stderr", Lines::Diagnostics(plugin.to_owned(), Vec::new()), MAX_PRINT_BYTES, blocked.clone());
        Pipes {
            stdout: Arc::new(Mutex::new(stdout)),
            stderr: Arc::new(Mutex::new(stderr)),
            input: stdio.input.clone(),
            blocked,
        }
    }

    /// Make these the stdio of the context `builder` builds.
    pub fn attach(&self, builder: &mut WasiCtxBuilder) {
        let blocked = &self.blocked;
        match &self.input {
            Input::Empty => {}
            Input::Inherit => {
                builder.stdin(source::Source::stdin(blocked.clone()));
            }
            Input::File(file) => {
                builder.stdin(source::Source::file(file.clone(), blocked.clone()));
            }
            Input::Bytes(bytes) => {
                builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes.clone()));
            }
        }
        builder.stdout(Stream(self.stdout.clone())).stderr(Stream(self.stderr.clone()));
    }

    /// End the streams (what waits for a line end is written now) and give
    /// what was collected of stdout.
    pub fn finish(&self) -> Vec<u8> {
        let lock = |sink: &Arc<Mutex<Sink>>| sink.lock().map(|mut s| s.finish()).unwrap_or_default();
        lock(&self.stderr);
        lock(&self.stdout)
    }
}
