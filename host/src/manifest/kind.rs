//! `kind` and `[commands.NAME]`: a plugin is an isaac-world component (it
//! exports `metadata` and `run`; the default), or a plain WASI command (it
//! exports `wasi:cli/run`, has no `metadata`, and its manifest names its
//! commands).

use serde::{Deserialize, Serialize};

/// What a plugin's component is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// It targets `isaac:plugin`'s world: `metadata` and `run`.
    #[default]
    Plugin,
    /// A standard WASI 0.2 command: it exports `wasi:cli/run` (`fn main`).
    Command,
}

impl Kind {
    /// Whether it is the default, an isaac-world plugin.
    pub fn is_plugin(&self) -> bool {
        *self == Kind::Plugin
    }
}

/// `[commands.NAME]`: one name a command component is offered under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandManifest {
    /// One line for lists, help and completion.
    #[serde(deserialize_with = "super::plain")]
    pub description: String,
    /// How to call it, e.g. `upper [FILE...]`.
    #[serde(default, deserialize_with = "super::plain")]
    pub usage: String,
    /// Arguments put before the user's, after `argv[0]` (the command's
    /// name): one component offered under several names, busybox style.
    #[serde(default, deserialize_with = "super::plain_list", skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}
