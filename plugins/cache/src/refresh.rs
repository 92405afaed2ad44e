//! Queries cache sends downstream itself, and the background refreshes of prefetch and
//! serve_stale (plugins-resolution.md §2.6, §2.7, §2.9).

use std::sync::Arc;
use std::time::Duration;

use plugin::{OwnedNext, Request, Transport};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::absorb::{Client, Origin, refresh_accepted, usable_answer};
use crate::cache::hit_response;
use crate::entry::Entry;
use crate::key::Key;
use crate::state::State;

/// The AD bit in the second flags byte of a DNS header (RFC 4035 §3.2.3 / RFC 6840 §5.7).
const AD_FLAG: u8 = 0x20;

/// A copy of `req` with AD=1, as cache sends it downstream so that upstreams report
/// authenticated data even when the client did not ask (§2.9, CoreDNS 1.14.7). Keeps the
/// client, the EDNS size after `bufsize`, and the given transport (TCP for background
/// refreshes: no client size limit applies).
pub fn downstream_request(req: &Request, transport: Transport) -> Request {
    let mut message = req.message().clone();
    message.metadata.authentic_data = true;
    if let (Some(edns), Some(size)) = (message.edns.as_mut(), req.edns_udp_size()) {
        edns.set_max_payload(size);
    }
    let mut wire = req.wire().to_vec();
    if let Some(flags) = wire.get_mut(3) {
        *flags |= AD_FLAG;
    }
    Request::from_message(
        message,
        wire.into(),
        req.client(),
        req.local(),
        transport,
        req.server().clone(),
    )
}

/// Why a background refresh runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshKind {
    /// A fresh entry near its end (§2.6): any cacheable reply replaces it.
    Prefetch,
    /// An expired entry served `immediate` (§2.7): only an accepted reply replaces it.
    Stale,
}

/// What a verify refresh running in the background reports back.
pub struct Verified {
    /// The reply replaced the stale entry.
    pub refreshed: bool,
    /// What the client would be sent: the processed reply.
    pub response: Option<plugin::Response>,
    /// The entry the reply was stored as, if it was cacheable.
    pub stored: Option<Arc<Entry>>,
}

impl Verified {
    const REJECTED: Verified = Verified {
        refreshed: false,
        response: None,
        stored: None,
    };
}

/// Starts the refresh of `entry` for `req` in the background unless one is already running
/// (or, for a stale entry under RECHECK, failed too recently). Counts `prefetch_total`.
pub fn spawn_refresh(
    state: &Arc<State>,
    req: &Request,
    next: &plugin::Next<'_>,
    key: Key,
    entry: &Arc<Entry>,
    kind: RefreshKind,
    hit_at: Instant,
) {
    let recheck = match kind {
        RefreshKind::Prefetch => Duration::ZERO,
        RefreshKind::Stale => state
            .config
            .serve_stale
            .map_or(Duration::ZERO, |s| s.recheck),
    };
    // Nothing outside a runtime could run the refresh (a plugin driven by hand in a test).
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    if !entry.begin_refresh(Instant::now(), recheck) {
        return;
    }
    state.count(&state.metrics.prefetch, req.server());
    let state = state.clone();
    let entry = entry.clone();
    let next = next.to_owned();
    let down = downstream_request(req, Transport::Tcp);
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let refreshed = refresh(&state, &next, &down, key, kind).await;
        if refreshed && let Some(new) = state.existing(key) {
            // The replacement keeps counting where the old entry was (§2.6).
            new.inherit_hits(hit_at, entry.hits());
        }
        entry.end_refresh(Instant::now(), recheck, refreshed);
    });
}

/// One background refresh; true when the entry was replaced.
async fn refresh(
    state: &State,
    next: &OwnedNext,
    down: &Request,
    key: Key,
    kind: RefreshKind,
) -> bool {
    let Ok(resp) = next.as_next().serve(down).await else {
        // Not written (timeouts, no next plugin): nothing to store.
        return kind == RefreshKind::Prefetch;
    };
    let client = Client::of(down);
    match kind {
        RefreshKind::Prefetch => {
            state.absorb(down, client, key, resp, Origin::Background);
            true
        }
        RefreshKind::Stale => {
            judge_stale_refresh(state, down, client, key, resp, Origin::Background).refreshed
        }
    }
}

/// Stores a refresh of a stale entry the way serve_stale accepts it (§2.7): an accepted
/// reply replaces the entry; under `prefer_positive` only an answering reply counts, though
/// any other cacheable one is still stored (the old answer stays as last known good).
pub fn judge_stale_refresh(
    state: &State,
    req: &Request,
    client: Client,
    key: Key,
    resp: plugin::Response,
    origin: Origin,
) -> Verified {
    let accepted = if state.config.prefer_positive {
        usable_answer(req, &resp)
    } else {
        refresh_accepted(req, &resp)
    };
    if accepted {
        let absorbed = state.absorb(req, client, key, resp, origin);
        return Verified {
            refreshed: true,
            response: Some(absorbed.response),
            stored: absorbed.stored,
        };
    }
    if state.config.prefer_positive
        && !resp.flags.truncated
        && crate::absorb::question_matches(req, &resp)
    {
        state.absorb(req, client, key, resp, Origin::Background);
    }
    Verified::REJECTED
}

/// The verify refresh with a TIMEOUT (§2.7): it runs in the background so that it can finish
/// and update the cache after the client was answered from the stale entry. The receiver
/// gets the verdict when it completes.
pub fn spawn_verify(
    state: &Arc<State>,
    req: &Request,
    next: &plugin::Next<'_>,
    key: Key,
    entry: &Arc<Entry>,
    track: bool,
) -> Option<oneshot::Receiver<Verified>> {
    tokio::runtime::Handle::try_current().ok()?;
    let (tx, rx) = oneshot::channel();
    let state = state.clone();
    let entry = entry.clone();
    let next = next.to_owned();
    let down = downstream_request(req, req.transport());
    // The client's bits decide AD in the reply, not the AD=1 of the query sent down.
    let client = Client::of(req);
    let recheck = state
        .config
        .serve_stale
        .map_or(Duration::ZERO, |s| s.recheck);
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let verdict = match next.as_next().serve(&down).await {
            Ok(resp) => {
                let mut verdict =
                    judge_stale_refresh(&state, &down, client, key, resp, Origin::Background);
                // A stored reply is shown as a hit shows it (AA=1, remaining TTL).
                if let (Some(new), Some(response)) = (&verdict.stored, verdict.response.as_mut()) {
                    *response =
                        hit_response(&down, client, new, state.fresh_ttl(new, Instant::now()));
                }
                verdict
            }
            Err(_) => Verified::REJECTED,
        };
        if track {
            entry.end_refresh(Instant::now(), recheck, verdict.refreshed);
        }
        let _ = tx.send(verdict);
    });
    Some(rx)
}
