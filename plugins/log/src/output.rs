//! Where log lines go: stdout in the server, a recorder in tests.

use std::fmt;

/// Receives one formatted query line (without the `[INFO] ` prefix).
pub trait LineSink: Send + Sync + 'static {
    fn write(&self, line: fmt::Arguments<'_>);
}

/// `[INFO] LINE` on stdout, without a plugin prefix, as CoreDNS's log plugin prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stdout;

impl LineSink for Stdout {
    fn write(&self, line: fmt::Arguments<'_>) {
        plugin::log::info(None, line);
    }
}
