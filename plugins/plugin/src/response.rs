//! A reply under construction or on its way back up the chain.

use std::sync::Arc;

use hickory_proto::op::{Edns, ResponseCode};
use hickory_proto::rr::Record;

use crate::request::Request;

/// One section of a reply. Records are shared, so a cache hit or a reordering plugin clones an
/// `Arc`, never the records.
#[derive(Clone, Debug, Default)]
pub struct Section {
    records: Arc<[Record]>,
}

impl Section {
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Record> {
        self.records.iter()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl From<Vec<Record>> for Section {
    fn from(records: Vec<Record>) -> Self {
        Section {
            records: records.into(),
        }
    }
}

/// A fixed number of records in one allocation (no intermediate `Vec`).
impl<const N: usize> From<[Record; N]> for Section {
    fn from(records: [Record; N]) -> Self {
        Section {
            records: Arc::from(records),
        }
    }
}

impl From<Arc<[Record]>> for Section {
    fn from(records: Arc<[Record]>) -> Self {
        Section { records }
    }
}

/// The header flags a reply carries (QR is always set; ID, opcode and question come from the
/// request when the reply is encoded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub authoritative: bool,
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    pub authentic_data: bool,
    pub checking_disabled: bool,
}

/// A reply written by a plugin.
#[derive(Clone, Debug)]
pub struct Response {
    pub rcode: ResponseCode,
    pub flags: Flags,
    pub answers: Section,
    pub authorities: Section,
    pub additionals: Section,
    /// The reply's own OPT record, when a plugin sets options. The server core always fixes
    /// its version, size and DO bit from the query (corefile.md §7.3).
    pub edns: Option<Edns>,
    /// The plugin that produced the reply (`coredns_dns_responses_total{plugin}`).
    pub plugin: &'static str,
}

impl Response {
    /// An empty NOERROR reply to `req`, with RD and CD copied from it as DNS servers do
    /// (miekg/dns `SetReply`).
    pub fn reply_to(req: &Request, plugin: &'static str) -> Self {
        let meta = &req.message().metadata;
        Response {
            rcode: ResponseCode::NoError,
            flags: Flags {
                recursion_desired: meta.recursion_desired,
                checking_disabled: meta.checking_disabled,
                ..Flags::default()
            },
            answers: Section::default(),
            authorities: Section::default(),
            additionals: Section::default(),
            edns: None,
            plugin,
        }
    }

    /// An empty reply with `rcode` (what the server core writes for a failure).
    pub fn error_to(req: &Request, rcode: ResponseCode) -> Self {
        Response {
            rcode,
            ..Response::reply_to(req, "")
        }
    }

    pub fn with_rcode(mut self, rcode: ResponseCode) -> Self {
        self.rcode = rcode;
        self
    }

    pub fn authoritative(mut self) -> Self {
        self.flags.authoritative = true;
        self
    }

    /// Sets TC: the answer is known to be incomplete (e.g. copied from a truncated lookup).
    pub fn truncated(mut self, truncated: bool) -> Self {
        self.flags.truncated = truncated;
        self
    }

    /// Fills the answer and additional sections. An empty list leaves its section empty
    /// without allocating one.
    pub fn with_records(mut self, answers: Vec<Record>, additionals: Vec<Record>) -> Self {
        if !answers.is_empty() {
            self.answers = answers.into();
        }
        if !additionals.is_empty() {
            self.additionals = additionals.into();
        }
        self
    }
}
