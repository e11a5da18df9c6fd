//! The environment, as settings read it: [`Env`] (the process's, or a table
//! in tests) and [`Secret`], a value the config names by its variable and
//! that is read only when needed.

use serde::Deserialize;

/// Where environment variables come from: the process, or a table in tests.
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for [(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }
}

/// A secret held in an environment variable the config or isaac names (an
/// API key, a password, a registry token): the name is a setting, the value
/// is read from the process environment each time it is needed, and never
/// kept in settings, printed or written down.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct Secret {
    var: String,
}

impl Secret {
    /// The secret held in `var`.
    pub fn named(var: impl Into<String>) -> Self {
        Secret { var: var.into() }
    }

    /// The variable's name (for messages: "set OPENAI_API_KEY").
    pub fn var(&self) -> &str {
        &self.var
    }

    /// Its value now, if set and not empty.
    pub fn read(&self) -> Option<String> {
        ProcessEnv.var(&self.var)
    }
}

impl From<&str> for Secret {
    fn from(var: &str) -> Self {
        Secret::named(var)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(${})", self.var)
    }
}
