//! Writing results: stdout for results through [`crate::console`] (the one
//! way out, sanitised on a terminal, a closed pipe not an error), and
//! progress bars only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};

pub use crate::console::{bytes, failed, json, line, written};

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
    if json || !crate::console::stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {{msg}} [{{bar:30}}] {counts}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(crate::terminal::clean(message, crate::terminal::Lines::One));
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
