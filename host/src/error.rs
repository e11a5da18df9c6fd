//! [`Source`]: the error that caused another, kept as itself. Error types
//! that are cloned and compared (a plugin's load failure is kept in the
//! catalog and the index; a provider's failure is reported per provider)
//! hold their cause as a `Source` rather than as its text, so callers can
//! reach it ([`Source::get`], then `downcast_ref`) through `source()`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A shared, comparable handle on a cause.
#[derive(Clone)]
pub struct Source(Arc<dyn Error + Send + Sync>);

impl Source {
    /// Keep `error`.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Source(Arc::new(error))
    }

    /// Keep a wasmtime error (which does not implement `Error` itself).
    pub fn wasm(error: wasmtime::Error) -> Self {
        Source(Arc::from(error.into_boxed_dyn_error()))
    }

    /// The cause itself.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

/// An error and its causes as one line, each cause once (a cause whose text
/// is already said is skipped).
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = e.source();
    }
    line
}

impl fmt::Display for Source {
    /// The cause and its own causes, as one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&one_line(self.get()))
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Error for Source {
    /// None: the cause is this error itself (its text says the rest); reach
    /// it with [`Source::get`].
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        None
    }
}

impl PartialEq for Source {
    /// The same cause, or one that says the same.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Eq for Source {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config.toml: {source}")]
    struct Outer {
        #[source]
        source: Source,
    }

    #[test]
    fn the_cause_is_kept_and_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let outer = Outer { source: Source::new(io) };
        let cause = outer.source().unwrap().downcast_ref::<Source>().unwrap();
        let kind = cause.get().downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        assert_eq!(kind, Some(std::io::ErrorKind::PermissionDenied));
        assert_eq!(one_line(&outer), "cannot read config.toml: permission denied");
    }

    #[test]
    fn a_wasmtime_error_keeps_its_chain() {
        let error = wasmtime::format_err!("inner").context("outer");
        assert_eq!(Source::wasm(error).to_string(), "outer: inner");
    }
}
