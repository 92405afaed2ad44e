//! Injected faults: answers with an error status for the next N requests or for paths
//! matching a pattern, and a delay before every answer (a slow API server).

use std::time::Duration;

/// The fault settings; checked once per API request.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    fail_next: u32,
    fail_next_status: u16,
    fail_paths: Vec<(glob::Pattern, u16)>,
    pub delay: Duration,
}

impl Faults {
    pub fn fail_next(&mut self, count: u32, status: u16) {
        self.fail_next = count;
        self.fail_next_status = status;
    }

    pub fn fail_path(&mut self, pattern: glob::Pattern, status: u16) {
        self.fail_paths.push((pattern, status));
    }

    pub fn clear(&mut self) {
        self.fail_next = 0;
        self.fail_paths.clear();
        self.delay = Duration::ZERO;
    }

    /// The status to fail this request with, if any; counts down `fail_next`.
    pub fn failure_for(&mut self, path: &str) -> Option<u16> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Some(self.fail_next_status);
        }
        self.fail_paths
            .iter()
            .find(|(pattern, _)| pattern.matches(path))
            .map(|(_, status)| *status)
    }
}
