//! The state the serving tasks and the test share: the current script and every query seen.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::Notify;

use crate::log::skipped;
use crate::{Action, Seen};

/// A test's script: what to do with each query.
pub(crate) type Script = dyn Fn(&Seen) -> Action + Send + Sync;

pub(crate) struct Shared {
    script: RwLock<Arc<Script>>,
    seen: Mutex<Vec<Seen>>,
    /// Every query that arrived, kept or not.
    count: AtomicUsize,
    /// Whether queries are kept for `seen()`; off for benchmarks, so memory stays flat.
    recording: AtomicBool,
    /// Woken on every query, for `wait_for`.
    arrived: Notify,
}

impl Shared {
    pub(crate) fn new(script: Arc<Script>) -> Shared {
        Shared {
            script: RwLock::new(script),
            seen: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            recording: AtomicBool::new(true),
            arrived: Notify::new(),
        }
    }

    pub(crate) fn set_script(&self, script: Arc<Script>) {
        *self.script.write().unwrap_or_else(PoisonError::into_inner) = script;
    }

    pub(crate) fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// Ask the current script what to do with `seen`, then record it. The script runs outside
    /// every lock, so it may call back into the fake (count, set_script). A script that
    /// panics (a test's bug, e.g. indexing the question of a query without one) costs that
    /// query its answer, not the whole server.
    pub(crate) fn decide(&self, seen: Seen) -> Action {
        let script = Arc::clone(&self.script.read().unwrap_or_else(PoisonError::into_inner));
        let action = catch_unwind(AssertUnwindSafe(|| script(&seen))).unwrap_or_else(|_| {
            skipped(format_args!(
                "the script panicked on the query from {}; not answered",
                seen.source
            ));
            Action::Drop
        });
        if self.recording.load(Ordering::Relaxed) {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(seen);
        }
        self.count.fetch_add(1, Ordering::Release);
        self.arrived.notify_waiters();
        action
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub(crate) fn arrived(&self) -> &Notify {
        &self.arrived
    }
}
