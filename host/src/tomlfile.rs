//! Reading TOML files (`plugin.toml`, `config.toml`) with errors that name
//! the file, the line and the column.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

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

/// Parse `text`, the contents of `path`, as `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, TomlError> {
    toml::from_str(text).map_err(|e| TomlError::at(path, text, e.span(), e.message().trim_end()))
}

/// Read and parse `path`.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T, TomlError> {
    let text = std::fs::read_to_string(path).map_err(|e| TomlError {
        path: path.to_owned(),
        position: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
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
        let err = parse::<T>(Path::new("x.toml"), "a = 1\nb = 2\n").unwrap_err();
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.to_string().starts_with("x.toml:2:1: unknown field `b`"), "{err}");
    }
}
