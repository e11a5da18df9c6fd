//! Error chains: [`Source`], the error that caused another, kept as itself;
//! [`one_line`] (and [`OneLine`]), the one place a chain becomes text.
//!
//! Every error in the library says what went wrong at its own level and
//! gives its cause as `source()` (thiserror's `#[source]`), never in its own
//! text; [`one_line`] walks the chain where an error leaves isaac (the
//! terminal, a tool result, an answer to a plugin). Error types that are
//! cloned (a plugin's load failure is kept in the catalog and the index; a
//! store's failure is remembered until the next try) hold their cause as a
//! `Source`, which stands in the chain for the error it holds.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared handle on a cause: it says what the cause says and gives the
/// cause's own source, so a chain walked through it reads as the cause's.
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

    /// `error`, or the cause it holds if it is a `Source`: what a level of a
    /// chain is, for `downcast_ref`.
    pub fn peel<'e>(error: &'e (dyn Error + 'static)) -> &'e (dyn Error + 'static) {
        match error.downcast_ref::<Source>() {
            Some(source) => source.get(),
            None => error,
        }
    }
}

/// An error and its causes as one line: each level's text, outermost first,
/// joined by `: `.
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    OneLine(error).to_string()
}

/// [`one_line`] for a format string: `tracing::warn!("not saved: {}",
/// OneLine(&e))`.
pub struct OneLine<'e>(pub &'e (dyn Error + 'static));

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, level) in chain(self.0).enumerate() {
            if i > 0 {
                f.write_str(": ")?;
            }
            fmt::Display::fmt(level, f)?;
        }
        Ok(())
    }
}

/// `error` and its causes, outermost first.
pub fn chain<'e>(error: &'e (dyn Error + 'static)) -> impl Iterator<Item = &'e (dyn Error + 'static)> {
    std::iter::successors(Some(error), |e| (*e).source())
}

impl fmt::Display for Source {
    /// What the cause says at its own level.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Error for Source {
    /// The cause's own source: the `Source` stands for its cause.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl Serialize for Source {
    /// As each level's text, outermost first: a foreign error (the OS's,
    /// wasmtime's) has no other data to keep.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let levels: Vec<String> = chain(self).map(|e| e.to_string()).collect();
        levels.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Source {
    /// Read back as a chain of [`Recorded`] levels that say the same.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let levels = Vec::<String>::deserialize(deserializer)?;
        let recorded = levels
            .into_iter()
            .rev()
            .fold(None, |source, message| Some(Recorded { message, source: source.map(Box::new) }));
        Ok(Source::new(recorded.unwrap_or_default()))
    }
}

/// One level of a stored chain (see [`Source`]'s `Deserialize`).
#[derive(Debug, Default)]
pub struct Recorded {
    message: String,
    source: Option<Box<Recorded>>,
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Recorded {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config.toml")]
    struct Outer {
        #[source]
        source: Source,
    }

    #[test]
    fn the_cause_is_kept_and_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let outer = Outer { source: Source::new(io) };
        let cause = Source::peel(outer.source().unwrap()).downcast_ref::<std::io::Error>();
        assert_eq!(cause.map(std::io::Error::kind), Some(std::io::ErrorKind::PermissionDenied));
        assert_eq!(one_line(&outer), "cannot read config.toml: permission denied");
    }

    #[test]
    fn a_wasmtime_error_keeps_its_chain() {
        let error = wasmtime::format_err!("inner").context("outer");
        let source = Source::wasm(error);
        assert_eq!(source.to_string(), "outer");
        assert_eq!(one_line(&source), "outer: inner");
    }

    #[test]
    fn a_stored_chain_reads_back_level_by_level() {
        let error = wasmtime::format_err!("inner").context("middle").context("outer");
        let stored = serde_json::to_string(&Outer { source: Source::wasm(error) }.source).unwrap();
        assert_eq!(stored, r#"["outer","middle","inner"]"#);
        let read: Source = serde_json::from_str(&stored).unwrap();
        assert_eq!(chain(&read).map(|e| e.to_string()).collect::<Vec<_>>(), ["outer", "middle", "inner"]);
    }
}
