//! The TTL a reply is shown and stored with (plugins-resolution.md §2.4 steps 1–2).

use std::time::Duration;

use plugin::Response;
use plugin::classify::ReplyType;
use plugin::proto::rr::RecordType;

use crate::config::StoreConfig;

/// What a reply with nothing to look at, or of a class without TTL data, gets (CoreDNS
/// `dnsutil.MinimalDefaultTTL`).
const FALLBACK_TTL: u32 = 5;

/// `msgTTL`: the smallest TTL of the reply's records (OPT aside), starting from `max`; 5 s for
/// classes other than NOERROR, NXDOMAIN and NODATA, and for a reply without records.
pub fn message_ttl(resp: &Response, class: ReplyType, max: u32) -> u32 {
    if !matches!(
        class,
        ReplyType::NoError | ReplyType::NxDomain | ReplyType::NoData
    ) {
        return FALLBACK_TTL;
    }
    let mut records = [&resp.answers, &resp.authorities, &resp.additionals]
        .into_iter()
        .flat_map(|s| s.records())
        .filter(|r| r.record_type() != RecordType::OPT)
        .peekable();
    if records.peek().is_none() {
        return FALLBACK_TTL;
    }
    records.map(|r| resp.ttl_of(r)).fold(max, u32::min)
}

/// How long the reply is cached and the TTL every record is shown with:
/// `min(max(msgTTL, MINTTL), MAXTTL)`, or the `servfail` duration for server errors.
pub fn duration(
    resp: &Response,
    class: ReplyType,
    success: &StoreConfig,
    denial: &StoreConfig,
    servfail: Duration,
) -> u32 {
    let store = match class {
        ReplyType::ServerError => {
            return u32::try_from(servfail.as_secs()).unwrap_or(u32::MAX);
        }
        ReplyType::NxDomain | ReplyType::NoData => denial,
        _ => success,
    };
    let message = message_ttl(resp, class, store.max_ttl);
    message.max(store.min_ttl).min(store.max_ttl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CacheConfig;
    use plugin::proto::rr::rdata::A;
    use plugin::proto::rr::{Name, RData, Record};
    use plugin::test_util::query;

    fn a(ttl: u32) -> Record {
        Record::from_rdata(Name::root(), ttl, RData::A(A::new(192, 0, 2, 1)))
    }

    #[test]
    fn duration_clamps_the_smallest_ttl() {
        let config = CacheConfig::defaults(&[".".into()]);
        let req = query("a.", RecordType::A).build();
        let shown = |records: Vec<Record>, class| {
            let mut resp = Response::reply_to(&req, "t");
            resp.answers = records.into();
            duration(
                &resp,
                class,
                &config.success,
                &config.denial,
                config.servfail,
            )
        };
        assert_eq!(shown(vec![a(300), a(20)], ReplyType::NoError), 20);
        assert_eq!(shown(vec![a(0)], ReplyType::NoError), 5, "MINTTL");
        assert_eq!(shown(vec![a(7200)], ReplyType::NoError), 3600, "MAXTTL");
        assert_eq!(shown(vec![a(7200)], ReplyType::NoData), 1800);
        assert_eq!(shown(vec![], ReplyType::NoError), 5, "no records");
        assert_eq!(shown(vec![a(300)], ReplyType::Delegation), 5);
        assert_eq!(shown(vec![a(300)], ReplyType::ServerError), 5, "servfail");
        let mut inverted = config.success;
        inverted.min_ttl = 100;
        inverted.max_ttl = 50;
        let mut resp = Response::reply_to(&req, "t");
        resp.answers = vec![a(10)].into();
        assert_eq!(
            duration(
                &resp,
                ReplyType::NoError,
                &inverted,
                &config.denial,
                config.servfail
            ),
            50,
            "MAXTTL wins over MINTTL"
        );
    }
}
