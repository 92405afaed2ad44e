//! A reply written downstream passing through cache (plugins-resolution.md §2.2, §2.4): made
//! uniform in TTL, stripped of its OPT, stored when cacheable.

use std::sync::Arc;

use plugin::classify::ReplyType;
use plugin::proto::op::ResponseCode;
use plugin::proto::rr::RecordType;
use plugin::{Request, Response, Section};
use tokio::time::Instant;

use crate::classify::{answers_question, has_soa, is_nodata, reply_type, unix_now};
use crate::entry::{Entry, EntryMeta};
use crate::key::Key;
use crate::state::{State, StoreKind};
use crate::ttl;

/// The bits of the client's query that decide whether AD survives (§2.9).
#[derive(Clone, Copy, Debug)]
pub struct Client {
    pub dnssec_ok: bool,
    pub authentic_data: bool,
}

impl Client {
    pub fn of(req: &Request) -> Self {
        Client {
            dnssec_ok: req.do_bit(),
            authentic_data: req.authentic_data(),
        }
    }

    /// AD may be shown only to a client that set DO or AD (RFC 6840 §5.7–5.8).
    pub fn may_see_ad(self) -> bool {
        self.dnssec_ok || self.authentic_data
    }
}

/// Who is storing: the client's own query, or a background refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Query,
    /// prefetch, a stale refresh or a verify continuing after its TIMEOUT: a positive reply
    /// then also removes a denial under the same key (§2.6).
    Background,
}

/// The outcome of [`State::absorb`].
pub struct Absorbed {
    /// What the client is sent.
    pub response: Response,
    /// The entry stored, when the reply was cacheable.
    pub stored: Option<Arc<Entry>>,
}

impl State {
    /// Handles `resp`, the downstream's reply to `req` (whose question, DO and CD are the
    /// client's), stored under `key`.
    pub fn absorb(
        &self,
        req: &Request,
        client: Client,
        key: Key,
        mut resp: Response,
        origin: Origin,
    ) -> Absorbed {
        let class = reply_type(req, &resp, unix_now());
        let duration = ttl::duration(
            &resp,
            class,
            &self.config.success,
            &self.config.denial,
            self.config.servfail,
        );
        // §2.4 step 3: every record shown with the duration, the OPT removed (hop by hop).
        resp.uniform_ttl = Some(duration);
        resp.edns = None;
        if resp
            .additionals
            .iter()
            .any(|r| r.record_type() == RecordType::OPT)
        {
            resp.additionals = without_opt(&resp.additionals);
        }
        let mut stored = None;
        if duration > 0 && cacheable(req, &resp, class) {
            if question_matches(req, &resp) {
                stored = self.store_reply(req, key, &resp, class, duration, origin);
                self.record_sizes(req.server());
            } else {
                self.count(&self.metrics.drops, req.server());
            }
        }
        if !client.may_see_ad() {
            resp.flags.authentic_data = false;
        }
        Absorbed {
            response: resp,
            stored,
        }
    }

    fn store_reply(
        &self,
        req: &Request,
        key: Key,
        resp: &Response,
        class: ReplyType,
        duration: u32,
        origin: Origin,
    ) -> Option<Arc<Entry>> {
        let kind = StoreKind::for_class(class)?;
        let disabled = match kind {
            StoreKind::Success => &self.config.disable_success,
            StoreKind::Denial => &self.config.disable_denial,
        };
        if plugin::zones::longest_match(disabled, req.qname_lower()).is_some() {
            return None;
        }
        let qname_lower = req.qname_lower();
        let (qtype, qclass) = (u16::from(req.qtype()), u16::from(req.qclass()));
        let answering = answers_question(req, resp);
        let prefer_positive = self.config.prefer_positive;
        let last_known_good = match kind {
            StoreKind::Success if prefer_positive && !answering => self
                .success
                .get(key)
                .and_then(|previous| previous.answering_entry(qname_lower, qtype, qclass)),
            _ => None,
        };
        let entry = Arc::new(Entry::new(
            qname_lower,
            EntryMeta {
                qtype,
                qclass,
                rcode: resp.rcode,
                authentic_data: resp.flags.authentic_data,
                recursion_available: resp.flags.recursion_available,
                duration,
                stored: Instant::now(),
                answering,
            },
            [
                resp.answers.clone(),
                resp.authorities.clone(),
                resp.additionals.clone(),
            ],
            last_known_good,
        ));
        self.put(req.server(), kind, key, entry.clone());
        // The newest state for the key is positive: a refresh drops the denial it replaces;
        // under prefer_positive only an answering reply does.
        let background = origin == Origin::Background;
        if kind == StoreKind::Success
            && ((!prefer_positive && background) || (prefer_positive && answering))
        {
            self.denial.remove(key);
        }
        Some(entry)
    }
}

/// Everything that may be stored as far as the reply itself goes (§2.2, §2.10).
fn cacheable(req: &Request, resp: &Response, class: ReplyType) -> bool {
    if resp.flags.truncated {
        return false;
    }
    match class {
        ReplyType::OtherError | ReplyType::Meta | ReplyType::Update => false,
        // Negative caching needs an SOA for its TTL (RFC 2308 §5).
        ReplyType::NxDomain => has_soa(resp),
        // A dangling CNAME chain without SOA: an incomplete recursion, not an answer.
        ReplyType::NoError => has_soa(resp) || !is_nodata(req, resp),
        _ => true,
    }
}

/// The reply is for the question asked: a plugin that answered another question says so
/// with [`Response::question`]; it must still match by name (any case), type and class.
pub fn question_matches(req: &Request, resp: &Response) -> bool {
    let (Some(asked), Some(answered)) = (req.query(), resp.question.as_deref()) else {
        return true;
    };
    asked.query_type() == answered.query_type()
        && asked.query_class() == answered.query_class()
        && asked.name().eq_ignore_root(answered.name())
}

/// A refreshed reply that may replace a stale entry (RFC 8767 §4, §2.7): it matches the
/// question, is complete, and is NOERROR or NXDOMAIN of a storable class.
pub fn refresh_accepted(req: &Request, resp: &Response) -> bool {
    if resp.flags.truncated || !question_matches(req, resp) {
        return false;
    }
    let class = reply_type(req, resp, unix_now());
    !matches!(
        class,
        ReplyType::OtherError | ReplyType::Meta | ReplyType::Update
    ) && matches!(resp.rcode, ResponseCode::NoError | ResponseCode::NXDomain)
}

/// Under `prefer_positive`: a complete NOERROR reply that answers the question.
pub fn usable_answer(req: &Request, resp: &Response) -> bool {
    !resp.flags.truncated
        && question_matches(req, resp)
        && reply_type(req, resp, unix_now()) == ReplyType::NoError
        && answers_question(req, resp)
}

fn without_opt(section: &Section) -> Section {
    section
        .iter()
        .filter(|r| r.record_type() != RecordType::OPT)
        .cloned()
        .collect::<Vec<_>>()
        .into()
}
