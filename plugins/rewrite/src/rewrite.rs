//! The `rewrite` plugin: rewrites the query for the rest of the chain and maps the reply back
//! (plugins-resolution.md §4.2).

use std::borrow::Cow;

use bytes::Bytes;
use hickory_proto::op::{Edns, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use plugin::{Error, Failure, Next, Outcome, Plugin, Reply, Request, Response, Upstream};

use crate::NAME;
use crate::answer::{NameMap, ResponseRule};
use crate::edns0::{Revert, created_opt};
use crate::matcher::Matcher;
use crate::names;
use crate::rule::{Auto, CnameRule, Kind, Mode, Rule};
use crate::spliced;

/// EDNS option codes the server mirrors into a reply without OPT (§0.4 step 1).
const MIRRORED: [u16; 5] = [3, 9, 10, 11, 12];

#[derive(Debug, thiserror::Error)]
#[error("invalid name after rewrite: {0}")]
pub struct InvalidName(String);

pub struct Rewrite {
    rules: Vec<Rule>,
    upstream: Upstream,
    local_codes: Vec<u16>,
}

/// What the rules decided for one query.
#[derive(Default)]
struct Plan<'r> {
    name: Option<String>,
    /// `name`, parsed once when the rule matched.
    parsed_name: Option<Name>,
    qtype: Option<RecordType>,
    qclass: Option<hickory_proto::rr::DNSClass>,
    edns: Option<Edns>,
    stopped: bool,
    responses: Vec<ResponseRule>,
    cnames: Vec<&'r CnameRule>,
    reverts: Vec<Revert>,
}

impl Plan<'_> {
    fn changes_query(&self) -> bool {
        self.name.is_some() || self.qtype.is_some() || self.qclass.is_some() || self.edns.is_some()
    }

    /// §4.2 step 4: post-processing when a stop rule matched or response rules were collected.
    fn post_processing(&self) -> bool {
        self.stopped
            || !self.responses.is_empty()
            || !self.cnames.is_empty()
            || !self.reverts.is_empty()
    }
}

impl Rewrite {
    pub fn new(rules: Vec<Rule>, upstream: Upstream) -> Self {
        let local_codes = rules
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Edns0(e) => e.local_code(),
                _ => None,
            })
            .collect();
        Rewrite {
            rules,
            upstream,
            local_codes,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Runs the rules over `req` (§4.2 steps 1–3). `Err` is the invalid-name SERVFAIL.
    fn plan<'r>(&'r self, req: &Request) -> Result<Plan<'r>, InvalidName> {
        let mut plan = Plan::default();
        let mut current: Cow<'_, str> = Cow::Borrowed(req.qname_lower());
        for rule in &self.rules {
            let matched = match &rule.kind {
                Kind::Name {
                    matcher,
                    to,
                    exact_to,
                    auto,
                    answers,
                } => match matcher.rewrite(&current, to) {
                    Some(new) => {
                        let parsed = match exact_to {
                            Some(name) => Some(name.clone()),
                            None => domain_name(&new),
                        };
                        let Some(parsed) = parsed else {
                            return Err(InvalidName(new));
                        };
                        // The original name: the client's, lower-cased, unless an earlier
                        // continue rule changed it.
                        let original_name = match (&current, req.query()) {
                            (Cow::Borrowed(_), Some(q)) => Some(q.name().to_lowercase()),
                            _ => names::parse(&current),
                        };
                        let map = match (auto, matcher) {
                            (Auto::Remap, _) => Some(NameMap::Remap {
                                new_name: Some(parsed.clone()),
                                original_name,
                                new: new.clone(),
                                original: current.to_string(),
                            }),
                            (Auto::Suffix, Matcher::Suffix(from)) => Some(NameMap::Suffix {
                                new: to.clone(),
                                original: from.clone(),
                            }),
                            _ => None,
                        };
                        if let Some(map) = map {
                            plan.responses.push(ResponseRule::Owner(map.clone()));
                            plan.responses.push(ResponseRule::Value(map));
                        }
                        plan.responses.extend(answers.iter().cloned());
                        plan.name = Some(new.clone());
                        plan.parsed_name = Some(parsed);
                        current = Cow::Owned(new);
                        true
                    }
                    None => false,
                },
                Kind::Type { from, to } => {
                    let matched = plan.qtype.unwrap_or(req.qtype()) == *from;
                    if matched {
                        plan.qtype = Some(*to);
                    }
                    matched
                }
                Kind::Class { from, to } => {
                    let matched = plan.qclass.unwrap_or(req.qclass()) == *from;
                    if matched {
                        plan.qclass = Some(*to);
                    }
                    matched
                }
                Kind::Ttl { matcher, min, max } => {
                    let matched = matcher.is_match(&current);
                    if matched {
                        plan.responses.push(ResponseRule::Ttl {
                            min: *min,
                            max: *max,
                        });
                    }
                    matched
                }
                Kind::Rcode { matcher, from, to } => {
                    let matched = matcher.is_match(&current);
                    if matched {
                        plan.responses.push(ResponseRule::Rcode {
                            from: *from,
                            to: *to,
                        });
                    }
                    matched
                }
                Kind::Cname(cname) => {
                    plan.cnames.push(cname);
                    true
                }
                Kind::Edns0(rule) => {
                    let edns = plan
                        .edns
                        .get_or_insert_with(|| req.edns().cloned().unwrap_or_else(created_opt));
                    let spelled = match &plan.name {
                        Some(name) => name.clone(),
                        None => req.qname().to_ascii(),
                    };
                    let qtype = u16::from(plan.qtype.unwrap_or(req.qtype()));
                    let (matched, revert) = rule.apply(edns, req, &spelled, qtype);
                    plan.reverts.extend(revert);
                    matched
                }
            };
            if matched && rule.mode == Mode::Stop {
                plan.stopped = true;
                break;
            }
        }
        Ok(plan)
    }

    /// The query the rest of the chain sees. `None` when it cannot be encoded.
    fn rewritten(&self, req: &Request, plan: &mut Plan<'_>) -> Option<Request> {
        let mut message = req.message().clone();
        let original = req.query()?;
        let name = match &plan.parsed_name {
            Some(name) => name.clone(),
            None => original.name().clone(),
        };
        let mut query = Query::query(name, plan.qtype.unwrap_or(original.query_type()));
        query.set_query_class(plan.qclass.unwrap_or(original.query_class()));
        // Only the question changes unless an edns0 rule or a `bufsize` clamp before us
        // changed the OPT: then the message is encoded again.
        let same_opt =
            plan.edns.is_none() && req.edns().map(|e| e.max_payload()) == req.edns_udp_size();
        let spliced = same_opt
            .then(|| spliced::with_question(req.wire(), &query))
            .flatten();
        message.queries = vec![query];
        if let Some(edns) = plan.edns.clone() {
            message.set_edns(edns);
        }
        // Keep a `bufsize` clamp made before us, as subrequest::with_question does.
        if let (Some(edns), Some(size)) = (message.edns.as_mut(), req.edns_udp_size()) {
            edns.set_max_payload(size);
        }
        let wire = match spliced {
            Some(wire) => wire,
            None => Bytes::from(message.to_vec().ok()?),
        };
        Some(Request::from_message(
            message,
            wire,
            req.client(),
            req.local(),
            req.transport(),
            req.server().clone(),
        ))
    }

    /// §4.2 step 4 (without the CNAME part): error replies written here, rules applied to
    /// every record, EDNS reverted.
    fn finish(&self, req: &Request, plan: &Plan<'_>, outcome: Outcome) -> Outcome {
        let mut response = match outcome {
            Ok(response) => response,
            Err(failure) if failure.core_writes_reply() => Response::error_to(req, failure.rcode),
            Err(failure) => return Err(failure),
        };
        apply_rules(&mut response, &plan.responses);
        if response.edns.is_none()
            && let Some(sent) = &plan.edns
        {
            // The server mirrors the OPT of the query as CoreDNS modified it in place (§0.4
            // step 1, §4.6): the one we sent on, with the rules' `local` codes mirrored too.
            // A client without EDNS gets it as well.
            let mut edns = created_opt();
            edns.options_mut().options = sent
                .options()
                .options
                .iter()
                .filter(|(c, _)| {
                    let code = u16::from(*c);
                    MIRRORED.contains(&code) || self.local_codes.contains(&code)
                })
                .cloned()
                .collect();
            response.edns = Some(edns);
        }
        if let Some(edns) = response.edns.as_mut() {
            for revert in &plan.reverts {
                revert.apply(edns);
            }
        }
        Ok(response)
    }

    /// §4.7: the first CNAME whose target a cname rule rewrites is re-resolved through the
    /// server; lookup failure leaves the reply as it was.
    async fn rewrite_cname(
        &self,
        req: &Request,
        cnames: &[&CnameRule],
        outcome: Outcome,
    ) -> Outcome {
        let mut response = outcome?;
        let found =
            response
                .answers
                .iter()
                .enumerate()
                .find_map(|(i, record)| match &record.data {
                    RData::CNAME(target) => {
                        let text = target.0.to_ascii();
                        cnames
                            .iter()
                            .rev()
                            .find_map(|rule| rule.rewrite(&text))
                            .map(|new| (i, new))
                    }
                    _ => None,
                });
        let Some((index, new_target)) = found else {
            return Ok(response);
        };
        let Ok(new_name) = Name::from_ascii(&new_target) else {
            return Ok(response);
        };
        let Some(inner) = self
            .upstream
            .lookup(req, new_name.clone(), req.qtype())
            .await
        else {
            return Ok(response);
        };
        let mut answers: Vec<Record> = response
            .answers
            .iter()
            .take(index + 1)
            .filter(|r| matches!(r.data, RData::CNAME(_)))
            .cloned()
            .collect();
        if let Some(last) = answers.last_mut()
            && let RData::CNAME(target) = &mut last.data
        {
            target.0 = new_name;
        }
        answers.extend(inner.answers.iter().cloned());
        response.answers = answers.into();
        response.flags.truncated = inner.flags.truncated;
        Ok(response)
    }
}

/// Response rules on every record of authority, answer and additional, last-collected rule
/// first; with no records at all, the message-level (rcode) rules once (§4.2 step 4).
fn apply_rules(response: &mut Response, rules: &[ResponseRule]) {
    if rules.is_empty() {
        return;
    }
    let mut rcode = response.rcode;
    let mut any = false;
    // The records are copied anyway: a uniform TTL (a cache hit) becomes their own, so a ttl
    // rule clamps what the client would have seen.
    let uniform_ttl = response.uniform_ttl.take();
    for section in [
        &mut response.authorities,
        &mut response.answers,
        &mut response.additionals,
    ] {
        if section.is_empty() {
            continue;
        }
        any = true;
        let mut records = section.to_vec();
        for record in &mut records {
            if let Some(ttl) = uniform_ttl {
                record.ttl = ttl;
            }
            for rule in rules.iter().rev() {
                rule.apply(record, &mut rcode);
            }
        }
        *section = records.into();
    }
    if !any {
        for rule in rules.iter().rev() {
            rule.apply_rcode(&mut rcode);
        }
    }
    response.rcode = rcode;
}

/// `name` parsed, when it is a valid presentation-form domain name (miekg/dns
/// `IsDomainName`): no empty label, labels up to 63 octets, at most 255 octets in wire form.
fn domain_name(name: &str) -> Option<Name> {
    if name == "." {
        return Some(Name::root());
    }
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || trimmed.split('.').any(str::is_empty) {
        return None;
    }
    names::parse(name).filter(|n| n.len() <= 255)
}

impl Plugin for Rewrite {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let mut plan = match self.plan(req) {
            Ok(plan) => plan,
            Err(invalid) => return Reply::fail(Failure::servfail(Error::new(NAME, invalid))),
        };
        if !plan.changes_query() && !plan.post_processing() {
            return next.serve(req);
        }
        let rewritten = if plan.changes_query() {
            match self.rewritten(req, &mut plan) {
                Some(rewritten) => Some(rewritten),
                None => {
                    let name = plan.name.clone().unwrap_or_default();
                    return Reply::fail(Failure::servfail(Error::new(NAME, InvalidName(name))));
                }
            }
        } else {
            None
        };
        match rewritten {
            None if plan.cnames.is_empty() => next
                .serve(req)
                .map(move |outcome| self.finish(req, &plan, outcome)),
            None => Reply::pending(async move {
                let outcome = next.serve(req).await;
                let outcome = self.rewrite_cname(req, &plan.cnames, outcome).await;
                self.finish(req, &plan, outcome)
            }),
            Some(rewritten) => Reply::pending(async move {
                let outcome = next.serve(&rewritten).await;
                if !plan.post_processing() {
                    // §4.2 step 5: only continue rules without response rules matched, and
                    // the client sees the question that was answered (R10).
                    return outcome.map(|mut response| {
                        response.question = rewritten.query().cloned().map(Box::new);
                        response
                    });
                }
                let outcome = if plan.cnames.is_empty() {
                    outcome
                } else {
                    self.rewrite_cname(req, &plan.cnames, outcome).await
                };
                self.finish(req, &plan, outcome)
            }),
        }
    }
}

/// Applies `rules` to `req` and the reverse mapping to `reply` without a chain: what the fuzz
/// target exercises. Returns the name the chain would see.
pub fn rewrite_offline(rewrite: &Rewrite, req: &Request, reply: Response) -> Option<String> {
    let mut plan = rewrite.plan(req).ok()?;
    let rewritten = if plan.changes_query() {
        rewrite.rewritten(req, &mut plan)
    } else {
        None
    };
    let _ = rewrite.finish(req, &plan, Ok(reply));
    Some(rewritten.map_or_else(
        || req.qname_lower().to_string(),
        |r| r.qname_lower().to_string(),
    ))
}
