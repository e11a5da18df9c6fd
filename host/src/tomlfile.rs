//! Reading TOML files (`plugin.toml`, `config.toml`) with errors that name
//! the file, the line and the column, and with sections owned by the
//! modules above their reader ([`Sections`]).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A TOML file that could not be read or does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TomlError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column of the problem, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong, and where possible what to write instead.
    pub message: String,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for TomlError {}

impl TomlError {
    /// An error at byte range `span` of `text`.
    pub fn at(path: &Path, text: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        TomlError { path: path.to_owned(), position: span.map(|s| line_column(text, s.start)), message: message.into() }
    }
}

/// Read `path` as text.
pub fn read_text(path: &Path, what: &str) -> Result<String, TomlError> {
    std::fs::read_to_string(path).map_err(|e| TomlError {
        path: path.to_owned(),
        position: None,
        message: format!("cannot read {what}: {e}"),
    })
}

/// Sections of a TOML table that modules above its reader own: each
/// capability's part of `[permissions]` in `plugin.toml` and its table of
/// `config.toml`. The reader hands each owner its section, spans and all;
/// the owner checks it and gives back its canonical value, which the reader
/// keeps ([`Owned`]) and the owner reads its own type back from when it is
/// used. So a reader need not know its owners (they are higher modules that
/// use it), and a section is still checked, with its line, when the file is
/// read.
pub trait Sections {
    /// Every section name, sorted.
    fn names(&self) -> Vec<&'static str>;

    /// Check section `name` (`None`: absent) and give its canonical value
    /// (`None`: nothing to keep); `None` when `name` is not a section.
    fn check(
        &self,
        name: &str,
        value: Option<ValueDeserializer<'_>>,
    ) -> Option<Result<Option<toml::Value>, toml::de::Error>>;
}

/// The owned sections of one table, by name: their checked, canonical
/// values.
pub type Owned = BTreeMap<String, toml::Value>;

/// A TOML document being read: its text, its spanned tree and its file.
pub struct Document<'t> {
    path: &'t Path,
    text: &'t str,
    root: Spanned<DeTable<'t>>,
}

impl<'t> Document<'t> {
    /// Parse `text`, the contents of `path`.
    pub fn parse(path: &'t Path, text: &'t str) -> Result<Self, TomlError> {
        let root = DeTable::parse(text).map_err(|e| TomlError::at(path, text, e.span(), e.message().trim_end()))?;
        Ok(Document { path, text, root })
    }

    /// An error at byte range `span`.
    pub fn error_at(&self, span: Option<Range<usize>>, message: impl Into<String>) -> TomlError {
        TomlError::at(self.path, self.text, span, message)
    }

    /// An error at the key `at` (a path of keys; the file when absent).
    pub fn error(&self, at: &[&str], message: impl Into<String>) -> TomlError {
        self.error_at(self.span(at), message)
    }

    /// Where the value at `at` (a path of keys) is written.
    pub fn span(&self, at: &[&str]) -> Option<Range<usize>> {
        let mut found: Option<&Spanned<DeValue<'t>>> = None;
        let mut table = Some(self.root.get_ref());
        for key in at {
            let value = table?.get(*key)?;
            found = Some(value);
            table = match value.get_ref() {
                DeValue::Table(inner) => Some(inner),
                _ => None,
            };
        }
        found.map(Spanned::span)
    }

    /// Take the sections `owners` own out of the table at `at` (the root
    /// when empty), each checked by its owner. A key of that table that is
    /// neither one of `own` (the reader's own keys) nor a section is an
    /// error listing both, in serde's words.
    pub fn take_sections(&mut self, at: &[&str], own: &[&str], owners: &dyn Sections) -> Result<Owned, TomlError> {
        let (path, text) = (self.path, self.text);
        let error = |e: toml::de::Error| TomlError::at(path, text, e.span(), e.message().trim_end());
        let mut table = Some(self.root.get_mut());
        for key in at {
            table = match table.and_then(|t| t.get_mut(*key)).map(Spanned::get_mut) {
                Some(DeValue::Table(inner)) => Some(inner),
                _ => None,
            };
        }
        if let Some((key, _)) = table.iter().flat_map(|t| t.iter()).find(|(k, _)| {
            let key: &str = k.get_ref();
            !own.contains(&key) && owners.check(key, None).is_none()
        }) {
            let mut known: Vec<String> = own.iter().copied().chain(owners.names()).map(|k| format!("`{k}`")).collect();
            known.sort_unstable();
            let message = format!("unknown field `{}`, expected one of {}", key.get_ref(), known.join(", "));
            return Err(TomlError::at(path, text, Some(key.span()), message));
        }
        owned(owners, |name| table.as_mut().and_then(|t| t.remove(name)).map(ValueDeserializer::from)).map_err(error)
    }

    /// Deserialize what is left of the document as `T`.
    pub fn into<T: DeserializeOwned>(self) -> Result<T, TomlError> {
        let (path, text) = (self.path, self.text);
        T::deserialize(toml::de::Deserializer::from(self.root))
            .map_err(|e| TomlError::at(path, text, e.span(), e.message().trim_end()))
    }
}

/// The sections of a file that has none (a missing config file): each
/// owner's value for an absent table, as [`Document::take_sections`] gives
/// for an empty one.
pub fn absent_sections(path: &Path, owners: &dyn Sections) -> Result<Owned, TomlError> {
    owned(owners, |_| None).map_err(|e| TomlError::at(path, "", None, e.message().trim_end()))
}

/// Each section of `owners` checked by its owner, with the value `take`
/// gives for it (`None`: absent).
fn owned<'v>(
    owners: &dyn Sections,
    mut take: impl FnMut(&str) -> Option<ValueDeserializer<'v>>,
) -> Result<Owned, toml::de::Error> {
    let mut owned = Owned::new();
    for name in owners.names() {
        if let Some(canonical) = owners.check(name, take(name)).transpose()?.flatten() {
            owned.insert(name.to_owned(), canonical);
        }
    }
    Ok(owned)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
    }

    #[test]
    fn names_file_line_and_column() {
        let err = Document::parse(Path::new("x.toml"), "a = 1\nb = 2\n").unwrap().into::<T>().unwrap_err();
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.to_string().starts_with("x.toml:2:1: unknown field `b`"), "{err}");
    }
}
