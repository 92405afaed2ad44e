//! A reply under construction or on its way back up the chain.

use std::sync::Arc;

use hickory_proto::op::{Edns, Query, ResponseCode};
use hickory_proto::rr::Record;

use crate::prepared::Prepared;
use crate::request::Request;

/// One section of a reply. Records are shared, so a cache hit or a reordering plugin clones an
/// `Arc`, never the records; a reordering (loadbalance) is kept as a permutation beside them.
#[derive(Clone, Debug, Default)]
pub struct Section {
    records: Arc<[Record]>,
    /// Presentation order: indexes into `records`. `None` is stored order.
    order: Option<Arc<[u16]>>,
}

impl Section {
    /// The records in stored order, whatever [`Section::with_order`] chose. What the client
    /// sees is [`Section::iter`].
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records in the order they are sent.
    pub fn iter(&self) -> SectionIter<'_> {
        SectionIter {
            records: &self.records,
            order: self.order.as_deref(),
            next: 0,
        }
    }

    /// The same records presented in `order` (indexes into the stored order), e.g. shuffled
    /// by loadbalance. An `order` that is not a permutation of the records is ignored: a
    /// section never loses or repeats a record.
    pub fn with_order(&self, order: Vec<u16>) -> Section {
        if !is_permutation(&order, self.records.len()) {
            return self.clone();
        }
        Section {
            records: self.records.clone(),
            order: Some(order.into()),
        }
    }

    /// The presentation order as indexes into [`Section::records`].
    pub fn order(&self) -> impl Iterator<Item = usize> + '_ {
        let len = self.records.len();
        let ordered = self.order.as_deref();
        (0..len).map(move |i| ordered.map_or(i, |o| usize::from(o[i])))
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// The same shared records in the same order as `other` (both empty counts too): what a
    /// prepared encoding of `other` may stand for.
    pub fn same_as(&self, other: &Section) -> bool {
        let same_records = Arc::ptr_eq(&self.records, &other.records)
            || (self.records.is_empty() && other.records.is_empty());
        same_records && self.order == other.order
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records in presentation order, copied (for plugins that change them).
    pub fn to_vec(&self) -> Vec<Record> {
        self.iter().cloned().collect()
    }
}

fn is_permutation(order: &[u16], len: usize) -> bool {
    if order.len() != len {
        return false;
    }
    let mut seen = vec![false; len];
    order.iter().all(|&i| {
        let i = usize::from(i);
        i < len && !std::mem::replace(&mut seen[i], true)
    })
}

/// Iterator over a [`Section`] in presentation order.
pub struct SectionIter<'a> {
    records: &'a [Record],
    order: Option<&'a [u16]>,
    next: usize,
}

impl<'a> Iterator for SectionIter<'a> {
    type Item = &'a Record;

    fn next(&mut self) -> Option<&'a Record> {
        let at = self.next;
        self.next += 1;
        match self.order {
            Some(order) => order.get(at).map(|&i| &self.records[usize::from(i)]),
            None => self.records.get(at),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.records.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for SectionIter<'_> {}

impl<'a> IntoIterator for &'a Section {
    type Item = &'a Record;
    type IntoIter = SectionIter<'a>;

    fn into_iter(self) -> SectionIter<'a> {
        self.iter()
    }
}

impl From<Vec<Record>> for Section {
    fn from(records: Vec<Record>) -> Self {
        Section {
            records: records.into(),
            order: None,
        }
    }
}

/// A fixed number of records in one allocation (no intermediate `Vec`).
impl<const N: usize> From<[Record; N]> for Section {
    fn from(records: [Record; N]) -> Self {
        Section {
            records: Arc::from(records),
            order: None,
        }
    }
}

impl From<Arc<[Record]>> for Section {
    fn from(records: Arc<[Record]>) -> Self {
        Section {
            records,
            order: None,
        }
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
    /// When set, every record (the OPT aside) is sent with this TTL instead of its own:
    /// cache makes a reply's TTLs uniform and counts them down on hits without copying the
    /// stored records (plugins-resolution.md §2.4). Read TTLs through [`Response::ttl_of`].
    pub uniform_ttl: Option<u32>,
    /// The question to send instead of the client's, when a plugin must show the client the
    /// question it actually answered (a `continue` rewrite, plugins-resolution.md R10).
    pub question: Option<Box<Query>>,
    /// The records already encoded (a cache hit), used by the encoder when they still stand
    /// for this reply's sections (see [`Prepared::encodes`]).
    pub prepared: Option<Arc<Prepared>>,
}

impl Response {
    /// An empty NOERROR reply to `req`, with RD and CD copied from it as DNS servers do
    /// (miekg/dns `SetReply`).
    pub fn reply_to(req: &Request, plugin: &'static str) -> Self {
        Response {
            rcode: ResponseCode::NoError,
            flags: Flags {
                recursion_desired: req.recursion_desired(),
                checking_disabled: req.checking_disabled(),
                ..Flags::default()
            },
            answers: Section::default(),
            authorities: Section::default(),
            additionals: Section::default(),
            edns: None,
            plugin,
            uniform_ttl: None,
            question: None,
            prepared: None,
        }
    }

    /// An empty reply with `rcode` (what the server core writes for a failure).
    pub fn error_to(req: &Request, rcode: ResponseCode) -> Self {
        Response {
            rcode,
            ..Response::reply_to(req, "")
        }
    }

    /// The TTL `record` (one of this reply's) is sent with.
    pub fn ttl_of(&self, record: &Record) -> u32 {
        self.uniform_ttl.unwrap_or(record.ttl)
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
