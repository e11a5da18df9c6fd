//! `isaac run COMMAND [ARGS...]`

use std::path::PathBuf;

use clap::Args;

use super::{Context, Failure, output};
use crate::host::{RunError, RunOptions};
use crate::pipes::{Output, Stdio};
use crate::sandbox::CallError;

/// Run a plugin command in its own sandbox.
///
/// COMMAND is a command name (`wc`) or `plugin:command` (`wordcount:wc`).
/// Everything after COMMAND goes to the plugin untouched, flags included
/// (`isaac run grep -v x` passes `-v` to the plugin). Exit status: 0 on
/// success, 1 when the command failed, 2 for usage errors.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Let the plugin read this file or directory, for this run only (repeatable;
    /// before COMMAND). A file is shown to the plugin as a read-only copy at the same path.
    #[arg(long = "allow-read", value_name = "PATH")]
    allow_read: Vec<PathBuf>,
    /// The command, then its arguments.
    #[arg(value_name = "COMMAND [ARGS]...", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    words: Vec<String>,
}

impl RunArgs {
    /// The arguments of `run --allow-read PATH... COMMAND ARGS...`.
    pub(super) fn new(allow_read: Vec<PathBuf>, words: Vec<String>) -> Self {
        RunArgs { allow_read, words }
    }

    /// The command word.
    pub fn command(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }
}

pub fn run(cx: &Context, args: RunArgs) -> Result<u8, Failure> {
    let (command, rest) = args.words.split_first().expect("clap requires COMMAND");
    // `--json` collects what the plugin writes into the one JSON object.
    let stdio = Stdio { output: if cx.json { Output::Collect } else { Output::Console }, ..Stdio::console() };
    let options = RunOptions { allow_read: args.allow_read, stdio };
    let before = output::written();
    let result = match cx.host()?.run(command, rest, &options) {
        Ok(result) => result,
        // The reader of our output went away: stop quietly, as `cat` would.
        Err(RunError::Call(CallError::ReaderGone { .. })) => return Ok(SIGPIPE_STATUS),
        // A WASI command's own status: it said why on stderr.
        Err(e @ RunError::Call(CallError::Exit { .. })) if !cx.json => return Ok(e.exit_code()),
        Err(e) => return Err(Failure { code: e.exit_code(), error: e.into() }),
    };
    if cx.json {
        output::json(&serde_json::json!({ "command": command, "output": result }));
    } else if !result.is_empty() || output::written() == before {
        // After a stream, an empty result adds no empty line.
        output::line(&result);
    }
    Ok(0)
}

/// The status of a Unix tool killed by `SIGPIPE` (128 + 13).
const SIGPIPE_STATUS: u8 = 141;
