//! The CNAME autopath puts in front of an answer found under another name (CoreDNS
//! `autopath/cname.go`, kubernetes.md §15 step 3), so the client accepts a reply about a name
//! it did not ask for.

use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record};
use plugin::Response;

/// Prepends `original CNAME <owner>` for the first answer record whose owner is not
/// `original` (compared case-insensitively), with that record's TTL. An answer about
/// `original` itself, or no answer at all, is left alone.
pub fn prepend(resp: &mut Response, original: &Name) {
    // hickory compares names case-insensitively, as strings.EqualFold does.
    let Some(other) = resp.answers.iter().find(|r| r.name != *original) else {
        return;
    };
    let cname = Record::from_rdata(
        original.clone(),
        other.ttl,
        RData::CNAME(CNAME(other.name.clone())),
    );
    let mut answers = Vec::with_capacity(resp.answers.len() + 1);
    answers.push(cname);
    answers.extend(resp.answers.iter().cloned());
    resp.answers = answers.into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::A;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn texts(resp: &Response) -> Vec<String> {
        resp.answers.iter().map(|r| r.to_string()).collect()
    }

    fn response(records: Vec<Record>) -> Response {
        let req = plugin::test_util::query("x.", hickory_proto::rr::RecordType::A).build();
        let mut resp = Response::reply_to(&req, "test");
        resp.answers = records.into();
        resp
    }

    fn a(owner: &str, ttl: u32) -> Record {
        Record::from_rdata(name(owner), ttl, RData::A(A::new(10, 0, 0, 1)))
    }

    #[test]
    fn a_cname_to_the_first_other_owner_with_its_ttl() {
        let mut resp = response(vec![a("svc1.testns.svc.cluster.local.", 5)]);
        prepend(&mut resp, &name("Svc1.testns.podns.svc.cluster.local."));
        assert_eq!(
            texts(&resp),
            [
                "Svc1.testns.podns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.",
                "svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1",
            ]
        );
    }

    #[test]
    fn records_of_the_original_name_are_skipped_case_insensitively() {
        let mut resp = response(vec![a("X.example.", 30), a("y.example.", 60)]);
        prepend(&mut resp, &name("x.EXAMPLE."));
        assert_eq!(
            texts(&resp),
            [
                "x.EXAMPLE. 60 IN CNAME y.example.",
                "X.example. 30 IN A 10.0.0.1",
                "y.example. 60 IN A 10.0.0.1",
            ]
        );
        let mut same = response(vec![a("x.example.", 30)]);
        prepend(&mut same, &name("X.Example."));
        assert_eq!(texts(&same), ["x.example. 30 IN A 10.0.0.1"]);
        let mut empty = response(vec![]);
        prepend(&mut empty, &name("x.example."));
        assert!(empty.answers.is_empty());
    }
}
