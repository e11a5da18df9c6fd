//! `isaac cache ...`: the three-tier cache from the command line, in the
//! user's own namespace, or a plugin's with `--plugin NAME`.

mod get;
mod stats;
mod warm;
mod write;

use clap::{Args, Subcommand};

use super::{Context, Failure};
use crate::cache::Namespace;

/// Read, write, invalidate and inspect the cache.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the value at KEY (exit status 1 when there is none).
    Get(get::GetArgs),
    /// Set KEY to VALUE (default TTL, or --ttl SECONDS, or --never).
    Set(write::SetArgs),
    /// Add DELTA (default 1, may be negative) to the integer at KEY, atomically, and print the sum.
    Incr(write::IncrArgs),
    /// Delete KEY (exit status 1 when there was none).
    Delete(write::DeleteArgs),
    /// Remove every key matching a glob PATTERN (`*`, `?`, `\` escapes), on every tier.
    Invalidate(write::InvalidateArgs),
    /// Remove every key of the namespace.
    Clear(write::ClearArgs),
    /// Hits per tier, misses, hit rates, sizes: totals over every isaac process.
    Stats(stats::StatsArgs),
    /// Load the most used keys from disk (L3) into memory, and report.
    Warm(warm::WarmArgs),
}

/// Whose keys a command works on.
#[derive(Debug, Args)]
pub struct NamespaceArg {
    /// Work on plugin NAME's keys instead of your own.
    #[arg(long, value_name = "NAME")]
    plugin: Option<String>,
}

impl NamespaceArg {
    fn namespace(&self) -> Result<Namespace, Failure> {
        match &self.plugin {
            None => Ok(Namespace::user()),
            Some(name) => {
                crate::manifest::check_name(name).map_err(|why| Failure { code: 2, error: anyhow::anyhow!(why) })?;
                Ok(Namespace::plugin(name))
            }
        }
    }
}

pub fn run(cx: &Context, command: CacheCommand) -> Result<u8, Failure> {
    match command {
        CacheCommand::Get(args) => get::run(cx, args),
        CacheCommand::Set(args) => write::set(cx, args),
        CacheCommand::Incr(args) => write::incr(cx, args),
        CacheCommand::Delete(args) => write::delete(cx, args),
        CacheCommand::Invalidate(args) => write::invalidate(cx, args),
        CacheCommand::Clear(args) => write::clear(cx, args),
        CacheCommand::Stats(args) => stats::run(cx, args),
        CacheCommand::Warm(args) => warm::run(cx, args),
    }
}
