//! A recording [`ErrorLog`] for tests.

use std::fmt;
use std::sync::{Arc, Mutex};

use plugin::log::Level;

use crate::output::ErrorLog;

/// Keeps every line as the server would print it: `[LEVEL] plugin/errors: ...`.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl ErrorLog for Captured {
    fn write(&self, level: Level, message: fmt::Arguments<'_>) {
        self.0.lock().unwrap().push(format!(
            "[{}] plugin/{}: {}",
            level.as_str(),
            crate::NAME,
            message
        ));
    }
}
