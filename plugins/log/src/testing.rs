//! A recording [`LineSink`] for tests.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::output::LineSink;

/// Keeps every line as the server would print it: `[INFO] LINE`.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl LineSink for Captured {
    fn write(&self, line: fmt::Arguments<'_>) {
        self.0.lock().unwrap().push(format!("[INFO] {line}"));
    }
}
