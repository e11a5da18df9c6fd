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

/// `isaac plugins add`, resolved once: the source and its pin, checked
/// before anything is opened or downloaded.
#[derive(Debug)]
struct AddSettings {
    /// Where the plugin comes from.
    source: Source,
    /// The digest a URL's archive must have (`--sha256`); `None`: shown,
    /// then asked.
    pin: Option<String>,
    /// `--force`: replace an installed plugin of the same name.
    force: bool,
    /// `--yes`: grant without asking (never an unpinned URL).
    yes: bool,
}

impl AddSettings {
    fn resolve(args: AddArgs) -> Result<Self, Failure> {
        let source = Source::parse(&args.source)?;
        let pin = pin(&source, sha256(args.sha256.as_deref())?, args.yes)?;
        Ok(AddSettings { source, pin, force: args.force, yes: args.yes })
    }
}

pub fn run(cx: &Context, args: AddArgs) -> Result<u8, Failure> {
    let AddSettings { source, pin, force, yes } = AddSettings::resolve(args)?;
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let (files, provenance) = fetch(host, &runtime, &source, pin.as_deref(), cx.json)?;
    if matches!(source, Source::Url(_)) && pin.is_none() && !confirm_unpinned(&source, &provenance)? {
        crate::say!("nothing installed");
        return Ok(1);
    }
    // Refusing installs nothing.
    if !super::grant::review(host, &files.manifest, yes)? {
        crate::say!("nothing installed");
        return Ok(1);
    }
    let grant = match host.request(&files.manifest).asks_anything() {
        true => GrantAction::Reviewed,
        false => GrantAction::Nothing,
    };
    let options = InstallOptions { force, updating: None, grant, provenance: &provenance };
    let installed = install(cx, host, &runtime, &files, None, &options)?;
    report(cx, &installed, &provenance);
    Ok(0)
}

/// `--sha256 HEX` (or `sha256:HEX`), as a digest.
pub fn sha256(flag: Option<&str>) -> Result<Option<String>, Failure> {
    Ok(flag.map(parse_sha256).transpose().map_err(|e| anyhow::anyhow!("--sha256: {e}"))?)
}

/// `pin`, the digest `--sha256` gave, checked against the source: it pins
/// a URL's archive only; an unpinned URL is refused with `--yes` before
/// anything is downloaded.
pub fn pin(source: &Source, pin: Option<String>, yes: bool) -> Result<Option<String>, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::parse;

    const HEX: &str = "abababababababababababababababababababababababababababababababab";

    fn resolve(words: &[&str]) -> Result<AddSettings, Failure> {
        AddSettings::resolve(parse(words))
    }

    #[test]
    fn a_url_is_pinned_by_the_flag_else_asked() {
        let add = resolve(&["https://example.com/p.tar.gz", "--sha256", &format!("sha256:{HEX}"), "--force"]).unwrap();
        assert!(matches!(add.source, Source::Url(_)));
        assert_eq!(add.pin.as_deref(), Some(HEX));
        assert!(add.force && !add.yes);
        let add = resolve(&["https://example.com/p.tar.gz"]).unwrap();
        assert_eq!(add.pin, None, "no flag: the digest is shown and asked");
        let error = resolve(&["https://example.com/p.tar.gz", "--yes"]).err().unwrap().error.to_string();
        assert!(error.contains("not pinned"), "{error}");
    }

    #[test]
    fn only_a_url_takes_a_sha256_and_it_must_be_one() {
        let error = resolve(&["some/folder", "--sha256", HEX]).err().unwrap().error.to_string();
        assert!(error.contains("pins a URL's archive"), "{error}");
        let add = resolve(&["some/folder", "--yes"]).unwrap();
        assert!(matches!(add.source, Source::Folder(_)) && add.pin.is_none() && add.yes);
        let error = resolve(&["https://example.com/p.tar.gz", "--sha256", "abc"]).err().unwrap().error.to_string();
        assert!(error.starts_with("--sha256:"), "{error}");
    }
}
