//! The errors of [`Host`](super::Host)'s operations, each with what to do.

use std::path::PathBuf;

use crate::engine::EngineError;
use crate::home::HomeError;
use crate::loader::PluginFailure;
use crate::registry::ResolveError;
use crate::sandbox::CallError;
use crate::state::StateError;
use crate::tomlfile::TomlError;

/// The host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The home directory.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The config file.
    #[error(transparent)]
    Config(#[from] TomlError),
    /// The engine.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The LMDB state (plugin index, cache).
    #[error(transparent)]
    State(#[from] StateError),
    /// The async runtime a call runs on could not be built.
    #[error("cannot start the runtime calls run on")]
    Runtime(#[source] std::io::Error),
}

/// A command that did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The name did not resolve.
    #[error("{error}{}", unloaded_note(unloaded))]
    Resolve {
        /// Why.
        error: ResolveError,
        /// Plugins that failed to load (one may have offered the command).
        unloaded: Vec<String>,
    },
    /// The plugin rejected the arguments.
    #[error("{plugin}:{command}: {message}")]
    Usage {
        /// The plugin.
        plugin: String,
        /// The command.
        command: String,
        /// Its usage message.
        message: String,
    },
    /// The command ran and failed.
    #[error("{plugin}:{command} failed: {message}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// The command.
        command: String,
        /// Why, in the plugin's words.
        message: String,
    },
    /// The command was interrupted while it waited on the host (Ctrl-C).
    #[error("`{0}` was interrupted")]
    Interrupted(String),
    /// The call was stopped: a trap, the deadline, the memory limit.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The plugin that owns the command did not load.
    #[error(transparent)]
    Load(#[from] PluginFailure),
    /// The host itself failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A path `--allow-read` named cannot be granted.
    #[error(transparent)]
    AllowRead(#[from] super::run::AllowReadError),
    /// The file named as the command's stdin (`< FILE`) cannot be read.
    #[error("cannot read {} as the command's input", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

fn unloaded_note(unloaded: &[String]) -> String {
    match unloaded {
        [] => String::new(),
        names => format!(
            "\nnote: {} plugin(s) failed to load ({}); `isaac plugins list` says why",
            names.len(),
            names.join(", ")
        ),
    }
}

impl RunError {
    /// What a tool call answers for this failure: a WASI command that
    /// exited non-zero gives what it wrote, then its status; anything else
    /// its message on one line.
    pub fn tool_text(&self) -> String {
        match self {
            RunError::Call(CallError::Exit { output, code, .. }) => format!("{output}(exit status {code})"),
            other => crate::error::one_line(other),
        }
    }

    /// The exit status `isaac run` uses: 2 for usage errors (unknown or
    /// ambiguous command, bad arguments), a WASI command's own non-zero
    /// status, 141 when the reader of its output
    /// went away (as for a Unix tool killed by `SIGPIPE`), 1 for everything
    /// else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Resolve { .. } | RunError::Usage { .. } => 2,
            RunError::Call(CallError::ReaderGone { .. }) => 141,
            RunError::Call(CallError::Exit { code, .. }) => u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1),
            _ => 1,
        }
    }
}

/// `isaac plugins add` failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The path is neither a plugin folder nor a `.wasm` file.
    #[error("{}: {message}", path.display())]
    BadPath {
        /// What was given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plugin of that name is installed.
    #[error("plugin `{0}` is already installed; add --force to replace it (or `isaac plugins update {0}`)")]
    Exists(String),
    /// A plugin of that name is installed from another origin.
    #[error(
        "plugin `{name}` is installed from {installed}, and this one comes from {new}: it would inherit neither the installed one's grant nor its cached data. Remove the installed one first (`isaac plugins remove {name}`), or add --force to replace it (its grant and cached data are dropped)"
    )]
    OtherOrigin {
        /// The plugin.
        name: String,
        /// Where the installed one came from.
        installed: String,
        /// Where this one comes from.
        new: String,
    },
    /// An update of one plugin carries another plugin's name.
    #[error(
        "the update of plugin `{installed}` is a plugin named `{new}`: an update keeps the plugin's name, so nothing was changed (if you want `{new}`, review it and install it with `isaac plugins add`)"
    )]
    NameChanged {
        /// The plugin being updated.
        installed: String,
        /// The name the new version gives itself.
        new: String,
    },
    /// An update would take commands another installed plugin offers.
    #[error(
        "the update of plugin `{name}` would add {}, which {} already offer{}: an update does not take another plugin's command, so nothing was changed (to install it anyway, review it with `isaac plugins add SOURCE --force`)",
        commands.iter().map(|(c, _)| format!("`{c}`")).collect::<Vec<_>>().join(", "),
        commands.iter().map(|(_, p)| format!("`{p}`")).collect::<Vec<_>>().join(", "),
        if commands.len() == 1 { "s" } else { "" }
    )]
    TakesCommands {
        /// The plugin being updated.
        name: String,
        /// Each command it would add, and the installed plugin offering it.
        commands: Vec<(String, String)>,
    },
    /// The plugin could not be fetched.
    #[error(transparent)]
    Fetch(#[from] crate::sources::SourceError),
    /// The replaced plugin's cached data could not be dropped.
    #[error("cannot drop the cached data of the replaced plugin `{name}`")]
    Purge {
        /// The plugin.
        name: String,
        /// Why.
        #[source]
        error: crate::cache::CacheError,
    },
    /// The plugin does not load.
    #[error(transparent)]
    Invalid(PluginFailure),
    /// Copying it into the home failed.
    #[error("cannot copy the plugin into {}", dir.display())]
    Copy {
        /// The destination.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The component changed while it was being installed.
    #[error("the component staged in {} is not the one that was read (it changed meanwhile); nothing was installed", dir.display())]
    Changed {
        /// The staging folder.
        dir: PathBuf,
    },
    /// The plugins could not be indexed again after the install.
    #[error(transparent)]
    Reindex(Box<HostError>),
    /// The index could not be updated.
    #[error(transparent)]
    State(#[from] StateError),
}

/// `isaac plugins remove` failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    /// No such plugin.
    #[error("plugin `{0}` is not installed (`isaac plugins list` shows what is)")]
    NotInstalled(String),
    /// The folder could not be removed.
    #[error("cannot remove {}", dir.display())]
    Io {
        /// The folder.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The index could not be updated.
    #[error(transparent)]
    State(#[from] StateError),
}

/// `isaac plugins grant` failed.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// No such plugin.
    #[error("plugin `{0}` is not installed (`isaac plugins list` shows what is)")]
    NotInstalled(String),
    /// The request cannot be granted.
    #[error(transparent)]
    Refused(crate::grants::DirRefused),
    /// The plugin does not load.
    #[error(transparent)]
    NotLoaded(#[from] PluginFailure),
    /// The plugins could not be indexed.
    #[error(transparent)]
    Host(#[from] Box<HostError>),
    /// The grant could not be stored.
    #[error(transparent)]
    State(#[from] StateError),
}
