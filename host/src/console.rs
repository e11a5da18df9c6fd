//! The one way to the process's stdout and stderr.
//!
//! Every string isaac shows may hold bytes a plugin, a manifest, a registry,
//! a model or a server chose, so nothing reaches a terminal except through
//! the sanitiser ([`crate::terminal`]), and this module is where that holds:
//!
//! - stderr (diagnostics) is always sanitised, newlines kept: a log kept in
//!   a file is read on a terminal later;
//! - stdout (results) is sanitised on a terminal and byte-exact to a pipe or
//!   a file, because scripts rely on it; JSON on a terminal has its
//!   hazardous characters written as JSON escapes, so it still parses.
//!
//! The host crate's `clippy.toml` forbids `print!`, `eprintln!` and friends
//! and `std::io::stdout`/`stderr` everywhere but here, so a new message cannot
//! forget the rule: CI's clippy refuses it.
//!
//! When the reader of stdout goes away (`isaac ... | head`), further output
//! is dropped and the command finishes through its normal exit path, so the
//! run is still recorded; the exit status stays 0. Any other write error is
//! reported once, and makes the status 1 ([`failed`]).
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::terminal::{Lines, is_hazard, sanitize};

/// Set once stdout's reader went away.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a write to stdout failed otherwise.
static FAILED: AtomicBool = AtomicBool::new(false);
/// Bytes written to stdout so far.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Print a diagnostic line on stderr, sanitised; the `eprintln!` of isaac.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::console::diag(format_args!($($arg)*)) };
}

/// Whether a write to stdout failed (other than a reader going away).
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// Whether stdout's reader went away.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// How many bytes were written to stdout so far (so a caller can tell
/// whether a plugin's stream wrote any).
pub fn written() -> u64 {
    WRITTEN.load(Ordering::Relaxed)
}

/// Whether stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Print `text` on stdout, ending it with a newline if it has none:
/// sanitised on a terminal (newlines and tabs kept), exact elsewhere.
pub fn line(text: &str) {
    let shown = if stdout_is_terminal() { sanitize(text, Lines::Keep) } else { text.into() };
    let end: &[u8] = if shown.ends_with('\n') { b"" } else { b"\n" };
    write_out(&[shown.as_bytes(), end]);
}

/// Print `text` on stdout as it arrives (a streamed answer), without adding
/// a newline; sanitised on a terminal, exact elsewhere. Each hazardous
/// character is escaped on its own, so one split across two pieces is
/// still made visible.
pub fn part(text: &str) {
    let shown = if stdout_is_terminal() { sanitize(text, Lines::Keep) } else { text.into() };
    write_out(&[shown.as_bytes()]);
}

/// Write `data` on stdout: exact to a pipe or a file, as sanitised text
/// (invalid UTF-8 replaced) on a terminal.
pub fn bytes(data: &[u8]) {
    if stdout_is_terminal() {
        part(&String::from_utf8_lossy(data));
    } else {
        write_out(&[data]);
    }
}

/// Write `data` on stdout exactly (a plugin's stream to a pipe or a file);
/// whether stdout still takes it (`false`: its reader went away, or a write
/// failed and was reported).
pub fn exact(data: &[u8]) -> bool {
    if closed() || failed() {
        return false;
    }
    WRITTEN.fetch_add(data.len() as u64, Ordering::Relaxed);
    let mut out = std::io::stdout().lock();
    // What isaac wrote before goes first; then the bytes go straight to the
    // descriptor, not through std's line buffer (which would scan them for
    // newlines and split each write in two).
    settle(out.flush().and_then(|()| write_all_fd(data)));
    !closed() && !failed()
}

/// Write all of `data` to file descriptor 1.
fn write_all_fd(mut data: &[u8]) -> std::io::Result<()> {
    // SAFETY: descriptor 1 is the process's stdout, open for its whole life
    // (std's `Stdout` writes to it the same way).
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(1) };
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Print `value` as one line of JSON on stdout. On a terminal, the
/// characters JSON leaves raw that a terminal would obey (bidirectional
/// and other format characters) are written as `\uXXXX` escapes.
pub fn json(value: &serde_json::Value) {
    let text = value.to_string();
    if !stdout_is_terminal() || !text.chars().any(is_hazard) {
        return write_out(&[text.as_bytes(), b"\n"]);
    }
    write_out(&[json_escaped(&text).as_bytes(), b"\n"]);
}

/// JSON text with every hazardous character it holds raw as `\uXXXX`.
fn json_escaped(text: &str) -> String {
    let mut safe = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hazard(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                safe.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            safe.push(c);
        }
    }
    safe
}

/// Print a diagnostic line on stderr, sanitised (newlines kept).
pub fn diag(message: impl Display) {
    let text = message.to_string();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", sanitize(&text, Lines::Keep));
}

/// Print a question on stderr, sanitised, without a newline (the answer is
/// typed after it).
pub fn prompt(message: impl Display) {
    let text = message.to_string();
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{}", sanitize(&text, Lines::Keep)).and_then(|()| err.flush());
}

fn write_out(pieces: &[&[u8]]) {
    if closed() {
        return;
    }
    WRITTEN.fetch_add(pieces.iter().map(|p| p.len() as u64).sum(), Ordering::Relaxed);
    let mut out = std::io::stdout().lock();
    settle(pieces.iter().try_for_each(|p| out.write_all(p)).and_then(|()| out.flush()));
}

/// Note how a write to stdout went: a reader gone, or a failure (reported
/// once).
fn settle(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        // The reader went away (`isaac ... | head`): drop the rest quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => CLOSED.store(true, Ordering::Relaxed),
        Err(e) => {
            if !FAILED.swap(true, Ordering::Relaxed) {
                diag(format_args!("error: cannot write to stdout: {e}"));
            }
        }
    }
}

/// A writer to stderr that sanitises what it is given (newlines kept), for
/// the host's own log lines (`tracing`), whose fields may hold a plugin's or
/// a server's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiagWriter;

impl Write for DiagWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(sanitize(&text, Lines::Keep).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitised_json_still_parses() {
        let value = serde_json::json!({ "text": "a\u{202e}b\u{e0041}c\u{1b}[2J" });
        let safe = json_escaped(&value.to_string());
        assert!(!safe.chars().any(is_hazard));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }
}
