//! `isaac plugins grant NAME`, and the review shared with `plugins add`.

use std::io::{BufRead, IsTerminal};

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::host::Host;
use crate::manifest::Manifest;
use crate::terminal::{self, Lines};

/// Grant an installed plugin what its manifest asks for, pinned to its
/// current component (needed again after the component changes).
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The plugin's name.
    name: String,
    /// Grant without asking.
    #[arg(long)]
    yes: bool,
}

/// Show what `manifest` asks for and ask the user to grant it (`yes`: grant
/// without asking). `Ok(true)`: granted or nothing to grant.
pub fn review(host: &Host, manifest: &Manifest, yes: bool) -> Result<bool, Failure> {
    let request = host.request(manifest);
    if !request.asks_anything() {
        return Ok(true);
    }
    let plugin = || format!("plugin `{}`", manifest.name);
    request
        .grant_dirs(host.protected(), host.settings().user_home())
        .map_err(|why| anyhow::Error::new(why).context(plugin()))?;
    // The manifest's strings hold no control characters (refused when it was
    // parsed); the sanitiser also shows any bidirectional or zero-width one.
    let version = terminal::sanitize(&manifest.version, Lines::One);
    crate::say!("plugin `{}` {version} asks for:", manifest.name);
    for line in crate::capabilities::describe(&request) {
        crate::say!("  - {}", terminal::sanitize(&line, Lines::One));
    }
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(anyhow::anyhow!(
            "plugin `{}` asks for permissions: review them above and add --yes to grant them",
            manifest.name
        )
        .into());
    }
    Ok(confirm("grant these permissions?")?)
}

/// Ask `question` on the terminal; `Ok(true)` for yes.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    crate::console::prompt(format_args!("{question} [y/N] "));
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn run(cx: &Context, args: GrantArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let catalog = runtime.block_on(host.catalog())?;
    let entry = catalog.entry(&args.name).ok_or_else(|| {
        anyhow::anyhow!("plugin `{}` is not installed (`isaac plugins list` shows what is)", args.name)
    })?;
    if !host.request(&entry.manifest).asks_anything() {
        output::line(&format!("plugin `{}` asks for nothing; there is nothing to grant", args.name));
        return Ok(0);
    }
    if !review(host, &entry.manifest, args.yes)? {
        crate::say!("nothing granted");
        return Ok(1);
    }
    let grant = runtime.block_on(host.grant(&args.name))?;
    if cx.json {
        output::json(&serde_json::to_value(&grant)?);
    } else {
        output::line(&format!("granted {} (pinned to {})", args.name, &grant.sha256[..16]));
    }
    Ok(0)
}
