//! `isaac plugins update [NAME] [--dry-run] [--yes] [--sha256 HEX]`

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::grants::Request;
use crate::host::{GrantAction, Host, InstallOptions, LoadedPlugin};
use crate::index::IndexEntry;
use crate::sources::{Source, oci};

/// Fetch installed plugins again from where they came from, show what
/// changed (version, commands, permissions asked), and install the new
/// version. The grant moves to the new component when the permissions and
/// limits asked are unchanged; otherwise they are reviewed again.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The plugin to update; every plugin with a recorded source when omitted.
    name: Option<String>,
    /// Show what would change; install nothing.
    #[arg(long)]
    dry_run: bool,
    /// Grant what a new version asks for without asking.
    #[arg(long)]
    yes: bool,
    /// The sha256 a URL's new archive must have (with NAME).
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
}

/// What happened to one plugin.
enum Outcome {
    UpToDate,
    Pinned,
    NoSource,
    Updated,
    Refused,
}

pub fn run(cx: &Context, args: UpdateArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let catalog = runtime.block_on(host.catalog())?;
    if args.sha256.is_some() && args.name.is_none() {
        return Err(anyhow::anyhow!("--sha256 pins one plugin's archive: name the plugin").into());
    }
    let names: Vec<String> = match &args.name {
        Some(name) => vec![name.clone()],
        None => host.installed(),
    };
    let mut results = Vec::new();
    let mut failed = false;
    for name in names {
        let result = match catalog.entry(&name) {
            Some(entry) => update_one(cx, host, &runtime, &name, entry, &args),
            None => {
                Err(anyhow::anyhow!("plugin `{name}` is not installed (`isaac plugins list` shows what is)").into())
            }
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(failure) if args.name.is_none() => {
                eprintln!("error: {name}: {}", crate::error::one_line(failure.error.as_ref()));
                failed = true;
                continue;
            }
            Err(failure) => return Err(failure),
        };
        failed |= matches!(outcome, Outcome::Refused);
        let status = match outcome {
            Outcome::UpToDate => "up to date",
            Outcome::Pinned => "pinned",
            Outcome::NoSource => "no recorded source",
            Outcome::Updated if args.dry_run => "would update",
            Outcome::Updated => "updated",
            Outcome::Refused => "not updated",
        };
        results.push(serde_json::json!({ "name": name, "status": status }));
    }
    if cx.json {
        output::json(&serde_json::Value::Array(results));
    }
    Ok(u8::from(failed))
}

fn update_one(
    cx: &Context,
    host: &Host,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    entry: &IndexEntry,
    args: &UpdateArgs,
) -> Result<Outcome, Failure> {
    let say = |text: String| {
        if !cx.json {
            output::plugin_text(&text);
        }
    };
    let Some(recorded) = host.sources().get(name)? else {
        say(format!(
            "{name}: no recorded source (placed by hand, or installed by an older isaac); install it again with `isaac plugins add SOURCE --force`"
        ));
        return Ok(Outcome::NoSource);
    };
    let source = Source::of(&recorded)?;
    if source.pinned() {
        say(format!("{name}: pinned to {}; to move on, add a new reference with --force", recorded.digest));
        return Ok(Outcome::Pinned);
    }
    if let Source::Oci(reference) = &source {
        let limits = crate::sources::DownloadLimits::from(&host.config().downloads);
        if runtime.block_on(oci::resolve(reference, &limits))? == recorded.digest {
            say(format!("{name}: up to date ({source})"));
            return Ok(Outcome::UpToDate);
        }
    }
    let pin = super::add::pin(&source, args.sha256.as_deref(), false)?;
    let (files, provenance) = super::add::fetch(host, runtime, &source, pin.as_deref(), cx.json)?;
    let installed_sha = entry.status.as_ref().map(|m| m.sha256.as_str()).unwrap_or_default();
    if files.sha256 == installed_sha && files.manifest == entry.manifest {
        say(format!("{name}: up to date ({source})"));
        return Ok(Outcome::UpToDate);
    }
    let new = runtime.block_on(host.preview(&files))?;
    let old_request = host.request(&entry.manifest);
    let new_request = host.request(&files.manifest);
    say(changes(name, entry, &new, &old_request, &new_request));
    if args.dry_run {
        return Ok(Outcome::Updated);
    }
    let unpinned_changed = matches!(source, Source::Url(_)) && pin.is_none() && provenance.digest != recorded.digest;
    if unpinned_changed && (args.yes || !super::add::confirm_unpinned(&source, &provenance)?) {
        if args.yes {
            eprintln!(
                "{name}: {source} now serves other bytes (sha256 {}); check them and pin them with --sha256",
                provenance.digest
            );
        }
        return Ok(Outcome::Refused);
    }
    let grant = if new_request == old_request {
        GrantAction::Carry
    } else if super::grant::review(host, &files.manifest, args.yes)? {
        GrantAction::Reviewed
    } else {
        eprintln!("{name}: not updated");
        return Ok(Outcome::Refused);
    };
    let options = InstallOptions { force: true, grant, provenance: &provenance };
    let installed = super::add::install(cx, host, runtime, &files, &options)?;
    if grant == GrantAction::Carry && installed.granted {
        eprintln!("notice: {name} asks for the same permissions: its grant moved to the new component");
    }
    say(format!("{name}: updated to {} ({})", files.manifest.version, provenance.digest));
    Ok(Outcome::Updated)
}

/// What differs between the installed version and `new`.
fn changes(name: &str, entry: &IndexEntry, new: &LoadedPlugin, old: &Request, asked: &Request) -> String {
    let mut text = format!("{name}: {} -> {}\n", entry.manifest.version, new.manifest.version);
    let old_commands: Vec<&str> =
        entry.status.as_ref().map(|m| m.commands.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
    let new_commands: Vec<&str> = new.meta.commands.iter().map(|c| c.name.as_str()).collect();
    let diff = |before: &[&str], after: &[&str], what: &str, text: &mut String| {
        for gone in before.iter().filter(|c| !after.contains(c)) {
            text.push_str(&format!("  - {what} {gone}\n"));
        }
        for added in after.iter().filter(|c| !before.contains(c)) {
            text.push_str(&format!("  + {what} {added}\n"));
        }
    };
    diff(&old_commands, &new_commands, "command", &mut text);
    let before = old.describe();
    let after = asked.describe();
    let before: Vec<&str> = before.iter().map(String::as_str).collect();
    let after: Vec<&str> = after.iter().map(String::as_str).collect();
    diff(&before, &after, "asks for", &mut text);
    if old == asked {
        text.push_str("  permissions asked: unchanged\n");
    }
    text.trim_end().to_owned()
}
