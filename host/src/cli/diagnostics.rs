//! The host's own diagnostics: each `tracing` event at or above the chosen
//! level as one line on stderr (`  WARN message`), sanitised like every
//! line there, since its fields may hold a plugin's or a server's words.
//!
//! isaac opens no spans, and this subscriber keeps none: a span of a
//! dependency (wasmtime's bindings open one around each host call, at
//! `TRACE`) is printed as a line when it opens. tracing-subscriber's `fmt`
//! kept a registry of spans, built on every start: a tenth of a
//! millisecond of `isaac run`.

use std::fmt::{Debug, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::console::DiagWriter;

/// Install the subscriber for events at `level` and above, unless one is
/// installed already.
pub fn init(level: Level) {
    let _ = tracing::subscriber::set_global_default(Diagnostics { level, print: to_stderr });
}

/// Prints events; spans are given one id and otherwise ignored.
struct Diagnostics {
    level: Level,
    /// Where a line goes.
    print: fn(&str),
}

fn to_stderr(line: &str) {
    let _ = DiagWriter.write_all(line.as_bytes());
}

impl Subscriber for Diagnostics {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.level
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(self.level))
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = Line(format!("{:>5} {}", span.metadata().level(), span.metadata().name()));
        span.record(&mut line);
        line.0.push('\n');
        (self.print)(&line.0);
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{:>5} ", event.metadata().level()));
        event.record(&mut line);
        line.0.push('\n');
        (self.print)(&line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// One event's or span's text: its message, then its other fields as
/// ` name=value`.
struct Line(String);

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            // A message given as a string reads as text, not a quoted value.
            "message" => self.record_debug(field, &format_args!("{value}")),
            _ => self.record_debug(field, &value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = match field.name() {
            "message" => {
                // After the level's padding, or a span's name.
                if !self.0.ends_with(' ') {
                    self.0.push(' ');
                }
                write!(self.0, "{value:?}")
            }
            name => write!(self.0, " {name}={value:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    thread_local! {
        static PRINTED: RefCell<String> = const { RefCell::new(String::new()) };
    }

    fn printed(f: impl FnOnce()) -> String {
        let print = |line: &str| PRINTED.with(|p| p.borrow_mut().push_str(line));
        tracing::subscriber::with_default(Diagnostics { level: Level::INFO, print }, f);
        PRINTED.with(|p| p.take())
    }

    #[test]
    fn an_event_is_its_level_message_and_fields() {
        assert_eq!(printed(|| tracing::warn!(plugin = "p", "not saved: {}", 3)), " WARN not saved: 3 plugin=\"p\"\n");
        assert_eq!(printed(|| tracing::info!("hello")), " INFO hello\n");
        assert_eq!(printed(|| tracing::debug!("below the level")), "");
        let span = || drop(tracing::info_span!("import", function = "get").entered());
        assert_eq!(printed(span), " INFO import function=\"get\"\n");
        let span = || drop(tracing::info_span!("serve", message = "up").entered());
        assert_eq!(printed(span), " INFO serve up\n");
    }
}
