//! The plugin: answers from the stores, or passes the query on and keeps the reply
//! (plugins-resolution.md §2).

use std::sync::Arc;

use plugin::response::Flags;
use plugin::{Next, Plugin, Reply, Request, Response};
use tokio::time::Instant;

use crate::NAME;
use crate::absorb::{Client, Origin};
use crate::config::StaleMode;
use crate::entry::Entry;
use crate::key::Key;
use crate::refresh::{
    RefreshKind, downstream_request, judge_stale_refresh, spawn_refresh, spawn_verify,
};
use crate::state::{Question, State};

pub struct Cache {
    state: Arc<State>,
}

impl Cache {
    pub fn new(state: State) -> Cache {
        Cache {
            state: Arc::new(state),
        }
    }

    /// The instance's state, for tests.
    #[cfg(test)]
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }
}

impl Plugin for Cache {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let state = &self.state;
        // Outside the cache's zones nothing is looked up, stored or rewritten.
        if plugin::zones::longest_match(&state.config.zones, req.qname_lower()).is_none() {
            return next.serve(req);
        }
        // The time the query was received (one clock read per received batch): a hit
        // counts its TTL down from it.
        let now = Instant::from_std(req.received());
        let key = Key::of(req);
        let Some((entry, _)) = state.lookup(req.server(), key, Question::of(req), now) else {
            return self.miss(req, next, key);
        };
        let client = Client::of(req);
        let remaining = entry.remaining(now);
        if remaining > 0 {
            let prefetch = &state.config.prefetch;
            if prefetch.amount > 0 && should_prefetch(&entry, now, prefetch) {
                spawn_refresh(state, req, &next, key, &entry, RefreshKind::Prefetch, now);
            }
            return Reply::answer(hit_response(
                req,
                client,
                &entry,
                state.fresh_ttl_of(&entry, remaining),
            ));
        }
        // Expired but within the serve_stale window (the lookup checked).
        let stale = state.config.serve_stale;
        if let Some(StaleMode::Verify { timeout }) = stale.map(|s| s.mode) {
            let recheck = stale.map(|s| s.recheck).unwrap_or_default();
            let track = !recheck.is_zero();
            if !track || entry.begin_refresh(now, recheck) {
                return self.verify(req, next, key, entry, timeout, track);
            }
        } else {
            spawn_refresh(state, req, &next, key, &entry, RefreshKind::Stale, now);
        }
        Reply::answer(self.stale_answer(req, client, &entry))
    }
}

impl Cache {
    /// Nothing usable: the query goes downstream with AD=1 and the reply comes back through
    /// [`State::absorb`].
    fn miss<'a>(&'a self, req: &'a Request, next: Next<'a>, key: Key) -> Reply<'a> {
        let state = &*self.state;
        let client = Client::of(req);
        if client.authentic_data {
            // The query already asks for AD: no copy, and no future when the reply is ready.
            return next.serve(req).map(move |outcome| {
                outcome.map(|resp| state.absorb(req, client, key, resp, Origin::Query).response)
            });
        }
        Reply::pending(async move {
            let down = downstream_request(req, req.transport());
            let outcome = next.serve(&down).await;
            // A reply the server writes itself (Err) is never seen, never stored (§2.8).
            outcome.map(|resp| state.absorb(req, client, key, resp, Origin::Query).response)
        })
    }

    /// serve_stale verify (§2.7): ask downstream first; an accepted reply is stored and
    /// returned, anything else gets the stale entry.
    fn verify<'a>(
        &'a self,
        req: &'a Request,
        next: Next<'a>,
        key: Key,
        entry: Arc<Entry>,
        timeout: std::time::Duration,
        track: bool,
    ) -> Reply<'a> {
        let state = &self.state;
        let client = Client::of(req);
        Reply::pending(async move {
            if timeout.is_zero() {
                let down = downstream_request(req, req.transport());
                let refreshed = match next.serve(&down).await {
                    Ok(resp) => judge_stale_refresh(state, req, client, key, resp, Origin::Query),
                    Err(_) => crate::refresh::Verified {
                        refreshed: false,
                        response: None,
                        stored: None,
                    },
                };
                if track {
                    let recheck = state
                        .config
                        .serve_stale
                        .map(|s| s.recheck)
                        .unwrap_or_default();
                    entry.end_refresh(Instant::now(), recheck, refreshed.refreshed);
                }
                if let (true, Some(response)) = (refreshed.refreshed, refreshed.response) {
                    return Ok(response);
                }
            } else {
                match spawn_verify(state, req, &next, key, &entry, track) {
                    Some(verdict) => {
                        if let Ok(Ok(verdict)) = tokio::time::timeout(timeout, verdict).await
                            && verdict.refreshed
                            && let Some(response) = verdict.response
                        {
                            return Ok(response);
                        }
                    }
                    // No runtime to run it: the refresh claimed above is released.
                    None if track => entry.end_refresh(Instant::now(), Default::default(), true),
                    None => {}
                }
            }
            Ok(self.stale_answer(req, client, &entry))
        })
    }

    /// A reply from an expired entry: TTL RESPONSE_TTL when set, else 0 (the stored duration
    /// under `keepttl`), counted as served stale (§2.7).
    fn stale_answer(&self, req: &Request, client: Client, entry: &Entry) -> Response {
        let state = &self.state;
        state.count(&state.metrics.served_stale, req.server());
        let response_ttl = state.config.serve_stale.map_or(0, |s| s.response_ttl);
        let ttl = if response_ttl > 0 {
            response_ttl
        } else if state.config.keepttl {
            entry.duration
        } else {
            0
        };
        hit_response(req, client, entry, ttl)
    }
}

impl State {
    /// The TTL a fresh hit shows: the remaining seconds, or the stored duration under
    /// `keepttl` (§2.4).
    pub fn fresh_ttl(&self, entry: &Entry, now: Instant) -> u32 {
        self.fresh_ttl_of(entry, entry.remaining(now))
    }

    /// [`State::fresh_ttl`] with the entry's [`Entry::remaining`] seconds already known.
    pub fn fresh_ttl_of(&self, entry: &Entry, remaining: i64) -> u32 {
        if self.config.keepttl {
            return entry.duration;
        }
        u32::try_from(remaining.max(0)).unwrap_or(u32::MAX)
    }
}

/// A prefetch is due (§2.6): the hit count reached AMOUNT and at most PERCENTAGE of the
/// duration is left (ceil, in floating point as CoreDNS computes it).
fn should_prefetch(entry: &Entry, now: Instant, prefetch: &crate::config::PrefetchConfig) -> bool {
    let hits = entry.count_hit(now, prefetch.window);
    let threshold = (f64::from(prefetch.percentage) / 100.0 * f64::from(entry.duration)).ceil();
    hits >= prefetch.amount && (entry.remaining(now) as f64) <= threshold
}

/// The reply a hit sends (§2.4): the client's ID, opcode, RD, CD and question (encoded by the
/// server from the query); AA=1; RA, rcode and AD from the entry, AD only for clients that
/// set DO or AD; the stored sections shared, every record shown with `ttl`.
pub fn hit_response(req: &Request, client: Client, entry: &Entry, ttl: u32) -> Response {
    Response {
        rcode: entry.rcode,
        flags: Flags {
            authoritative: true,
            truncated: false,
            recursion_desired: req.recursion_desired(),
            recursion_available: entry.recursion_available,
            authentic_data: entry.authentic_data && client.may_see_ad(),
            checking_disabled: req.checking_disabled(),
        },
        answers: entry.answers.clone(),
        authorities: entry.authorities.clone(),
        additionals: entry.additionals.clone(),
        edns: None,
        plugin: NAME,
        uniform_ttl: Some(ttl),
        question: None,
        prepared: entry.prepared_for(req),
    }
}
