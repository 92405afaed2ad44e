//! One stored reply: its sections shared (`Arc`), the flags a hit replays, and the bookkeeping
//! of prefetch and stale refreshes (plugins-resolution.md §2.4, §2.6, §2.7).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use plugin::prepared::Prepared;
use plugin::proto::op::ResponseCode;
use plugin::{Request, Section};
use tokio::time::Instant;

/// A stored reply. Immutable once stored, except the hit counter and the refresh state.
#[derive(Debug)]
pub struct Entry {
    /// The question it answers (collision guard, §2.3): the lower-cased name, type, class.
    pub qname_lower: Box<str>,
    pub qtype: u16,
    pub qclass: u16,
    pub rcode: ResponseCode,
    /// AD as the downstream sent it; a hit clears it for clients that asked for neither DO nor
    /// AD (§2.9).
    pub authentic_data: bool,
    pub recursion_available: bool,
    pub answers: Section,
    pub authorities: Section,
    pub additionals: Section,
    /// The clamped TTL it was stored with, seconds (> 0).
    pub duration: u32,
    pub stored: Instant,
    /// It is a NOERROR reply that answers its question (§2.2), for `prefer_positive`.
    pub answering: bool,
    /// Under `prefer_positive`: the answering entry a non-answering reply replaced (§2.7).
    pub last_known_good: Option<Arc<Entry>>,
    hits: Mutex<HitCount>,
    refreshing: AtomicBool,
    /// After a failed stale refresh under RECHECK, no new one before this.
    retry_after: Mutex<Option<Instant>>,
    /// The sections encoded at the first hit, after that client's question (`None` when they
    /// cannot be): later hits asking with the same bytes copy them (`plugin::prepared`).
    prepared: OnceLock<Option<Arc<Prepared>>>,
}

#[derive(Debug, Default)]
struct HitCount {
    last: Option<Instant>,
    hits: u32,
}

/// What [`Entry::new`] needs besides the sections.
#[derive(Clone, Copy, Debug)]
pub struct EntryMeta {
    pub qtype: u16,
    pub qclass: u16,
    pub rcode: ResponseCode,
    pub authentic_data: bool,
    pub recursion_available: bool,
    pub duration: u32,
    pub stored: Instant,
    pub answering: bool,
}

impl Entry {
    pub fn new(
        qname_lower: &str,
        meta: EntryMeta,
        sections: [Section; 3],
        last_known_good: Option<Arc<Entry>>,
    ) -> Entry {
        let [answers, authorities, additionals] = sections;
        Entry {
            qname_lower: qname_lower.into(),
            qtype: meta.qtype,
            qclass: meta.qclass,
            rcode: meta.rcode,
            authentic_data: meta.authentic_data,
            recursion_available: meta.recursion_available,
            answers,
            authorities,
            additionals,
            duration: meta.duration,
            stored: meta.stored,
            answering: meta.answering,
            last_known_good,
            hits: Mutex::new(HitCount::default()),
            refreshing: AtomicBool::new(false),
            retry_after: Mutex::new(None),
            prepared: OnceLock::new(),
        }
    }

    /// The stored sections encoded after the first hit's question (built now for the first
    /// hit). The encoder copies them only when `req` spells its question the same way.
    pub fn prepared_for(&self, req: &Request) -> Option<Arc<Prepared>> {
        let sections = [&self.answers, &self.authorities, &self.additionals];
        self.prepared
            .get_or_init(|| {
                // A record the writer cannot encode makes every hit encode it (and fail) as
                // before.
                Prepared::encode(req, sections).ok().flatten().map(Arc::new)
            })
            .clone()
    }

    /// Seconds of life left: the duration minus the whole seconds elapsed since storing.
    /// Fresh while > 0; ≤ 0 is expired (§2.4).
    pub fn remaining(&self, now: Instant) -> i64 {
        let elapsed = now.saturating_duration_since(self.stored).as_secs();
        i64::from(self.duration) - i64::try_from(elapsed).unwrap_or(i64::MAX)
    }

    /// The collision guard: this entry was stored for the same question (§2.3).
    pub fn matches(&self, qname_lower: &str, qtype: u16, qclass: u16) -> bool {
        self.qtype == qtype && self.qclass == qclass && *self.qname_lower == *qname_lower
    }

    /// This entry, or the last known good one it keeps, when it answers the question
    /// (`prefer_positive`, §2.3).
    pub fn answering_entry(
        self: &Arc<Self>,
        qname_lower: &str,
        qtype: u16,
        qclass: u16,
    ) -> Option<Arc<Entry>> {
        let answers = |e: &Entry| e.answering && e.matches(qname_lower, qtype, qclass);
        if answers(self) {
            return Some(self.clone());
        }
        self.last_known_good
            .as_ref()
            .filter(|e| answers(e))
            .cloned()
    }

    /// Counts a fresh hit for prefetch (§2.6): a hit more than `window` after the previous one
    /// restarts the count at 1. Returns the count.
    pub fn count_hit(&self, now: Instant, window: Duration) -> u32 {
        let mut count = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let recent = count.last.is_some_and(|last| last + window >= now);
        count.hits = if recent {
            count.hits.saturating_add(1)
        } else {
            1
        };
        count.last = Some(now);
        count.hits
    }

    pub fn hits(&self) -> u32 {
        self.hits.lock().unwrap_or_else(|e| e.into_inner()).hits
    }

    /// Carries the hit count of the entry a prefetch replaced over to this one (§2.6).
    pub fn inherit_hits(&self, at: Instant, hits: u32) {
        let mut count = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        count.last = Some(at);
        count.hits = hits;
    }

    /// Claims the one refresh this entry may have running (§2.6, §2.7). With `recheck`, a
    /// failed refresh less than `recheck` ago also refuses.
    pub fn begin_refresh(&self, now: Instant, recheck: Duration) -> bool {
        if !recheck.is_zero() {
            let retry_after = *self.retry_after.lock().unwrap_or_else(|e| e.into_inner());
            if retry_after.is_some_and(|at| now < at) {
                return false;
            }
        }
        self.refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Releases the refresh claimed by [`Entry::begin_refresh`], remembering a failure when
    /// `recheck` is set.
    pub fn end_refresh(&self, now: Instant, recheck: Duration, refreshed: bool) {
        {
            let mut retry_after = self.retry_after.lock().unwrap_or_else(|e| e.into_inner());
            *retry_after = (!recheck.is_zero() && !refreshed).then(|| now + recheck);
        }
        self.refreshing.store(false, Ordering::Release);
    }
}
