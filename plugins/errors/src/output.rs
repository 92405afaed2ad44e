//! Where the errors plugin's lines go: stdout in the server, a recorder in tests.

use std::fmt;

use plugin::log::Level;

/// Receives one log line of the errors plugin (without the `[LEVEL] plugin/errors: ` prefix).
pub trait ErrorLog: Send + Sync + 'static {
    fn write(&self, level: Level, message: fmt::Arguments<'_>);
}

/// The server's log: `[LEVEL] plugin/errors: ...` on stdout; `[DEBUG]` lines only when the
/// `debug` plugin is on (plugins-core.md, errors step 5).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

impl ErrorLog for Stdout {
    fn write(&self, level: Level, message: fmt::Arguments<'_>) {
        plugin::log::write(level, Some(crate::NAME), message);
    }
}
