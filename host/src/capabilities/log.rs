//! `isaac:plugin/log`: plugin diagnostics on stderr.
//!
//! Each line is `NAME: LEVEL: MESSAGE`, printed when the level passes the
//! user's threshold (`-q` errors only, default warnings, `-v` info, `-vv`
//! debug, `-vvv` trace). Each message passes through the terminal sanitiser
//! as one line ([`crate::terminal`]), so a plugin can neither drive the
//! terminal nor forge a line of isaac's own, and a call may log at most [`MAX_LOG_BYTES_PER_CALL`]:
//! past it the call is stopped (a flood of logs is a fault, not output).

use std::io::Write;
use std::sync::Arc;

use crate::bindings::{Level, LogHost};
use crate::sandbox::{HostState, LogFlood};
use crate::terminal::{self, Lines};

/// The most log text one call may print; the rest is dropped with a notice.
pub const MAX_LOG_BYTES_PER_CALL: usize = 64 * 1024;

/// Where one call's log lines go.
#[derive(Debug, Clone)]
pub struct LogSink {
    plugin: Arc<str>,
    threshold: Level,
    written: usize,
}

impl LogSink {
    /// Lines of `plugin` at `threshold` or more important.
    pub fn new(plugin: Arc<str>, threshold: Level) -> Self {
        LogSink { plugin, threshold, written: 0 }
    }

    /// Print `message` if its level passes; an error once the call has
    /// logged more than its cap (counted whether printed or not).
    fn emit(&mut self, level: Level, message: &str) -> Result<(), LogFlood> {
        self.written += message.len();
        if self.written > MAX_LOG_BYTES_PER_CALL {
            return Err(LogFlood(MAX_LOG_BYTES_PER_CALL));
        }
        if rank(level) < rank(self.threshold) {
            return Ok(());
        }
        let clean = terminal::sanitize(message, Lines::One);
        let _ = writeln!(std::io::stderr().lock(), "{}: {}: {clean}", self.plugin, name(level));
        Ok(())
    }
}

/// A level's importance, trace lowest.
pub fn rank(level: Level) -> u8 {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
    }
}

fn name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

impl LogHost for HostState {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.log.emit(level, &message).map_err(wasmtime::Error::new)
    }
}
