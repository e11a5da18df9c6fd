//! `isaac plugins remove NAME`

use clap::Args;

use crate::cache::Namespace;
use crate::cli::{Context, Failure, output};

/// Uninstall a plugin: its folder, its compiled code and its index entry.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The plugin's name.
    name: String,
    /// Also delete the plugin's cache namespace (its notes, its data).
    #[arg(long)]
    purge: bool,
}

pub fn run(cx: &Context, args: RemoveArgs) -> Result<u8, Failure> {
    let host = cx.host()?;
    host.remove(&args.name)?;
    let purged = if args.purge { Some(host.cache().purge(&Namespace::plugin(&args.name))?) } else { None };
    if cx.json {
        output::json(&serde_json::json!({ "removed": args.name, "purged_keys": purged }));
    } else {
        output::line(&format!("removed {}", args.name));
        if let Some(n) = purged {
            output::line(&format!("deleted {n} cache entries of {}", args.name));
        }
    }
    Ok(0)
}
