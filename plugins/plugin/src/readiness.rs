//! What `/ready` asks: the plugins of the blocks that contain `ready`.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::chain::Plugin;

/// How often a plugin is asked (`ready { monitor ... }`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Monitor {
    /// Once a plugin answered ready it is never asked again (CoreDNS's default).
    #[default]
    UntilReady,
    /// Asked on every request.
    Continuously,
}

/// The process-wide readiness set of one configuration instance.
#[derive(Default)]
pub struct Readiness {
    /// By plugin name: the same plugin in two blocks is consulted once, the last registered
    /// (CoreDNS keys its bookkeeping by name).
    plugins: RwLock<BTreeMap<&'static str, Arc<dyn Plugin>>>,
    monitor: RwLock<Monitor>,
    ready_once: Mutex<HashSet<&'static str>>,
    shutting_down: AtomicBool,
}

impl Readiness {
    pub fn new() -> Self {
        Readiness::default()
    }

    /// Adds the chain plugins of a block that contains `ready`.
    pub fn register(&self, plugins: &[Arc<dyn Plugin>]) {
        let mut map = self.plugins.write().unwrap_or_else(|e| e.into_inner());
        for plugin in plugins {
            map.insert(plugin.name(), plugin.clone());
        }
    }

    pub fn set_monitor(&self, monitor: Monitor) {
        *self.monitor.write().unwrap_or_else(|e| e.into_inner()) = monitor;
    }

    /// Names of the plugins not ready now, sorted.
    pub fn not_ready(&self) -> Vec<&'static str> {
        let continuous =
            *self.monitor.read().unwrap_or_else(|e| e.into_inner()) == Monitor::Continuously;
        let plugins = self.plugins.read().unwrap_or_else(|e| e.into_inner());
        let mut once = self.ready_once.lock().unwrap_or_else(|e| e.into_inner());
        let mut waiting = Vec::new();
        for (name, plugin) in plugins.iter() {
            if !continuous && once.contains(name) {
                continue;
            }
            if plugin.ready() {
                once.insert(name);
            } else {
                waiting.push(*name);
            }
        }
        waiting
    }

    /// Marks the instance as stopping: `/ready` answers `503 Shutting down`.
    pub fn set_shutting_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}
