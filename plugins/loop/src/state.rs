//! What the handler and the prober share: the probe name, the pass counter and whether
//! detection is still on (plugins-core.md, loop, steps 3–4).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use plugin::Request;

/// What happens when a loop is detected; receives the log message (without the
/// `[FATAL] plugin/loop: ` prefix). The server's action logs it and exits with status 1
/// ([`crate::exit_on_loop`]); tests record it.
pub type OnLoop = Arc<dyn Fn(&str) + Send + Sync>;

pub struct LoopState {
    /// The block's first zone: only HINFO queries inside it are looked at.
    zone: String,
    /// `<R1>.<R2>.<ZONE>`, lower case.
    probe: String,
    /// The block's first listen address as CoreDNS prints it (`:53`).
    listen: String,
    /// How often the probe passed through this handler.
    seen: AtomicU32,
    disabled: AtomicBool,
    on_loop: OnLoop,
}

impl LoopState {
    pub fn new(zone: String, probe: String, listen: String, on_loop: OnLoop) -> LoopState {
        LoopState {
            zone,
            probe: probe.to_ascii_lowercase(),
            listen,
            seen: AtomicU32::new(0),
            disabled: AtomicBool::new(false),
            on_loop,
        }
    }

    pub fn probe(&self) -> &str {
        &self.probe
    }

    pub fn zone(&self) -> &str {
        &self.zone
    }

    pub fn seen(&self) -> u32 {
        self.seen.load(Ordering::SeqCst)
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::SeqCst)
    }

    /// For good: a reply to the probe came back, or the 30 s are over.
    pub fn disable(&self) {
        self.disabled.store(true, Ordering::SeqCst);
    }

    /// After a probe that got no reply: its passes do not count towards the next one's.
    pub fn reset(&self) {
        self.seen.store(0, Ordering::SeqCst);
    }

    /// Looks at an HINFO query on its way to the next plugin. The third pass of the probe
    /// (and any in-zone HINFO query after that) is a loop: the message goes to `on_loop`.
    pub fn observe(&self, req: &Request) {
        if self.is_disabled() {
            return;
        }
        let name = req.qname_lower();
        if !plugin::zones::is_subdomain(&self.zone, name) {
            return;
        }
        let seen = if name == self.probe {
            self.seen.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.seen()
        };
        if seen > 2 {
            (self.on_loop)(&format!(
                "Loop ({} -> {}) detected for zone {:?}, see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {}\"",
                req.client(),
                self.listen,
                self.zone,
                self.probe
            ));
        }
    }
}
