//! `isaac plugins add SOURCE [--sha256 HEX] [--force] [--yes]`

use std::io::IsTerminal;

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::host::{GrantAction, Host, InstallOptions, Installed, PluginFiles, Staged};
use crate::sources::{Provenance, Source, parse_sha256};

/// Check and compile a plugin, then copy it into $ISAAC_HOME/plugins/NAME/.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// A plugin folder (or a .wasm component with a plugin.toml beside it),
    /// an https:// URL of a .tar.gz of a plugin folder, or
    /// oci://REGISTRY/REPO:TAG (or …@sha256:DIGEST).
    source: String,
    /// The sha256 the URL's archive must have (hex, or sha256:HEX). Without
    /// it the digest is shown and you are asked to confirm.
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
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
    let source = Source::parse(&args.source)?;
    let pin = pin(&source, args.sha256.as_deref(), args.yes)?;
    let (files, provenance) = fetch(host, &runtime, &source, pin.as_deref(), cx.json)?;
    if matches!(source, Source::Url(_)) && pin.is_none() && !confirm_unpinned(&source, &provenance)? {
        crate::say!("nothing installed");
        return Ok(1);
    }
    // Refusing installs nothing.
    if !super::grant::review(host, &files.manifest, args.yes)? {
        crate::say!("nothing installed");
        return Ok(1);
    }
    let grant = match host.request(&files.manifest).asks_anything() {
        true => GrantAction::Reviewed,
        false => GrantAction::Nothing,
    };
    let options = InstallOptions { force: args.force, updating: None, grant, provenance: &provenance };
    let installed = install(cx, host, &runtime, &files, None, &options)?;
    report(cx, &installed, &provenance);
    Ok(0)
}

/// The pin of a URL's archive, checked against the source; an unpinned URL
/// is refused with `--yes` before anything is downloaded.
pub fn pin(source: &Source, sha256: Option<&str>, yes: bool) -> Result<Option<String>, Failure> {
    let pin = sha256.map(parse_sha256).transpose().map_err(|e| anyhow::anyhow!("--sha256: {e}"))?;
    match source {
        Source::Url(url) if pin.is_none() && yes => Err(anyhow::anyhow!(
            "{url} is not pinned: --yes does not install an unpinned URL; add --sha256 HEX (the archive's digest, from its publisher)"
        )
        .into()),
        Source::Url(_) => Ok(pin),
        _ if pin.is_some() => Err(anyhow::anyhow!(
            "--sha256 pins a URL's archive; pin an OCI reference with @sha256:DIGEST (a folder needs no pin)"
        )
        .into()),
        _ => Ok(None),
    }
}

/// Fetch `source`, with a progress bar of the download on a terminal.
pub fn fetch(
    host: &Host,
    runtime: &tokio::runtime::Runtime,
    source: &Source,
    pin: Option<&str>,
    json: bool,
) -> Result<(PluginFiles, Provenance), Failure> {
    let bar = match source {
        Source::Folder(_) => output::download_bar("", true),
        _ => output::download_bar(&format!("fetching {source}"), json),
    };
    let progress = |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let result = runtime.block_on(host.fetch(source, pin, &progress));
    bar.finish_and_clear();
    Ok(result?)
}

/// Show an unpinned URL's digest and ask whether to go on.
pub fn confirm_unpinned(source: &Source, provenance: &Provenance) -> Result<bool, Failure> {
    let digest = provenance.digest.trim_start_matches("sha256:");
    crate::say!("{source} is not pinned; the archive downloaded has sha256 {digest}");
    if !std::io::stdin().is_terminal() {
        return Err(anyhow::anyhow!(
            "check that digest with the plugin's publisher, then add --sha256 {digest}; nothing was installed"
        )
        .into());
    }
    Ok(super::grant::confirm("install it?")?)
}

/// Install, with a progress line while it compiles.
pub fn install(
    cx: &Context,
    host: &Host,
    runtime: &tokio::runtime::Runtime,
    files: &PluginFiles,
    staged: Option<Staged>,
    options: &InstallOptions<'_>,
) -> Result<Installed, Failure> {
    let bar = output::progress(1, &format!("compiling {}", files.manifest.name), cx.json);
    let result = match staged {
        Some(staged) => runtime.block_on(host.install_staged(files, staged, options)),
        None => runtime.block_on(host.install_files(files, options)),
    };
    bar.finish_and_clear();
    let installed = result?;
    if let Some(old) = &installed.replaced_origin {
        crate::say!(
            "notice: `{}` replaced the one installed from {old}; its grant and cached data were dropped",
            installed.plugin.name
        );
    }
    for command in &installed.shared_commands {
        crate::say!(
            "warning: another plugin also offers `{command}`; run this one as `{}:{command}`",
            installed.plugin.name
        );
    }
    Ok(installed)
}

fn report(cx: &Context, installed: &Installed, provenance: &Provenance) {
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
            "source": provenance,
        }));
    } else {
        let verb = if installed.replaced { "replaced" } else { "installed" };
        output::line(&format!(
            "{verb} {} {} ({}; compiled in {:.0} ms) from {} ({})",
            plugin.name,
            plugin.manifest.version,
            commands.join(", "),
            plugin.load_time.as_secs_f64() * 1e3,
            provenance.location,
            provenance.digest
        ));
    }
}
