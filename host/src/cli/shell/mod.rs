//! `isaac shell`: every plugin loaded once, one command per line.
//!
//! On a terminal it reads lines with a line editor (history in
//! `$ISAAC_HOME/shell_history`, Tab completion, Ctrl-R search, a trailing
//! `\` continues a line); Ctrl-C interrupts a running command, or clears the
//! line at the prompt; Ctrl-D or `:quit` leaves. With stdin from a pipe or a
//! file it runs one command per line and prints only their results; the
//! exit status is that of the last command that failed, or 0.

mod colon;
mod editor;
mod piped;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use super::{Context, Failure, output};
use crate::host::RunError;
use crate::pipes::{Input, Output, Stdio};
use crate::sandbox::CallError;
use crate::session::{self, Session};
use crate::settings::Settings;

/// Keep every plugin loaded and run one command per line.
#[derive(Debug, Args)]
pub struct ShellArgs {}

/// `isaac shell`, resolved once from the global settings and the terminal.
#[derive(Debug)]
struct ShellSettings {
    /// Stdin is a terminal: the line editor; else one command per line,
    /// results only.
    interactive: bool,
    /// Show the loading bar: interactive, and not `--json`.
    progress: bool,
    /// The line editor's history: `$ISAAC_HOME/shell_history`.
    history: PathBuf,
}

impl ShellSettings {
    /// Resolve over `settings`; `json` is `--json`, `stdin_terminal`
    /// whether stdin is a terminal.
    fn resolve(_args: ShellArgs, settings: &Settings, json: bool, stdin_terminal: bool) -> Self {
        ShellSettings {
            interactive: stdin_terminal,
            progress: stdin_terminal && !json,
            history: settings.home().join("shell_history"),
        }
    }
}

/// How long an interrupted command may take to stop before it is dropped.
const STOP_GRACE: Duration = Duration::from_millis(200);

pub fn run(cx: &Context, args: ShellArgs) -> Result<u8, Failure> {
    let shell = ShellSettings::resolve(args, &cx.settings, cx.json, std::io::stdin().is_terminal());
    let runtime = super::runtime()?;
    let host = cx.host()?;
    let bar = output::progress(host.installed().len() as u64, "loading plugins", !shell.progress);
    let session = runtime.block_on(Session::open(host, &|_| bar.inc(1)))?;
    bar.finish_and_clear();
    match shell.interactive {
        true => editor::run(&runtime, &shell.history, session),
        false => piped::run(&runtime, session),
    }
}

/// What one line did.
pub(crate) enum Outcome {
    /// Nothing to do (an empty line, a comment).
    Nothing,
    /// Text for stdout.
    Output(String),
    /// A failure, with the exit status `isaac run` would give.
    Failed(u8, String),
    /// Leave the shell.
    Quit,
}

/// Run one logical line: a colon command or a plugin command.
pub(crate) async fn execute(session: &mut Session<'_>, line: &str, interruptible: bool) -> Outcome {
    let line = session::join_continuations(line);
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Outcome::Nothing;
    }
    let (command, input) = session::split_input(trimmed);
    let (Some(words), Some(input)) =
        (session::split(command), input.map_or(Some(None), |i| session::split(i).map(Some)))
    else {
        return Outcome::Failed(2, "unbalanced quotes: close the quote, or escape it with \\".to_owned());
    };
    if let Some(name) = words.first().and_then(|w| w.strip_prefix(':')) {
        return colon::run(session, name, &words[1..], interruptible).await;
    }
    let stdio = match input.as_deref() {
        None => Ok(Stdio { input: Input::Empty, output: Output::Console }),
        Some([path]) => open_input(path),
        Some(_) => Err(RunError::Input {
            path: input.unwrap_or_default().join(" ").into(),
            source: std::io::Error::other("`<` takes one file"),
        }),
    };
    let before = output::written();
    let result = match stdio {
        Ok(stdio) => dispatch(session, &words, &stdio, interruptible).await,
        Err(e) => Err(e),
    };
    match result {
        // After a stream, an empty result adds no empty line.
        Ok(output) if output.is_empty() && output::written() != before => Outcome::Nothing,
        Ok(output) => Outcome::Output(output),
        Err(RunError::Call(CallError::ReaderGone { .. })) => Outcome::Quit,
        Err(e) => Outcome::Failed(e.exit_code(), crate::error::one_line(&e)),
    }
}

/// The stdio of a line with `< PATH`: the file, opened now; it must be a
/// regular file (a FIFO or a device could block the shell where Ctrl-C
/// cannot reach).
fn open_input(path: &str) -> Result<Stdio, RunError> {
    let error = |source| RunError::Input { path: path.into(), source };
    let file = std::fs::File::open(path).map_err(error)?;
    if !file.metadata().map_err(error)?.is_file() {
        return Err(error(std::io::Error::other("not a regular file")));
    }
    Ok(Stdio { input: Input::File(Arc::new(file)), output: Output::Console })
}

/// Run a plugin command with `stdio`; with `interruptible`, Ctrl-C stops
/// it.
pub(crate) async fn dispatch(
    session: &mut Session<'_>,
    words: &[String],
    stdio: &Stdio,
    interruptible: bool,
) -> Result<String, RunError> {
    let cancel = Arc::new(AtomicBool::new(false));
    if !interruptible {
        return session.run(words, stdio, cancel).await;
    }
    let call = session.run(words, stdio, cancel.clone());
    tokio::pin!(call);
    tokio::select! {
        result = &mut call => result,
        _ = tokio::signal::ctrl_c() => {
            // The guest stops at its next epoch tick; a guest waiting on the
            // host is dropped after a grace period.
            cancel.store(true, Ordering::SeqCst);
            let stopped = Instant::now();
            let result = tokio::time::timeout(STOP_GRACE, &mut call).await;
            tracing::debug!("command stopped {:?} after Ctrl-C", stopped.elapsed());
            result.unwrap_or_else(|_| Err(RunError::Interrupted(words[0].clone())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::{parse, settings};
    use crate::settings::Flags;

    #[test]
    fn the_terminal_decides_the_mode_and_json_hides_the_bar() {
        let (home, settings) = settings("", Flags::default());
        let shell = ShellSettings::resolve(parse(&[]), &settings, false, true);
        assert!(shell.interactive && shell.progress);
        assert_eq!(shell.history, home.path().join("shell_history"), "the history is kept in the home");
        let shell = ShellSettings::resolve(parse(&[]), &settings, true, true);
        assert!(shell.interactive && !shell.progress, "--json: no bar");
        let shell = ShellSettings::resolve(parse(&[]), &settings, false, false);
        assert!(!shell.interactive && !shell.progress, "a script from a pipe: results only");
    }
}
