//! The handler (plugins-resolution.md §3.3).

use std::sync::Arc;

use arc_swap::ArcSwap;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use plugin::zones::is_subdomain;
use plugin::{Failure, Fallthrough, Next, Plugin, Reply, Request, Response, Section};

use crate::reverse;
use crate::table::Table;

pub struct Hosts {
    pub(crate) zones: Vec<String>,
    pub(crate) fall: Fallthrough,
    pub(crate) fallthrough_unsupported: bool,
    pub(crate) table: Arc<ArcSwap<Table>>,
}

impl Plugin for Hosts {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let qname = req.qname_lower();
        let qtype = req.qtype();
        let in_zone = self.zones.iter().any(|zone| is_subdomain(zone, qname));
        // Step 1: outside the zones only PTR is looked at (the reverse zone need not be
        // among the hosts zones).
        if !in_zone && qtype != RecordType::PTR {
            return next.serve(req);
        }
        let table = self.table.load();
        let answers = match qtype {
            // Step 2: a PTR miss always passes on, whatever `fallthrough` says (H7, H12, H14).
            RecordType::PTR => match reverse::address(qname).and_then(|a| table.ptr(a)) {
                Some(records) => records,
                None => return next.serve(req),
            },
            RecordType::A => table.a(qname),
            RecordType::AAAA => table.aaaa(qname),
            _ => {
                if self.fallthrough_unsupported && self.fall.through(qname) {
                    return next.serve(req);
                }
                Section::default()
            }
        };
        // Step 4: no data at all for the name. Without an SOA hosts cannot claim NXDOMAIN.
        if answers.is_empty() && !table.knows(qname) {
            if self.fall.through(qname) {
                return next.serve(req);
            }
            return Reply::fail(Failure::rcode(ResponseCode::ServFail));
        }
        let mut resp = Response::reply_to(req, crate::NAME).authoritative();
        resp.answers = answers;
        Reply::answer(resp)
    }
}
