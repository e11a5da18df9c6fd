//! Global flags and the settings they resolve to: command line, then
//! environment, then config file, then defaults.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::bindings::Level;
use crate::home::Home;
use crate::host::HostOptions;

/// Flags every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The isaac home: installed plugins, compiled code, state [default: $XDG_DATA_HOME/isaac or ~/.local/share/isaac].
    #[arg(long, global = true, env = "ISAAC_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// The config file [default: $ISAAC_HOME/config.toml].
    #[arg(long, global = true, env = "ISAAC_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Threads that compile plugins [default: config `loader.max_workers`, else all cores].
    #[arg(long, short = 'j', global = true, env = "ISAAC_JOBS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Print more: plugin info logs (-v), debug (-vv), trace (-vvv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// At the end, print current and peak memory (resident set) on stderr.
    #[arg(long, global = true)]
    profile_memory: bool,
}

/// Settings after resolution.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The isaac home.
    pub home: PathBuf,
    /// A config file the user named.
    pub config: Option<PathBuf>,
    /// Compile threads the user asked for.
    pub jobs: Option<usize>,
    /// JSON output.
    pub json: bool,
    /// The least important log level printed.
    pub level: Level,
    /// Print memory figures at the end.
    pub profile_memory: bool,
    /// The label of this process in the run history (`None`: not recorded).
    pub record_as: Option<String>,
}

impl Settings {
    /// Resolve the global flags.
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Self> {
        let home = match &args.home {
            Some(home) => home.clone(),
            None => Home::default_root().context("no home directory: set ISAAC_HOME or pass --home DIR")?,
        };
        let level = match (args.quiet, args.verbose) {
            (true, _) => Level::Error,
            (false, 0) => Level::Warn,
            (false, 1) => Level::Info,
            (false, 2) => Level::Debug,
            (false, _) => Level::Trace,
        };
        Ok(Settings {
            home,
            config: args.config.clone(),
            jobs: args.jobs.map(usize::from),
            json: args.json,
            level,
            profile_memory: args.profile_memory,
            record_as: None,
        })
    }

    /// Options for opening the host.
    pub fn host_options(&self) -> HostOptions {
        HostOptions {
            config_file: self.config.clone(),
            jobs: self.jobs,
            log_level: self.level,
            record_as: self.record_as.clone(),
            ..HostOptions::new(&self.home)
        }
    }

    /// `-q`: print only errors.
    pub fn quiet(&self) -> bool {
        self.level == Level::Error
    }

    /// Send the host's own diagnostics to stderr at the chosen level.
    pub fn init_tracing(&self) {
        let level = match self.level {
            Level::Error => tracing::Level::ERROR,
            Level::Warn => tracing::Level::WARN,
            Level::Info => tracing::Level::INFO,
            Level::Debug => tracing::Level::DEBUG,
            Level::Trace => tracing::Level::TRACE,
        };
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_max_level(level)
            .without_time()
            .with_target(false)
            .try_init();
    }
}
