//! `isaac run COMMAND [ARGS...]`

use std::path::PathBuf;

use clap::Args;

use super::{Context, Failure, output};
use crate::host::RunOptions;

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
    /// The command word.
    pub fn command(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }
}

pub fn run(cx: &Context, args: RunArgs) -> Result<u8, Failure> {
    let (command, rest) = args.words.split_first().expect("clap requires COMMAND");
    let options = RunOptions { allow_read: args.allow_read };
    let result =
        cx.host()?.run(command, rest, &options).map_err(|e| Failure { code: e.exit_code(), error: e.into() })?;
    if cx.json {
        output::json(&serde_json::json!({ "command": command, "output": result }));
    } else {
        output::line(&result);
    }
    Ok(0)
}
