//! `isaac run COMMAND [ARGS...]`

use std::path::{Path, PathBuf};

use clap::Args;

use super::{Context, Failure, output};
use crate::capabilities::wasi::WasiDir;
use crate::dirs::DirIdentity;

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
    // A timer is all most calls need; the I/O driver (an epoll instance,
    // its wakers) only for a plugin granted the network.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let (allow_read, _copies) = allow_read(&args.allow_read)?;
    let host = cx.host_with(allow_read)?;
    for dir in host.allow_read() {
        host.protected()
            .check(&dir.guest, &dir.identity.path)
            .map_err(|why| anyhow::anyhow!("--allow-read {}: {why}", dir.guest))?;
    }
    let fail = |e: crate::RunError| Failure { code: e.exit_code(), error: e.into() };
    let (plugin, resolved) = runtime.block_on(host.prepare(command)).map_err(fail)?;
    let call = plugin.run(&resolved, rest);
    let result = if plugin.needs_io() { super::runtime()?.block_on(call) } else { runtime.block_on(call) };
    let result = result.map_err(fail)?;
    if cx.json {
        output::json(&serde_json::json!({ "command": command, "output": result }));
    } else {
        output::line(&result);
    }
    Ok(0)
}

/// Directories to map read-only for `--allow-read`: a directory as itself, a
/// file as a read-only copy in a temporary directory mapped at the file's
/// own folder (so the plugin sees it at the path the user typed, and nothing
/// beside it). The copies live as long as the returned guards.
/// Directory maps (identity taken now, guest path) and the temporary copies
/// behind them.
type ReadGrants = (Vec<WasiDir>, Vec<tempfile::TempDir>);

fn allow_read(paths: &[PathBuf]) -> Result<ReadGrants, Failure> {
    let (mut maps, mut copies) = (Vec::new(), Vec::new());
    let identity = |dir: &Path, named: &Path| {
        DirIdentity::of(dir).map_err(|e| anyhow::anyhow!("--allow-read {}: {e}", named.display()))
    };
    for path in paths {
        let real = path.canonicalize().map_err(|e| anyhow::anyhow!("--allow-read {}: {e}", path.display()))?;
        if real.is_dir() {
            let guest = path.display().to_string();
            maps.push(WasiDir { identity: identity(&real, path)?, guest, write: false });
            continue;
        }
        let copy = tempfile::tempdir()?;
        let name = path.file_name().ok_or_else(|| anyhow::anyhow!("--allow-read {}: not a file", path.display()))?;
        std::fs::copy(&real, copy.path().join(name))?;
        let guest = match path.parent().map(|p| p.display().to_string()) {
            Some(parent) if !parent.is_empty() => parent,
            _ => ".".to_owned(),
        };
        maps.push(WasiDir { identity: identity(copy.path(), path)?, guest, write: false });
        copies.push(copy);
    }
    Ok((maps, copies))
}
