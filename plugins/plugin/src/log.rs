//! CoreDNS's log lines: stdout, no timestamp (Kubernetes adds one), `[LEVEL] plugin/NAME: text`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Turns `[DEBUG]` lines on or off (on when any block has the `debug` directive).
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

/// Writes one line. `plugin` adds the `plugin/NAME: ` prefix. Debug lines only when enabled.
pub fn write(level: Level, plugin: Option<&str>, message: std::fmt::Arguments<'_>) {
    if level == Level::Debug && !debug_enabled() {
        return;
    }
    let line = match plugin {
        Some(name) => format!("[{}] plugin/{}: {}\n", level.as_str(), name, message),
        None => format!("[{}] {}\n", level.as_str(), message),
    };
    // One write per line so concurrent lines never interleave; a closed stdout is not fatal.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

pub fn info(plugin: Option<&str>, message: std::fmt::Arguments<'_>) {
    write(Level::Info, plugin, message)
}

pub fn warning(plugin: Option<&str>, message: std::fmt::Arguments<'_>) {
    write(Level::Warning, plugin, message)
}

pub fn error(plugin: Option<&str>, message: std::fmt::Arguments<'_>) {
    write(Level::Error, plugin, message)
}

pub fn debug(plugin: Option<&str>, message: std::fmt::Arguments<'_>) {
    write(Level::Debug, plugin, message)
}
