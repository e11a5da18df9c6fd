//! A long-lived set of loaded plugins that runs command lines: the engine
//! behind `isaac shell`, usable by any host that keeps plugins loaded.
//!
//! Every plugin is loaded once; each line is split like a shell line,
//! resolved and run in a fresh sandbox exactly as `isaac run` would, and its
//! dispatch time is recorded.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::host::{Host, HostError, LoadReport, ReloadSummary, RunError};
use crate::loader::Progress;
use crate::pipes::Stdio;

/// How many recent dispatch times are kept for percentiles.
const LATENCY_WINDOW: usize = 10_000;

/// Split `line` into words like a POSIX shell: quotes, backslash escapes.
/// `None` when a quote is not closed.
pub fn split(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// A line and the input it names with a trailing `< FILE`, outside quotes:
/// the command's part, and the input's (still to be split), if any.
pub fn split_input(line: &str) -> (&str, Option<&str>) {
    let (mut quote, mut escaped, mut at) = (None, false, None);
    for (i, c) in line.char_indices() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => escaped = true,
            (Some('"'), '"') => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '<') => at = Some(i),
            (None, _) => {}
        }
    }
    match at {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    }
}

/// Join the physical lines of one logical line: a line that ends with `\`
/// continues on the next.
pub fn join_continuations(text: &str) -> String {
    text.replace("\\\r\n", " ").replace("\\\n", " ")
}

/// What a session has done.
#[derive(Debug, Clone, Default)]
pub struct SessionStats {
    /// Commands run.
    pub commands: u64,
    /// Commands that failed.
    pub failures: u64,
    latencies: VecDeque<Duration>,
}

impl SessionStats {
    fn record(&mut self, took: Duration, ok: bool) {
        self.commands += 1;
        self.failures += u64::from(!ok);
        if self.latencies.len() == LATENCY_WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(took);
    }

    /// The `p`-th percentile (0–100) of recent dispatch times.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted: Vec<Duration> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted.get(rank.min(sorted.len() - 1)).copied()
    }
}

/// Loaded plugins and what has been run with them.
pub struct Session<'h> {
    host: &'h Host,
    loaded: LoadReport,
    load_time: Duration,
    stats: SessionStats,
}

impl<'h> Session<'h> {
    /// Load every installed plugin of `host`.
    pub async fn open(host: &'h Host, progress: Progress<'_>) -> Result<Self, HostError> {
        let loaded = host.load_all(progress).await?;
        let load_time = loaded.elapsed;
        Ok(Session { host, loaded, load_time, stats: SessionStats::default() })
    }

    /// The host.
    pub fn host(&self) -> &'h Host {
        self.host
    }

    /// The loaded plugins, their failures and their commands.
    pub fn loaded(&self) -> &LoadReport {
        &self.loaded
    }

    /// How long the first load took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// What has been run.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Every name a command line may start with (bare and `plugin:command`).
    pub fn command_names(&self) -> Vec<String> {
        self.loaded.registry.command_names().into_iter().map(str::to_owned).collect()
    }

    /// Run `words` (a command and its arguments) with `stdio` in a fresh
    /// sandbox that stops once `cancel` is set.
    pub async fn run(&mut self, words: &[String], stdio: &Stdio, cancel: Arc<AtomicBool>) -> Result<String, RunError> {
        let start = Instant::now();
        let result = match words.split_first() {
            Some((name, args)) => match self.loaded.resolve(name) {
                Ok((plugin, command)) => plugin.run_with(command, args, stdio, Some(cancel)).await,
                Err(e) => Err(e),
            },
            None => Ok(String::new()),
        };
        self.stats.record(start.elapsed(), result.is_ok());
        result
    }

    /// Re-scan the installed plugins: load new and changed ones, drop removed
    /// ones, keep the rest.
    pub async fn reload(&mut self, progress: Progress<'_>) -> Result<ReloadSummary, HostError> {
        let previous = std::mem::replace(&mut self.loaded, LoadReport::empty());
        match self.host.reload(Some(previous), progress).await {
            Ok((loaded, summary)) => {
                self.loaded = loaded;
                Ok(summary)
            }
            Err(e) => {
                // The previous plugins were handed over; load afresh.
                self.loaded = self.host.load_all(progress).await?;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split(r#"wc "two words" it\'s 'x y'"#).unwrap(), ["wc", "two words", "it's", "x y"]);
        assert_eq!(split("  "), Some(vec![]));
        assert_eq!(split("echo \"open"), None);
        assert_eq!(join_continuations("echo a \\\nb"), "echo a  b");
        assert_eq!(split_input("wc < notes.txt"), ("wc ", Some(" notes.txt")));
        assert_eq!(split_input("wc -l <'my notes.txt'"), ("wc -l ", Some("'my notes.txt'")));
        // A quoted or escaped `<` is an argument.
        assert_eq!(split_input(r#"grep "<" notes.txt"#), (r#"grep "<" notes.txt"#, None));
        assert_eq!(split_input("echo '<b>' \\< x"), ("echo '<b>' \\< x", None));
    }

    #[test]
    fn percentiles() {
        let mut s = SessionStats::default();
        assert_eq!(s.percentile(50.0), None);
        for ms in 1..=100 {
            s.record(Duration::from_millis(ms), ms % 10 != 0);
        }
        assert_eq!(s.percentile(50.0), Some(Duration::from_millis(51)));
        assert_eq!(s.percentile(95.0), Some(Duration::from_millis(95)));
        assert_eq!((s.commands, s.failures), (100, 10));
    }
}
