//! One upstream of an instance: its transport and health state (plugins-resolution.md §1.8).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::transport::UpstreamTransport;

pub struct Upstream {
    pub transport: UpstreamTransport,
    /// Consecutive failed health probes; only a successful probe resets it.
    fails: AtomicU32,
    /// A probe loop is running (at most one per upstream).
    probing: AtomicBool,
}

impl Upstream {
    pub fn new(transport: UpstreamTransport) -> Self {
        Upstream {
            transport,
            fails: AtomicU32::new(0),
            probing: AtomicBool::new(false),
        }
    }

    /// Down when more than `max_fails` probes failed in a row; `max_fails` 0: never down.
    pub fn is_down(&self, max_fails: u32) -> bool {
        max_fails != 0 && self.fails.load(Ordering::Relaxed) > max_fails
    }

    pub fn fails(&self) -> u32 {
        self.fails.load(Ordering::Relaxed)
    }

    pub(crate) fn probe_failed(&self) {
        self.fails.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn probe_succeeded(&self) {
        self.fails.store(0, Ordering::Relaxed);
    }

    /// Claims the probe loop; false when one is already running.
    pub(crate) fn start_probing(&self) -> bool {
        !self.probing.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn stop_probing(&self) {
        self.probing.store(false, Ordering::Release);
    }

    pub fn is_probing(&self) -> bool {
        self.probing.load(Ordering::Acquire)
    }
}
