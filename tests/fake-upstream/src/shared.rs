//! The state the serving tasks and the test share: the current script and every query seen.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::Notify;

use crate::{Action, Seen};

/// A test's script: what to do with each query.
pub(crate) type Script = dyn Fn(&Seen) -> Action + Send + Sync;

pub(crate) struct Shared {
    script: RwLock<Arc<Script>>,
    seen: Mutex<Vec<Seen>>,
    /// Woken on every query, for `wait_for`.
    arrived: Notify,
}

impl Shared {
    pub(crate) fn new(script: Arc<Script>) -> Shared {
        Shared {
            script: RwLock::new(script),
            seen: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        }
    }

    pub(crate) fn set_script(&self, script: Arc<Script>) {
        *self.script.write().unwrap_or_else(PoisonError::into_inner) = script;
    }

    /// Ask the current script what to do with `seen`, then record it. The script runs outside
    /// every lock, so a script may itself call back into the fake (count, set_script).
    pub(crate) fn decide(&self, seen: Seen) -> Action {
        let script = Arc::clone(&self.script.read().unwrap_or_else(PoisonError::into_inner));
        let action = script(&seen);
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(seen);
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
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn arrived(&self) -> &Notify {
        &self.arrived
    }
}
