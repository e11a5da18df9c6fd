//! `isaac dev FOLDER [-- COMMAND ARGS...]`: build, install, run; again on
//! every save.

use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use notify::{RecursiveMode, Watcher};

use super::{Context, Failure, output};
use crate::host::{GrantAction, Host, InstallOptions};
use crate::sources::Source;

/// Build a plugin folder with its build.sh (as `isaac new` writes it),
/// install it into this home (replacing the last dev build, keeping its
/// grant while the permissions asked are unchanged), run COMMAND; then watch
/// the folder and do it all again on every save, until Ctrl-C. A broken
/// build or a plugin that does not load leaves the last working install.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The plugin folder: its build.sh builds it into dist/.
    folder: PathBuf,
    /// The command to run after each install, and its arguments (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
    /// Grant what the plugin asks for without asking, also when it changes.
    #[arg(long)]
    yes: bool,
    /// Build, install and run once, without watching.
    #[arg(long)]
    once: bool,
}

/// Folders whose changes are build outputs, not edits.
const IGNORED: [&str; 8] = ["dist", "target", "node_modules", "__pycache__", ".git", "zig-out", ".zig-cache", "build"];

/// Saves closer together than this are one.
const SETTLE: Duration = Duration::from_millis(300);

pub fn run(cx: &Context, args: DevArgs) -> Result<u8, Failure> {
    let folder = args.folder.canonicalize().map_err(|e| anyhow::anyhow!("{}: {e}", args.folder.display()))?;
    let script = folder.join("build.sh");
    if !script.is_file() {
        return Err(anyhow::anyhow!(
            "{} has no build.sh: isaac dev runs it to build the plugin into dist/ (`isaac new` writes one)",
            folder.display()
        )
        .into());
    }
    let host = cx.host()?;
    let runtime = super::runtime()?;
    let round = |cx: &Context| cycle(cx, host, &runtime, &folder, &args);
    let mut ok = round(cx);
    if args.once {
        return Ok(u8::from(!ok));
    }
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.send(event.paths);
        }
    })
    .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", folder.display()))?;
    watcher
        .watch(&folder, RecursiveMode::Recursive)
        .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", folder.display()))?;
    crate::say!("watching {} (Ctrl-C ends)", folder.display());
    while let Ok(paths) = rx.recv() {
        if !paths.iter().any(|p| is_source(&folder, p)) {
            for path in &paths {
                tracing::debug!("no build: {} is a build output", path.strip_prefix(&folder).unwrap_or(path).display());
            }
            continue;
        }
        // Let a save (or a formatter after it) finish.
        while rx.recv_timeout(SETTLE).is_ok() {}
        ok = round(cx);
    }
    Ok(u8::from(!ok))
}

/// Whether a change at `path` is an edit of the plugin's sources.
fn is_source(folder: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(folder).unwrap_or(path);
    !relative.components().any(|c| matches!(c, Component::Normal(n) if IGNORED.iter().any(|i| n == *i)))
}

/// Build, install, run once; whether all went well.
fn cycle(cx: &Context, host: &Host, runtime: &tokio::runtime::Runtime, folder: &Path, args: &DevArgs) -> bool {
    let started = Instant::now();
    crate::say!("── building {}", folder.display());
    match Command::new("bash").arg(folder.join("build.sh")).current_dir(folder).status() {
        Ok(status) if status.success() => {}
        Ok(_) => {
            crate::say!("── the build failed (its output is above); the last working install stays");
            return false;
        }
        Err(e) => {
            crate::say!("── cannot run bash: {e}");
            return false;
        }
    }
    let built = match folder.join("dist").join(crate::manifest::Manifest::FILE_NAME).is_file() {
        true => folder.join("dist"),
        false => folder.to_owned(),
    };
    if let Err(failure) = install(cx, host, runtime, &built, args.yes) {
        crate::say!(
            "error: {}",
            crate::terminal::clean(&crate::error::one_line(failure.error.as_ref()), crate::terminal::Lines::Keep)
        );
        crate::say!("── not installed; the last working install stays");
        return false;
    }
    let Some((command, rest)) = args.command.split_first() else {
        crate::say!("── installed in {:.1} s", started.elapsed().as_secs_f64());
        return true;
    };
    let ran = Instant::now();
    let mut run = Command::new(std::env::current_exe().unwrap_or_else(|_| "isaac".into()));
    run.arg("--home").arg(host.home().root());
    if host.settings().config_file().is_file() {
        run.arg("--config").arg(host.settings().config_file());
    }
    let status = run.arg("run").arg("--").arg(command).args(rest).status();
    let ok = status.as_ref().is_ok_and(|s| s.success());
    crate::say!(
        "── `{command}` {} in {:.0} ms (build and install {:.1} s)",
        if ok { "ran" } else { "failed" },
        ran.elapsed().as_secs_f64() * 1e3,
        (ran - started).as_secs_f64()
    );
    ok
}

/// Install the built plugin, carrying its grant while it asks for the same.
fn install(
    cx: &Context,
    host: &Host,
    runtime: &tokio::runtime::Runtime,
    built: &Path,
    yes: bool,
) -> Result<(), Failure> {
    let source = Source::Folder(built.to_owned());
    let (files, provenance) = super::plugins::add::fetch(host, runtime, &source, None, true)?;
    let catalog = runtime.block_on(host.catalog())?;
    let same =
        catalog.entry(&files.manifest.name).is_some_and(|e| host.request(&e.manifest) == host.request(&files.manifest));
    let grant = if same {
        GrantAction::Carry
    } else if super::plugins::grant::review(host, &files.manifest, yes)? {
        GrantAction::Reviewed
    } else {
        return Err(anyhow::anyhow!("permissions not granted").into());
    };
    let updating = same.then_some(files.manifest.name.as_str());
    let options = InstallOptions { force: true, updating, grant, provenance: &provenance };
    let installed = super::plugins::add::install(cx, host, runtime, &files, None, &options)?;
    output::line(&format!("── installed {} {}", installed.plugin.name, installed.plugin.manifest.version));
    Ok(())
}
