//! CoreDNS's reply classification (`plugin/pkg/response`), shared by log, minimal and cache.

use hickory_proto::op::{OpCode, ResponseCode};
use hickory_proto::rr::RecordType;

use crate::request::Request;
use crate::response::Response;

/// What kind of reply this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyType {
    NoError,
    NxDomain,
    NoData,
    Delegation,
    ServerError,
    OtherError,
    Meta,
    Update,
}

/// The coarse class a `log { class ... }` rule selects on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplyClass {
    Success,
    Denial,
    Error,
}

impl ReplyType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyType::NoError => "NOERROR",
            ReplyType::NxDomain => "NXDOMAIN",
            ReplyType::NoData => "NODATA",
            ReplyType::Delegation => "DELEGATION",
            ReplyType::ServerError => "SERVERERROR",
            ReplyType::OtherError => "OTHERERROR",
            ReplyType::Meta => "META",
            ReplyType::Update => "UPDATE",
        }
    }

    pub fn class(self) -> ReplyClass {
        match self {
            ReplyType::NoError | ReplyType::Delegation => ReplyClass::Success,
            ReplyType::NxDomain | ReplyType::NoData => ReplyClass::Denial,
            _ => ReplyClass::Error,
        }
    }
}

impl ReplyClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyClass::Success => "success",
            ReplyClass::Denial => "denial",
            ReplyClass::Error => "error",
        }
    }
}

/// Classifies `resp` (None: nothing was written), in CoreDNS's order (plugins-core.md, log).
/// RRSIG validity is not checked: this server does not sign or validate.
pub fn classify(req: &Request, resp: Option<&Response>) -> ReplyType {
    let Some(resp) = resp else {
        return ReplyType::OtherError;
    };
    match req.opcode() {
        OpCode::Update => return ReplyType::Update,
        OpCode::Notify => return ReplyType::Meta,
        _ => {}
    }
    if matches!(req.qtype(), RecordType::AXFR | RecordType::IXFR) {
        return ReplyType::Meta;
    }
    let has_authority = |t: RecordType| resp.authorities.iter().any(|r| r.record_type() == t);
    match resp.rcode {
        ResponseCode::NoError if !resp.answers.is_empty() => ReplyType::NoError,
        ResponseCode::NXDomain if !resp.answers.is_empty() => ReplyType::OtherError,
        ResponseCode::NoError if has_authority(RecordType::SOA) => ReplyType::NoData,
        ResponseCode::NXDomain => ReplyType::NxDomain,
        ResponseCode::ServFail | ResponseCode::NotImp => ReplyType::ServerError,
        ResponseCode::NoError if has_authority(RecordType::NS) => ReplyType::Delegation,
        ResponseCode::NoError => ReplyType::NoError,
        _ => ReplyType::OtherError,
    }
}
