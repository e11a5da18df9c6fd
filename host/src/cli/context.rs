//! Global flags, and the context every subcommand runs in: the resolved
//! [`Context`], how to print, and the host (opened on first use and
//! finished by [`main`](super::main) on every exit path).

use std::cell::OnceCell;
use std::path::PathBuf;

use clap::Args;

use crate::bindings::Level;
use crate::host::{Host, HostError};
use crate::settings::{Flags, ProcessEnv, Settings, SettingsError};

/// Flags every subcommand accepts, before or after its name.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// The isaac home: installed plugins, compiled code, state [env: ISAAC_HOME] [default: $XDG_DATA_HOME/isaac or ~/.local/share/isaac].
    #[arg(long, global = true, value_name = "DIR")]
    pub(super) home: Option<PathBuf>,
    /// The config file [env: ISAAC_CONFIG] [default: $ISAAC_HOME/config.toml].
    #[arg(long, global = true, value_name = "FILE")]
    pub(super) config: Option<PathBuf>,
    /// Threads that compile plugins [env: ISAAC_JOBS] [default: config `loader.max_workers`, else all cores].
    #[arg(long, short = 'j', global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(super) jobs: Option<u16>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub(super) json: bool,
    /// Print more: plugin info logs (-v), debug (-vv), trace (-vvv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(super) verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(super) quiet: bool,
    /// At the end, print current and peak memory (resident set) on stderr.
    #[arg(long, global = true)]
    pub(super) profile_memory: bool,
}

/// What a subcommand runs with.
pub struct Context {
    /// Every resolved setting.
    pub settings: Settings,
    /// JSON output.
    pub json: bool,
    /// Print memory figures at the end.
    pub profile_memory: bool,
    host: OnceCell<Host>,
}

impl Context {
    /// Resolve the global flags (over the environment and the config file)
    /// for a command that makes `one_call` (and exits) or more; `one_shot`:
    /// `isaac run`, whose one call may do blocking file I/O on this thread,
    /// after which the process leaves.
    pub fn new(args: &GlobalArgs, one_call: bool, one_shot: bool) -> Result<Self, SettingsError> {
        let flags = Flags {
            home: args.home.clone(),
            config: args.config.clone(),
            jobs: args.jobs.and_then(|n| std::num::NonZeroUsize::new(n.into())),
            verbose: args.verbose,
            quiet: args.quiet,
            one_call,
            blocking_files: one_shot,
            one_shot,
            optimizer: std::env::current_exe().ok(),
        };
        Ok(Context {
            settings: Settings::resolve(&flags, &ProcessEnv, crate::capabilities::CONFIG_SECTIONS)?,
            json: args.json,
            profile_memory: args.profile_memory,
            host: OnceCell::new(),
        })
    }

    /// The host, opened on first use.
    pub fn host(&self) -> Result<&Host, HostError> {
        if let Some(host) = self.host.get() {
            return Ok(host);
        }
        let host = Host::open(&self.settings)?;
        Ok(self.host.get_or_init(|| host))
    }

    /// Finish the host, if one was opened: record the run as `label`.
    pub fn finish(&self, label: Option<&str>) {
        if let (Some(host), Some(label)) = (self.host.get(), label) {
            host.finish(label);
        }
    }

    /// `-q`: print only errors.
    pub fn quiet(&self) -> bool {
        self.settings.quiet()
    }

    /// Send the host's own diagnostics to stderr at the chosen level.
    pub fn init_tracing(&self) {
        let level = match self.settings.log_level() {
            Level::Error => tracing::Level::ERROR,
            Level::Warn => tracing::Level::WARN,
            Level::Info => tracing::Level::INFO,
            Level::Debug => tracing::Level::DEBUG,
            Level::Trace => tracing::Level::TRACE,
        };
        super::diagnostics::init(level);
    }
}
