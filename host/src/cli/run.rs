//! `isaac run COMMAND [ARGS...]`

use clap::Args;

use super::{Failure, Settings, output};
use crate::host::{Host, HostOptions};

/// Run a plugin command in its own sandbox.
///
/// COMMAND is a command name (`wc`) or `plugin:command` (`wordcount:wc`).
/// Everything after COMMAND goes to the plugin untouched, flags included
/// (`isaac run grep -v x` passes `-v` to the plugin). Exit status: 0 on
/// success, 1 when the command failed, 2 for usage errors.
#[derive(Debug, Args)]
pub struct RunArgs {
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

pub fn run(settings: &Settings, args: RunArgs) -> Result<u8, Failure> {
    let (command, rest) = args.words.split_first().expect("clap requires COMMAND");
    let runtime = super::runtime()?;
    // One call needs one instance: on-demand allocation costs ~3 µs to set
    // up against ~390 µs for reserving the pool (benches/loading.rs, `engine`).
    let host = Host::open(HostOptions { pooling: false, ..settings.host_options() })?;
    match runtime.block_on(host.run(command, rest)) {
        Ok(result) if settings.json => {
            output::json(&serde_json::json!({ "command": command, "output": result }));
            Ok(0)
        }
        Ok(result) => {
            output::line(&result);
            Ok(0)
        }
        Err(e) => Err(Failure { code: e.exit_code(), error: e.into() }),
    }
}
