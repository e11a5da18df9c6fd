//! `isaac cache warm [--top N]`

use clap::Args;

use super::NamespaceArg;
use crate::cli::{Context, Failure, output};

/// Load the most used keys of the namespace from disk (L3) into memory and
/// report how many were there. (Plugins and the library can also produce
/// missing values with a generator; from the command line there is none.)
#[derive(Debug, Args)]
pub struct WarmArgs {
    /// How many of the most used keys.
    #[arg(long, default_value_t = 100)]
    top: usize,
    #[command(flatten)]
    namespace: NamespaceArg,
}

pub fn run(cx: &Context, args: WarmArgs) -> Result<u8, Failure> {
    let namespace = args.namespace.namespace()?;
    let host = cx.host()?;
    let report = host.cache().warmup(&namespace, args.top, |_| None)?;
    if cx.json {
        output::json(&serde_json::to_value(report)?);
    } else {
        output::line(&format!(
            "{} most used keys: {} already in memory, {} loaded from disk, {} missing (expired or deleted)",
            report.considered, report.in_memory, report.loaded, report.missing
        ));
    }
    Ok(0)
}
