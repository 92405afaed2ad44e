//! What one `cache` instance owns: its settings, both stores and its metric labels. Shared
//! (`Arc`) with the background refreshes it starts.

use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;

use plugin::Request;
use plugin::classify::ReplyType;
use prometheus_client::metrics::counter::Counter;

use crate::config::CacheConfig;
use crate::entry::Entry;
use crate::key::Key;
use crate::metrics::{CacheLabels, CacheMetrics, StoreLabels};
use crate::store::{Store, Stored};

/// Which store an entry lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Success,
    Denial,
}

impl StoreKind {
    /// The `type` label.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Success => "success",
            StoreKind::Denial => "denial",
        }
    }

    /// The store a reply class goes to, if any (§2.2).
    pub fn for_class(class: ReplyType) -> Option<StoreKind> {
        match class {
            ReplyType::NoError | ReplyType::Delegation => Some(StoreKind::Success),
            ReplyType::NxDomain | ReplyType::NoData | ReplyType::ServerError => {
                Some(StoreKind::Denial)
            }
            _ => None,
        }
    }
}

/// The question a lookup is for: what the collision guard compares (§2.3).
#[derive(Clone, Copy, Debug)]
pub struct Question<'q> {
    pub qname_lower: &'q str,
    pub qtype: u16,
    pub qclass: u16,
}

impl<'q> Question<'q> {
    pub fn of(req: &'q Request) -> Self {
        Question {
            qname_lower: req.qname_lower(),
            qtype: u16::from(req.qtype()),
            qclass: u16::from(req.qclass()),
        }
    }
}

pub struct State {
    pub config: CacheConfig,
    pub success: Store,
    pub denial: Store,
    pub metrics: Arc<CacheMetrics>,
    /// The `zones` label: the zones joined by `,` in configuration order.
    pub zones_label: Arc<str>,
    /// The `view` label: empty, there are no views in this server.
    pub view_label: Arc<str>,
    /// The instance's tasks: background refreshes stop with it.
    pub tasks: plugin::tasks::Tasks,
    /// `serve_stale` DURATION in whole seconds (0: no stale answers).
    stale_up_to: i64,
    /// The counters every lookup touches, per `server` label, found by pointer: a family
    /// lookup hashes the whole label set, which cost more than the cache lookup itself.
    lookup_counters: ArcSwap<Vec<(Arc<str>, Arc<LookupCounters>)>>,
    lookup_counters_added: Mutex<()>,
}

/// `coredns_cache_requests_total`, `…_misses_total` and `…_hits_total{type}` of one server.
/// The last three are created when first counted: a series appears once touched (metrics.md).
pub struct LookupCounters {
    requests: Counter,
    misses: OnceLock<Counter>,
    success_hits: OnceLock<Counter>,
    denial_hits: OnceLock<Counter>,
}

/// The lookup counters of `server` in `list`, if it has them.
fn counters_of<'l>(
    list: &'l [(Arc<str>, Arc<LookupCounters>)],
    server: &Arc<str>,
) -> Option<&'l Arc<LookupCounters>> {
    list.iter()
        .find(|(s, _)| Arc::ptr_eq(s, server) || **s == **server)
        .map(|(_, counters)| counters)
}

impl State {
    pub fn new(
        config: CacheConfig,
        metrics: Arc<CacheMetrics>,
        tasks: plugin::tasks::Tasks,
    ) -> State {
        let stale_up_to = config
            .serve_stale
            .map_or(0, |s| i64::try_from(s.up_to.as_secs()).unwrap_or(i64::MAX));
        State {
            success: Store::new(config.success.capacity),
            denial: Store::new(config.denial.capacity),
            zones_label: Arc::from(config.zones.join(",")),
            view_label: Arc::from(""),
            metrics,
            tasks,
            stale_up_to,
            config,
            lookup_counters: ArcSwap::from_pointee(Vec::new()),
            lookup_counters_added: Mutex::new(()),
        }
    }

    /// Runs `count` with the lookup counters of `server`, creating them on first use.
    fn with_lookup_counters(&self, server: &Arc<str>, count: impl FnOnce(&LookupCounters)) {
        // Counted through the loaded list, without taking a reference of its own: on a hit
        // every atomic operation shows.
        let list = self.lookup_counters.load();
        if let Some(counters) = counters_of(&list, server) {
            count(counters);
            return;
        }
        drop(list);
        let _adding = self
            .lookup_counters_added
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let listed = self.lookup_counters.load();
        let counters = counters_of(&listed, server).cloned().unwrap_or_else(|| {
            let created = Arc::new(LookupCounters {
                requests: self
                    .metrics
                    .requests
                    .get_or_create(&self.labels(server))
                    .clone(),
                misses: OnceLock::new(),
                success_hits: OnceLock::new(),
                denial_hits: OnceLock::new(),
            });
            let mut list = Vec::clone(&self.lookup_counters.load());
            list.push((server.clone(), created.clone()));
            self.lookup_counters.store(Arc::new(list));
            created
        });
        count(&counters);
    }

    pub fn store(&self, kind: StoreKind) -> &Store {
        match kind {
            StoreKind::Success => &self.success,
            StoreKind::Denial => &self.denial,
        }
    }

    /// A usable entry for the question: fresh, or expired for less than the `serve_stale`
    /// duration. Denial first, then success; a cached SERVFAIL yields to a usable success
    /// entry; `prefer_positive` tries an answering success entry first (§2.3). Counts the
    /// request and the hit or miss.
    pub fn lookup(
        &self,
        server: &Arc<str>,
        key: Key,
        q: Question<'_>,
        now: tokio::time::Instant,
    ) -> Option<(Arc<Entry>, StoreKind)> {
        let found = self.find(key, q, now);
        self.with_lookup_counters(server, |counters| {
            counters.requests.inc();
            let hits = |kind| {
                self.metrics
                    .hits
                    .get_or_create(&self.store_labels(server, kind))
                    .clone()
            };
            match &found {
                Some((_, StoreKind::Success)) => counters
                    .success_hits
                    .get_or_init(|| hits(StoreKind::Success))
                    .inc(),
                Some((_, StoreKind::Denial)) => counters
                    .denial_hits
                    .get_or_init(|| hits(StoreKind::Denial))
                    .inc(),
                None => counters
                    .misses
                    .get_or_init(|| {
                        self.metrics
                            .misses
                            .get_or_create(&self.labels(server))
                            .clone()
                    })
                    .inc(),
            };
        });
        found
    }

    fn find(
        &self,
        key: Key,
        q: Question<'_>,
        now: tokio::time::Instant,
    ) -> Option<(Arc<Entry>, StoreKind)> {
        let usable = |e: &Entry| {
            let remaining = e.remaining(now);
            remaining > 0 || (self.stale_up_to > 0 && -remaining < self.stale_up_to)
        };
        let matching = |e: &Arc<Entry>| e.matches(q.qname_lower, q.qtype, q.qclass) && usable(e);
        if self.config.prefer_positive && self.stale_up_to > 0 {
            let answering = self
                .success
                .get(key)
                .and_then(|e| e.answering_entry(q.qname_lower, q.qtype, q.qclass))
                .filter(|e| usable(e));
            if let Some(entry) = answering {
                return Some((entry, StoreKind::Success));
            }
        }
        if let Some(denial) = self.denial.get(key).filter(matching) {
            // A SERVFAIL is transient: a good answer still in the success store wins.
            if denial.rcode == plugin::proto::op::ResponseCode::ServFail
                && let Some(success) = self.success.get(key).filter(matching)
            {
                return Some((success, StoreKind::Success));
            }
            return Some((denial, StoreKind::Denial));
        }
        self.success
            .get(key)
            .filter(matching)
            .map(|e| (e, StoreKind::Success))
    }

    /// The entry under `key` in either store, usable or not (denial first).
    pub fn existing(&self, key: Key) -> Option<Arc<Entry>> {
        self.denial.get(key).or_else(|| self.success.get(key))
    }

    /// Puts `entry` in the store of `kind`, counting an eviction.
    pub fn put(&self, server: &Arc<str>, kind: StoreKind, key: Key, entry: Arc<Entry>) {
        if self.store(kind).insert(key, entry) == Stored::Evicted {
            self.metrics
                .evictions
                .get_or_create(&self.store_labels(server, kind))
                .inc();
        }
    }

    /// `coredns_cache_entries` for both stores, set after a store.
    pub fn record_sizes(&self, server: &Arc<str>) {
        for kind in [StoreKind::Success, StoreKind::Denial] {
            let len = i64::try_from(self.store(kind).len()).unwrap_or(i64::MAX);
            self.metrics
                .entries
                .get_or_create(&self.store_labels(server, kind))
                .set(len);
        }
    }

    pub fn labels(&self, server: &Arc<str>) -> CacheLabels {
        CacheLabels {
            server: server.clone(),
            view: self.view_label.clone(),
            zones: self.zones_label.clone(),
        }
    }

    fn store_labels(&self, server: &Arc<str>, kind: StoreKind) -> StoreLabels {
        StoreLabels {
            server: server.clone(),
            r#type: kind.as_str(),
            view: self.view_label.clone(),
            zones: self.zones_label.clone(),
        }
    }

    /// Increments `family`'s counter for this instance on `server`.
    pub fn count(
        &self,
        family: &prometheus_client::metrics::family::Family<CacheLabels, Counter>,
        server: &Arc<str>,
    ) {
        family.get_or_create(&self.labels(server)).inc();
    }
}
