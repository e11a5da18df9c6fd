//! `isaac plugins remove NAME`

use clap::Args;

use crate::cli::{Failure, Settings, output};
use crate::host::Host;

/// Uninstall a plugin: its folder, its compiled code and its index entry.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The plugin's name.
    name: String,
}

pub fn run(settings: &Settings, args: RemoveArgs) -> Result<u8, Failure> {
    let host = Host::open(settings.host_options())?;
    host.remove(&args.name)?;
    if settings.json {
        output::json(&serde_json::json!({ "removed": args.name }));
    } else {
        output::line(&format!("removed {}", args.name));
    }
    Ok(0)
}
