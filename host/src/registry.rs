//! The command table: which plugin runs which command.
//!
//! A command resolves by its bare name (`wc`) when exactly one plugin offers
//! it, and always by `plugin:command` (`wordcount:wc`). A bare name that two
//! plugins claim is ambiguous: the error lists both qualified names. An
//! unknown name gets "did you mean" suggestions. Resolution is one hash
//! lookup.

use std::collections::HashMap;
use std::fmt;

/// A resolved command: the plugin (by its position in the registry) and the
/// command's name within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRef {
    /// Index of the plugin in [`Registry::plugins`].
    pub plugin: usize,
    /// Index of the command in that plugin's list.
    pub command: usize,
}

#[derive(Debug, Clone)]
enum Slot {
    One(CommandRef),
    Ambiguous(Vec<CommandRef>),
}

/// The command table of a set of plugins.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    plugins: Vec<(String, Vec<String>)>,
    table: HashMap<Box<str>, Slot>,
}

/// A command name that does not resolve to one command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No plugin offers it.
    #[error("unknown command `{name}`{}", Suggestions(suggestions))]
    Unknown {
        /// What was asked for.
        name: String,
        /// Close names, best first.
        suggestions: Vec<String>,
    },
    /// Several plugins offer it.
    #[error("command `{name}` is offered by several plugins; run one of: {}", Candidates(candidates))]
    Ambiguous {
        /// What was asked for.
        name: String,
        /// The qualified names to choose from.
        candidates: Vec<String>,
    },
}

struct Suggestions<'a>(&'a [String]);

/// At most this many candidates are listed in an ambiguity error.
const MAX_CANDIDATES: usize = 6;

struct Candidates<'a>(&'a [String]);

impl fmt::Display for Candidates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(MAX_CANDIDATES)];
        write!(f, "{}", shown.join(", "))?;
        if self.0.len() > shown.len() {
            write!(f, " (and {} more; `isaac plugins list` shows them all)", self.0.len() - shown.len())?;
        }
        Ok(())
    }
}

impl fmt::Display for Suggestions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => write!(f, " (`isaac plugins list` shows every command)"),
            [one] => write!(f, "; did you mean `{one}`?"),
            many => write!(f, "; did you mean one of: {}?", many.join(", ")),
        }
    }
}

impl Registry {
    /// Build the table from `(plugin name, command names)` pairs.
    pub fn new(plugins: Vec<(String, Vec<String>)>) -> Self {
        let mut table: HashMap<Box<str>, Slot> = HashMap::new();
        for (p, (plugin, commands)) in plugins.iter().enumerate() {
            for (c, command) in commands.iter().enumerate() {
                let target = CommandRef { plugin: p, command: c };
                table.insert(format!("{plugin}:{command}").into(), Slot::One(target));
                table
                    .entry(command.as_str().into())
                    .and_modify(|slot| match slot {
                        Slot::One(first) => *slot = Slot::Ambiguous(vec![*first, target]),
                        Slot::Ambiguous(all) => all.push(target),
                    })
                    .or_insert(Slot::One(target));
            }
        }
        Registry { plugins, table }
    }

    /// Resolve `name` (`cmd` or `plugin:cmd`).
    pub fn resolve(&self, name: &str) -> Result<CommandRef, ResolveError> {
        match self.table.get(name) {
            Some(Slot::One(target)) => Ok(*target),
            Some(Slot::Ambiguous(all)) => Err(ResolveError::Ambiguous {
                name: name.to_owned(),
                candidates: all.iter().map(|t| self.qualified(*t)).collect(),
            }),
            None => Err(ResolveError::Unknown { name: name.to_owned(), suggestions: self.suggest(name) }),
        }
    }

    /// The plugins, with their command names, in the order given.
    pub fn plugins(&self) -> &[(String, Vec<String>)] {
        &self.plugins
    }

    /// The name of the plugin and command `target` points to.
    pub fn names(&self, target: CommandRef) -> (&str, &str) {
        let (plugin, commands) = &self.plugins[target.plugin];
        (plugin, &commands[target.command])
    }

    /// `plugin:command` for `target`.
    pub fn qualified(&self, target: CommandRef) -> String {
        let (plugin, command) = self.names(target);
        format!("{plugin}:{command}")
    }

    /// Every name that resolves (bare and qualified), sorted.
    pub fn command_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.table.keys().map(|k| &**k).collect();
        names.sort_unstable();
        names
    }

    fn suggest(&self, name: &str) -> Vec<String> {
        // Suggest qualified names only to someone who typed one; allow about
        // one typo per three characters.
        let qualified = name.contains(':');
        let allowed = (name.chars().count() / 3).max(1);
        let mut scored: Vec<(usize, &str)> = self
            .table
            .keys()
            .filter(|k| k.contains(':') == qualified)
            .map(|k| (strsim::damerau_levenshtein(name, k), &**k))
            .filter(|(distance, _)| *distance <= allowed)
            .collect();
        scored.sort_unstable();
        scored.into_iter().take(3).map(|(_, k)| k.to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::new(vec![
            ("hello".into(), vec!["hello".into(), "echo".into()]),
            ("wordcount".into(), vec!["wc".into()]),
            ("other".into(), vec!["echo".into()]),
        ])
    }

    #[test]
    fn bare_and_qualified_names_resolve() {
        let r = registry();
        assert_eq!(r.names(r.resolve("wc").unwrap()), ("wordcount", "wc"));
        assert_eq!(r.names(r.resolve("hello:echo").unwrap()), ("hello", "echo"));
        assert_eq!(r.names(r.resolve("other:echo").unwrap()), ("other", "echo"));
    }

    #[test]
    fn a_shared_name_is_ambiguous_and_lists_both() {
        let err = registry().resolve("echo").unwrap_err();
        assert_eq!(
            err,
            ResolveError::Ambiguous { name: "echo".into(), candidates: vec!["hello:echo".into(), "other:echo".into()] }
        );
        assert!(err.to_string().contains("hello:echo, other:echo"));
    }

    #[test]
    fn long_ambiguity_lists_are_cut() {
        let r = Registry::new((0..10).map(|i| (format!("p{i}"), vec!["same".to_owned()])).collect());
        let err = r.resolve("same").unwrap_err().to_string();
        assert!(err.contains("p0:same, p1:same, p2:same, p3:same, p4:same, p5:same (and 4 more"), "{err}");
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let err = registry().resolve("helo").unwrap_err();
        let ResolveError::Unknown { suggestions, .. } = &err else { panic!("{err}") };
        assert_eq!(suggestions.first().map(String::as_str), Some("hello"));
        assert!(err.to_string().contains("did you mean"), "{err}");
        let err = registry().resolve("hello:hallo").unwrap_err();
        assert!(err.to_string().contains("did you mean `hello:hello`?"), "{err}");
        let err = registry().resolve("zzzzzz").unwrap_err();
        assert!(err.to_string().contains("isaac plugins list"), "{err}");
    }
}
