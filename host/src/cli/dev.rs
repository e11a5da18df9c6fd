//! `isaac dev FOLDER [-- COMMAND ARGS...]`: build, install, run; again on
//! every save.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use notify::{RecursiveMode, Watcher};

use super::{Context, Failure, output};
use crate::host::{GrantAction, Host, InstallOptions};
use crate::settings::Settings;
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

/// `isaac dev`, resolved once: the folder, and how each round runs its
/// command.
#[derive(Debug)]
struct DevSettings {
    /// The plugin folder, canonical (it has a build.sh).
    folder: PathBuf,
    /// Run after each install; `None`: install only.
    run: Option<Rerun>,
    /// `--yes`: grant without asking.
    yes: bool,
    /// `--once`: no watching.
    once: bool,
}

/// The command as `isaac run` runs it, in a process of its own on this
/// home and config file: `isaac --home HOME [--config FILE] run -- COMMAND ARGS`.
#[derive(Debug)]
struct Rerun {
    /// The command word (for messages).
    command: String,
    /// This binary.
    program: PathBuf,
    /// Its arguments.
    args: Vec<OsString>,
}

impl DevSettings {
    /// Resolve `args` over `settings`: the folder must exist and have a
    /// build.sh; the config file is passed on when there is one.
    fn resolve(args: DevArgs, settings: &Settings) -> Result<Self, Failure> {
        let folder = args.folder.canonicalize().map_err(|e| anyhow::anyhow!("{}: {e}", args.folder.display()))?;
        if !folder.join("build.sh").is_file() {
            return Err(anyhow::anyhow!(
                "{} has no build.sh: isaac dev runs it to build the plugin into dist/ (`isaac new` writes one)",
                folder.display()
            )
            .into());
        }
        let run = args.command.split_first().map(|(command, _)| {
            let mut run: Vec<OsString> = vec!["--home".into(), settings.home().into()];
            if settings.config_file().is_file() {
                run.extend(["--config".into(), settings.config_file().into()]);
            }
            run.extend(["run".into(), "--".into()]);
            run.extend(args.command.iter().map(OsString::from));
            let program = std::env::current_exe().unwrap_or_else(|_| "isaac".into());
            Rerun { command: command.clone(), program, args: run }
        });
        Ok(DevSettings { folder, run, yes: args.yes, once: args.once })
    }
}

/// Folders whose changes are build outputs, not edits.
const IGNORED: [&str; 8] = ["dist", "target", "node_modules", "__pycache__", ".git", "zig-out", ".zig-cache", "build"];

/// Saves closer together than this are one.
const SETTLE: Duration = Duration::from_millis(300);

pub fn run(cx: &Context, args: DevArgs) -> Result<u8, Failure> {
    let dev = DevSettings::resolve(args, &cx.settings)?;
    let folder = &dev.folder;
    let host = cx.host()?;
    let runtime = super::runtime()?;
    let round = |cx: &Context| cycle(cx, host, &runtime, &dev);
    let mut ok = round(cx);
    if dev.once {
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
        .watch(folder, RecursiveMode::Recursive)
        .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", folder.display()))?;
    crate::say!("watching {} (Ctrl-C ends)", folder.display());
    while let Ok(paths) = rx.recv() {
        if !paths.iter().any(|p| is_source(folder, p)) {
            for path in &paths {
                tracing::debug!("no build: {} is a build output", path.strip_prefix(folder).unwrap_or(path).display());
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
fn cycle(cx: &Context, host: &Host, runtime: &tokio::runtime::Runtime, dev: &DevSettings) -> bool {
    let (started, folder) = (Instant::now(), dev.folder.as_path());
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
    if let Err(failure) = install(cx, host, runtime, &built, dev.yes) {
        crate::say!(
            "error: {}",
            crate::terminal::clean(&crate::error::one_line(failure.error.as_ref()), crate::terminal::Lines::Keep)
        );
        crate::say!("── not installed; the last working install stays");
        return false;
    }
    let Some(rerun) = &dev.run else {
        crate::say!("── installed in {:.1} s", started.elapsed().as_secs_f64());
        return true;
    };
    let ran = Instant::now();
    let status = Command::new(&rerun.program).args(&rerun.args).status();
    let ok = status.as_ref().is_ok_and(|s| s.success());
    crate::say!(
        "── `{}` {} in {:.0} ms (build and install {:.1} s)",
        rerun.command,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::testing::{parse, settings};
    use crate::settings::Flags;

    fn plugin_folder() -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("build.sh"), "").unwrap();
        folder
    }

    #[test]
    fn the_command_reruns_on_this_home_and_config_file() {
        let (home, settings) = settings("", Flags::default());
        let folder = plugin_folder();
        let path = folder.path().to_str().unwrap();
        let dev = DevSettings::resolve(parse(&["--yes", path, "--", "hi", "-v", "you"]), &settings).unwrap();
        assert_eq!(dev.folder, folder.path().canonicalize().unwrap());
        assert!(dev.yes && !dev.once);
        let rerun = dev.run.unwrap();
        assert_eq!(rerun.command, "hi");
        let config = home.path().join("config.toml");
        let expected = ["--home", home.path().to_str().unwrap(), "--config", config.to_str().unwrap()];
        let expected = expected.into_iter().chain(["run", "--", "hi", "-v", "you"]);
        assert_eq!(rerun.args, expected.map(OsString::from).collect::<Vec<_>>());
        std::fs::remove_file(&config).unwrap();
        let rerun = DevSettings::resolve(parse(&[path, "--", "hi"]), &settings).unwrap().run.unwrap();
        assert!(!rerun.args.contains(&OsString::from("--config")), "no config file, none passed: {:?}", rerun.args);
    }

    #[test]
    fn no_command_installs_only_and_a_folder_needs_its_build_script() {
        let (_home, settings) = settings("", Flags::default());
        let folder = plugin_folder();
        let dev = DevSettings::resolve(parse(&["--once", folder.path().to_str().unwrap()]), &settings).unwrap();
        assert!(dev.run.is_none() && dev.once);
        std::fs::remove_file(folder.path().join("build.sh")).unwrap();
        let error = DevSettings::resolve(parse(&[folder.path().to_str().unwrap()]), &settings).unwrap_err();
        assert!(error.error.to_string().contains("has no build.sh"), "{}", error.error);
    }
}
