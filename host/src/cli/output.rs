//! Writing results: stdout for results, a closed pipe is not an error, and
//! progress bars only on a terminal.
//!
//! When the reader of stdout goes away (`isaac ... | head`), further output
//! is dropped and the command finishes through its normal exit path, so the
//! run is still recorded and the cache statistics still saved; the exit
//! status stays 0. Any other write error is reported, and makes the status 1
//! ([`failed`]).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader went away.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a write to stdout failed otherwise.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Whether a write to stdout failed (other than a reader going away).
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}
use indicatif::{ProgressBar, ProgressStyle};

/// Print `text` on stdout, ending it with a newline if it has none.
pub fn line(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let result = if text.ends_with('\n') { out.write_all(text.as_bytes()) } else { writeln!(out, "{text}") };
    finish(result.and_then(|()| out.flush()));
}

/// Print text a plugin controls (a result, its metadata) on stdout: byte-exact to a pipe or a file, through
/// the terminal sanitiser ([`crate::terminal`]) to a terminal.
pub fn plugin_text(text: &str) {
    if std::io::stdout().is_terminal() {
        line(&crate::terminal::sanitize(text, crate::terminal::Lines::Keep));
    } else {
        line(text);
    }
}

/// Write raw bytes on stdout.
pub fn bytes(data: &[u8]) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    finish(out.write_all(data).and_then(|()| out.flush()));
}

/// Print `value` as one line of JSON on stdout.
pub fn json(value: &serde_json::Value) {
    line(&value.to_string());
}

fn finish(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        // The reader went away (`isaac ... | head`): drop the rest quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => CLOSED.store(true, Ordering::Relaxed),
        Err(e) => {
            if !FAILED.swap(true, Ordering::Relaxed) {
                eprintln!("error: cannot write to stdout: {e}");
            }
        }
    }
}

/// A progress bar of `len` steps on stderr, hidden unless stderr is a
/// terminal and the output is not JSON.
pub fn progress(len: u64, message: &str, json: bool) -> ProgressBar {
    bar(len, "{pos}/{len} {elapsed}", message, json)
}

/// A progress bar of bytes downloaded, shown as [`progress`] is;
/// [`ProgressBar::set_length`] once the size is known.
pub fn download_bar(message: &str, json: bool) -> ProgressBar {
    bar(0, "{bytes}/{total_bytes} {bytes_per_sec}", message, json)
}

fn bar(len: u64, counts: &str, message: &str, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{msg}} [{{bar:30}}] {counts}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
