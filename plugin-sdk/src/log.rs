//! Diagnostics through the host's `log` interface.
//!
//! Messages go to the host, which prints them on stderr with the plugin's name
//! when the user asks for that level (`isaac -v run ...`). They never reach
//! stdout, so they cannot corrupt a command's result.

pub use crate::__bindings::isaac::plugin::log::Level;

/// Log `message` at `level`.
pub fn log(level: Level, message: &str) {
    crate::__bindings::isaac::plugin::log::log(level, message);
}

/// Log at the `trace` level.
pub fn trace(message: &str) {
    log(Level::Trace, message);
}

/// Log at the `debug` level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Log at the `info` level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Log at the `warn` level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Log at the `error` level.
pub fn error(message: &str) {
    log(Level::Error, message);
}
