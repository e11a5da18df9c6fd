//! `isaac plugins update [NAME] [--dry-run] [--yes] [--sha256 HEX]`

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::grants::Request;
use crate::host::{Catalog, GrantAction, Host, InstallError, InstallOptions, taken_commands};
use crate::index::{CommandEntry, IndexEntry};
use crate::manifest::Manifest;
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

/// `isaac plugins update`, resolved once; its flags checked before the
/// host is opened.
#[derive(Debug)]
struct UpdateSettings {
    /// The one plugin named; `None`: every installed plugin.
    name: Option<String>,
    /// The digest the named plugin's new archive must have (`--sha256`).
    pin: Option<String>,
    /// `--dry-run`: show, install nothing.
    dry_run: bool,
    /// `--yes`: grant what a new version asks without asking.
    yes: bool,
}

impl UpdateSettings {
    fn resolve(args: UpdateArgs) -> Result<Self, Failure> {
        if args.sha256.is_some() && args.name.is_none() {
            return Err(anyhow::anyhow!("--sha256 pins one plugin's archive: name the plugin").into());
        }
        let pin = super::add::sha256(args.sha256.as_deref())?;
        Ok(UpdateSettings { name: args.name, pin, dry_run: args.dry_run, yes: args.yes })
    }
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
    let update = UpdateSettings::resolve(args)?;
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let catalog = runtime.block_on(host.catalog())?;
    let names: Vec<String> = match &update.name {
        Some(name) => vec![name.clone()],
        None => host.installed(),
    };
    let mut results = Vec::new();
    let mut failed = false;
    for name in names {
        let result = match catalog.entry(&name) {
            Some(entry) => update_one(cx, host, &runtime, &catalog, &name, entry, &update),
            None => {
                Err(anyhow::anyhow!("plugin `{name}` is not installed (`isaac plugins list` shows what is)").into())
            }
        };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(failure) if update.name.is_none() => {
                crate::say!("error: {name}: {}", crate::error::one_line(failure.error.as_ref()));
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
            Outcome::Updated if update.dry_run => "would update",
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
    catalog: &Catalog,
    name: &str,
    entry: &IndexEntry,
    update: &UpdateSettings,
) -> Result<Outcome, Failure> {
    let say = |text: String| {
        if !cx.json {
            output::line(&text);
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
        let limits = host.settings().downloads();
        if runtime.block_on(oci::resolve(reference, limits))? == recorded.digest {
            say(format!("{name}: up to date ({source})"));
            return Ok(Outcome::UpToDate);
        }
    }
    let pin = super::add::pin(&source, update.pin.clone(), false)?;
    let (files, provenance) = super::add::fetch(host, runtime, &source, pin.as_deref(), cx.json)?;
    // What was fetched names itself: an update of `name` must be `name`
    // (else it would replace, and take the grant and data of, another one).
    if files.manifest.name != name {
        let error = InstallError::NameChanged { installed: name.to_owned(), new: files.manifest.name.clone() };
        return Err(anyhow::Error::from(error).into());
    }
    let installed_sha = entry.status.as_ref().map(|m| m.sha256.as_str()).unwrap_or_default();
    if files.sha256 == installed_sha && files.manifest == entry.manifest {
        say(format!("{name}: up to date ({source})"));
        return Ok(Outcome::UpToDate);
    }
    let staged = runtime.block_on(host.preview(&files))?;
    let taken = taken_commands(catalog, name, &staged.plugin);
    if !taken.is_empty() {
        let error = InstallError::TakesCommands { name: name.to_owned(), commands: taken };
        return Err(anyhow::Error::from(error).into());
    }
    let old_request = host.request(&entry.manifest);
    let new_request = host.request(&files.manifest);
    let installed_digest = entry.status.as_ref().map(|m| m.sha256.as_str()).unwrap_or("?");
    let before = Reviewed::of(
        &entry.manifest,
        entry.status.as_ref().ok().map(|m| &m.commands[..]),
        &old_request,
        installed_digest,
    );
    let after = Reviewed::of(&files.manifest, Some(&staged.plugin.meta.commands), &new_request, &files.sha256);
    say(changes(name, &before, &after));
    if update.dry_run {
        return Ok(Outcome::Updated);
    }
    let unpinned_changed = matches!(source, Source::Url(_)) && pin.is_none() && provenance.digest != recorded.digest;
    if unpinned_changed && (update.yes || !super::add::confirm_unpinned(&source, &provenance)?) {
        if update.yes {
            crate::say!(
                "{name}: {source} now serves other bytes (sha256 {}); check them and pin them with --sha256",
                provenance.digest
            );
        }
        return Ok(Outcome::Refused);
    }
    let grant = if new_request == old_request {
        GrantAction::Carry
    } else if super::grant::review(host, &files.manifest, update.yes)? {
        GrantAction::Reviewed
    } else {
        crate::say!("{name}: not updated");
        return Ok(Outcome::Refused);
    };
    let options = InstallOptions { force: true, updating: Some(name), grant, provenance: &provenance };
    let installed = super::add::install(cx, host, runtime, &files, Some(staged), &options)?;
    if grant == GrantAction::Carry && installed.granted {
        crate::say!("notice: {name} asks for the same permissions: its grant moved to the new component");
    }
    say(format!("{name}: updated to {} ({})", files.manifest.version, provenance.digest));
    Ok(Outcome::Updated)
}

/// Everything the user reviews about one version of a plugin, as lines
/// of `field: value` (a list field gives one line per item).
struct Reviewed {
    fields: Vec<(&'static str, String)>,
}

impl Reviewed {
    fn of(manifest: &Manifest, commands: Option<&[CommandEntry]>, request: &Request, sha256: &str) -> Self {
        let mut fields = vec![
            ("name", manifest.name.clone()),
            ("version", manifest.version.clone()),
            ("description", manifest.description.clone()),
            (
                "component",
                manifest.component.as_ref().map_or_else(|| "(the only .wasm)".into(), |c| c.display().to_string()),
            ),
            ("component sha256", sha256.to_owned()),
        ];
        for c in commands.unwrap_or_default() {
            fields.push(("command", format!("{}: {} (usage: {})", c.name, c.summary, c.usage)));
        }
        for (command, tool) in &manifest.tools {
            fields.push(("tool schema", format!("{command}: {}", tool.input_schema)));
        }
        for line in crate::capabilities::describe(request) {
            fields.push(("asks for", line));
        }
        Reviewed { fields }
    }
}

/// Every reviewed field that differs between the installed version and
/// the new one: `-` what goes, `+` what comes.
fn changes(name: &str, before: &Reviewed, after: &Reviewed) -> String {
    let version =
        |r: &Reviewed| r.fields.iter().find(|(f, _)| *f == "version").map_or("?", |(_, v)| v.as_str()).to_owned();
    let mut text = format!("{name}: {} -> {}\n", version(before), version(after));
    for (field, value) in before.fields.iter().filter(|f| !after.fields.contains(f)) {
        text.push_str(&format!("  - {field} {value}\n"));
    }
    for (field, value) in after.fields.iter().filter(|f| !before.fields.contains(f)) {
        text.push_str(&format!("  + {field} {value}\n"));
    }
    let asks = |r: &Reviewed| r.fields.iter().filter(|(f, _)| *f == "asks for").cloned().collect::<Vec<_>>();
    if asks(before) == asks(after) {
        text.push_str("  permissions asked: unchanged\n");
    }
    text.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::parse;

    #[test]
    fn a_pin_needs_a_name_and_is_a_digest() {
        let hex = "cd".repeat(32);
        let update = UpdateSettings::resolve(parse(&["hello", "--sha256", &hex, "--dry-run"])).unwrap();
        assert_eq!((update.name.as_deref(), update.pin.as_deref()), (Some("hello"), Some(hex.as_str())));
        assert!(update.dry_run && !update.yes);
        let update = UpdateSettings::resolve(parse(&["--yes"])).unwrap();
        assert!(update.name.is_none() && update.pin.is_none() && update.yes, "no name: every plugin");
        let error = UpdateSettings::resolve(parse(&["--sha256", &hex])).unwrap_err().error.to_string();
        assert!(error.contains("name the plugin"), "{error}");
        let error = UpdateSettings::resolve(parse(&["hello", "--sha256", "x"])).unwrap_err().error.to_string();
        assert!(error.starts_with("--sha256:"), "{error}");
    }
}
