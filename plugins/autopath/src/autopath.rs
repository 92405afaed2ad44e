//! The autopath plugin: a query for a name in the first element of the client's search list
//! is tried with each element of the list in turn, down the rest of the chain, and the first
//! answer that is not NXDOMAIN goes back to the client under the name it asked for
//! (kubernetes.md §15, CoreDNS `autopath.ServeDNS`).

use std::borrow::Cow;
use std::sync::Arc;

use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::Name;
use plugin::extensions::Slot;
use plugin::search_path::SearchPath;
use plugin::{Error, Failure, Next, Outcome, Plugin, Reply, Request};

use crate::NAME;
use crate::cname;
use crate::metrics::AutopathMetrics;

/// The query name equals the first search element (CoreDNS `TrimZone` leaves no base name):
/// answered SERVFAIL with this error, as CoreDNS does. Its text is CoreDNS's, missing space
/// included.
#[derive(Debug, thiserror::Error)]
#[error("trimzone: overshot qname: {qname}for zone {zone}")]
pub struct Overshot {
    qname: String,
    zone: String,
}

/// Where the search list comes from.
pub struct SearchSource {
    /// The `resolv.conf` search domains (lower-case FQDNs) and `""` last; empty when no
    /// file was given.
    pub fixed: Vec<String>,
    /// The `@PLUGIN`'s search path, filled by the after-block check when that plugin is in
    /// the block and provides one; it then takes precedence over `fixed`, as CoreDNS's
    /// `searchFunc`.
    pub provider: Slot<Arc<dyn SearchPath>>,
}

impl SearchSource {
    /// The search list for `req`; `None` when autopath must leave the query alone.
    fn list(&self, req: &Request) -> Option<Cow<'_, [String]>> {
        if let Some(provider) = self.provider.get() {
            return provider.search_path(req).map(Cow::Owned);
        }
        (!self.fixed.is_empty()).then_some(Cow::Borrowed(self.fixed.as_slice()))
    }
}

pub struct Autopath {
    /// Lower-case FQDNs; the query must be in one of them.
    zones: Vec<String>,
    search: SearchSource,
    metrics: Arc<AutopathMetrics>,
}

impl Autopath {
    pub fn new(zones: Vec<String>, search: SearchSource, metrics: Arc<AutopathMetrics>) -> Self {
        Autopath {
            zones,
            search,
            metrics,
        }
    }
}

impl Plugin for Autopath {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        // §15 step 1: outside autopath's zones, without a search list, or not at or below its
        // first element, the query passes through untouched (no allocation).
        if plugin::zones::longest_match(&self.zones, req.qname_lower()).is_none() {
            return next.serve(req);
        }
        let Some(search) = self.search.list(req) else {
            return next.serve(req);
        };
        let Some(first) = search.first() else {
            return next.serve(req);
        };
        if !plugin::zones::is_subdomain(first, req.qname_lower()) {
            return next.serve(req);
        }
        let qname = req.qname();
        let first_labels = label_count(first);
        let total = qname.iter().count();
        if first_labels > 0 && total <= first_labels {
            return Reply::fail(Failure::servfail(Error::bare(Overshot {
                qname: qname.to_string(),
                zone: first.clone(),
            })));
        }
        let base: Vec<&[u8]> = qname.iter().take(total - first_labels).collect();
        let Ok(base) = Name::from_labels(base) else {
            return next.serve(req);
        };
        Reply::pending(async move { self.walk(req, next, &qname, &base, &search).await })
    }
}

impl Autopath {
    /// §15 steps 2–4: try `base.s` for each element `s`, in order. `search` is not empty.
    async fn walk(
        &self,
        req: &Request,
        next: Next<'_>,
        qname: &Name,
        base: &Name,
        search: &[String],
    ) -> Outcome {
        // `base.first` is the query name itself (up to case): served as it came.
        let first = match self.judge(req, qname, next.serve(req).await) {
            Judged::Final(outcome) => return outcome,
            Judged::Skip(outcome) => outcome,
        };
        for suffix in search.iter().skip(1) {
            let Some(sub) = try_request(req, base, suffix) else {
                // A name that cannot be built (too long) cannot exist: as NXDOMAIN.
                continue;
            };
            if let Judged::Final(outcome) = self.judge(req, qname, next.serve(&sub).await) {
                return outcome;
            }
        }
        // Every try failed: the first try's reply as it was.
        first
    }

    /// What one try means for the walk.
    fn judge(&self, req: &Request, qname: &Name, outcome: Outcome) -> Judged {
        match outcome {
            // A plugin error aborts at once (CoreDNS returns it; nothing is written).
            Err(failure) if failure.error.is_some() => Judged::Final(Err(failure)),
            // Not written (or no message to show), or NXDOMAIN: try the next element.
            Err(failure) => Judged::Skip(Err(failure)),
            Ok(resp) if resp.rcode == ResponseCode::NXDomain => Judged::Skip(Ok(resp)),
            Ok(mut resp) => {
                // The question goes back to the original name when the server encodes the
                // reply against `req`.
                cname::prepend(&mut resp, qname);
                self.metrics.succeeded(req.server());
                Judged::Final(Ok(resp))
            }
        }
    }
}

enum Judged {
    /// The walk ends with this outcome.
    Final(Outcome),
    /// The walk goes on; this is the outcome should it be the first try's.
    Skip(Outcome),
}

/// The request for `base.suffix` (`suffix` empty or `.`: `base.` itself), keeping the
/// query's ID, flags, type, class, EDNS and client (CoreDNS copies the message and changes
/// the question name).
fn try_request(req: &Request, base: &Name, suffix: &str) -> Option<Request> {
    let name = if suffix.is_empty() || suffix == "." {
        base.clone()
    } else {
        base.clone()
            .append_domain(&Name::from_ascii(suffix).ok()?)
            .ok()?
    };
    let mut question = Query::query(name, req.qtype());
    question.set_query_class(req.qclass());
    let rd = req.message().metadata.recursion_desired;
    plugin::subrequest::with_question(req, question, req.id(), rd)
}

/// Labels of a presentation-form FQDN (`a.b.` → 2, `.` and `""` → 0), as miekg/dns
/// `CountLabel`; an escaped dot does not end a label.
fn label_count(name: &str) -> usize {
    let bytes = name.as_bytes();
    let mut count = 0;
    let mut in_label = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                in_label = true;
                i += 2;
                continue;
            }
            b'.' => {
                if in_label {
                    count += 1;
                }
                in_label = false;
            }
            _ => in_label = true,
        }
        i += 1;
    }
    if in_label {
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_counted_like_miekg_count_label() {
        for (name, want) in [
            ("podns.svc.cluster.local.", 4),
            ("cluster.local", 2),
            (".", 0),
            ("", 0),
            ("a\\.b.example.", 2),
            ("a\\\\.example.", 2),
        ] {
            assert_eq!(label_count(name), want, "{name:?}");
        }
    }
}
