//! `isaac plugins add PATH [--force]`

use std::path::PathBuf;

use clap::Args;

use crate::cli::{Context, Failure, output};

/// Check and compile a plugin, then copy it into $ISAAC_HOME/plugins/NAME/.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A plugin folder, or a .wasm component with a plugin.toml beside it.
    path: PathBuf,
    /// Replace an installed plugin of the same name (an upgrade).
    #[arg(long)]
    force: bool,
    /// Grant every permission the plugin asks for, without asking (for scripts).
    #[arg(long)]
    yes: bool,
}

pub fn run(cx: &Context, args: AddArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    // Read once: what is reviewed is what is installed and granted.
    let files = host.read_plugin(&args.path)?;
    // Refusing installs nothing.
    if !super::grant::review(host, &files.manifest, args.yes)? {
        eprintln!("nothing installed");
        return Ok(1);
    }
    let grant = host.request(&files.manifest).asks_anything();
    let bar = output::progress(1, &format!("compiling {}", args.path.display()), cx.json);
    let result = runtime.block_on(host.install_files(&files, args.force, grant));
    bar.finish_and_clear();
    let installed = result?;
    let plugin = &installed.plugin;
    let commands: Vec<&str> = plugin.meta.commands.iter().map(|c| c.name.as_str()).collect();
    if cx.json {
        output::json(&serde_json::json!({
            "name": plugin.name,
            "version": plugin.manifest.version,
            "commands": commands,
            "replaced": installed.replaced,
            "from_cache": plugin.from_cache,
            "load_ms": plugin.load_time.as_secs_f64() * 1e3,
            "shared_commands": installed.shared_commands,
        }));
    } else {
        let verb = if installed.replaced { "replaced" } else { "installed" };
        output::line(&format!(
            "{verb} {} {} ({}; compiled in {:.0} ms)",
            plugin.name,
            plugin.manifest.version,
            commands.join(", "),
            plugin.load_time.as_secs_f64() * 1e3
        ));
    }
    for command in &installed.shared_commands {
        eprintln!("warning: another plugin also offers `{command}`; run this one as `{}:{command}`", plugin.name);
    }
    Ok(0)
}
