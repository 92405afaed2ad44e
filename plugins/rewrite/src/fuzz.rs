//! Fuzz entry point: rules applied to arbitrary queries must never panic (issue #5).

use std::sync::Arc;

use bytes::Bytes;
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, Record, rdata};
use plugin::{Request, Response, Transport, Upstream};

use crate::rewrite::{Rewrite, rewrite_offline};
use crate::rule::Rule;

/// Fixed rule sets the first byte picks from; 0xff means "the rule line is in the input".
const RULE_SETS: [&[&str]; 8] = [
    &["name a.example b.example"],
    &["name suffix .svc.example .svc.internal answer auto"],
    &[
        "stop name regex (.*)-(west)\\.example {1}.{2}.internal answer name (.*)\\.(west)\\.internal {1}-{2}.example",
    ],
    &["continue name prefix foo bar", "ttl regex .* 10-20"],
    &[
        "continue type ANY HINFO",
        "rcode suffix example NXDOMAIN NOERROR",
    ],
    &[
        "edns0 local set 0xffee {qname} revert",
        "edns0 subnet set 24 56",
    ],
    &[
        "continue name substring a b answer value (.*) {1}",
        "name regex (.*) {1}{1}",
    ],
    &["class CH IN", "edns0 nsid append revert"],
];

/// Input: byte 0 picks a rule set; 0xff takes a rule line up to the first `\n`. The rest is a
/// DNS query, answered by a synthetic reply that echoes its name.
pub fn fuzz_rewrite(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (lines, packet): (Vec<String>, &[u8]) = if pick == 0xff {
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        (vec![line], rest.get(end + 1..).unwrap_or_default())
    } else {
        let set = RULE_SETS[usize::from(pick) % RULE_SETS.len()];
        (set.iter().map(|s| s.to_string()).collect(), rest)
    };
    let mut rules = Vec::new();
    for line in &lines {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        match Rule::parse(&words) {
            Ok(rule) => rules.push(rule),
            Err(_) => return,
        }
    }
    let Ok(message) = Message::from_vec(packet) else {
        return;
    };
    if message.queries.len() != 1 {
        return;
    }
    let req = Request::from_message(
        message,
        Bytes::copy_from_slice(packet),
        "192.0.2.77:5353".parse().expect("literal"),
        "127.0.0.1:53".parse().expect("literal"),
        Transport::Udp,
        Arc::from("dns://:53"),
    );
    let rewrite = Rewrite::new(rules, Upstream::new());
    let owner = req.qname();
    let target = Name::from_ascii("t.other.example.").unwrap_or_else(|_| Name::root());
    let reply = Response::reply_to(&req, "fuzz").with_records(
        vec![
            Record::from_rdata(
                owner.clone(),
                600,
                RData::CNAME(rdata::CNAME(target.clone())),
            ),
            Record::from_rdata(target, 5, RData::A(rdata::A::new(192, 0, 2, 1))),
        ],
        vec![Record::from_rdata(
            owner,
            10,
            RData::PTR(rdata::PTR(Name::root())),
        )],
    );
    let _ = rewrite_offline(&rewrite, &req, reply);
}
