//! Answer tables (kubernetes.md §18.2): a case names a setting, a question and the expected
//! outcome and sections; a reply is compared as text (record order and SOA serials are not
//! compared).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, Record, RecordType};
use plugin::Request;
use plugin::reply::Outcome;
use plugin::test_util::query;

/// A record as text, `owner ttl TYPE rdata`; an SOA's serial is written `*` (not compared).
pub fn render(record: &Record) -> String {
    match &record.data {
        RData::SOA(soa) => format!(
            "{} {} SOA {} {} * {} {} {} {}",
            record.name,
            record.ttl,
            soa.mname,
            soa.rname,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum
        ),
        RData::TXT(txt) => format!(
            "{} {} TXT {}",
            record.name,
            record.ttl,
            txt.txt_data
                .iter()
                .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        data => format!(
            "{} {} {} {}",
            record.name,
            record.ttl,
            record.record_type(),
            data
        ),
    }
}

/// A section rendered and sorted (record order is not compared).
pub fn rendered(records: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = records.iter().map(render).collect();
    out.sort();
    out
}

/// What a table's settings (the stanzas a case runs against) say about its cases.
pub trait CaseSetting: Copy {
    /// The SOA of the zone's negative answers (`nodata`, `nxdomain`).
    const NEGATIVE_SOA: &'static str;

    /// A name or record as the table writes it, spelled out (a table's shorthand).
    fn expand(text: &str) -> String {
        text.to_string()
    }
}

/// The outcome a case wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Rcode(ResponseCode),
    /// Handed to the plugins after the one under test.
    Next,
    /// Not written: the server core answers REFUSED.
    Refused,
}

pub const NOERROR: Want = Want::Rcode(ResponseCode::NoError);
pub const NXDOMAIN: Want = Want::Rcode(ResponseCode::NXDomain);
pub const SERVFAIL: Want = Want::Rcode(ResponseCode::ServFail);

/// One row of an answer table.
#[derive(Clone, Copy, Debug)]
pub struct Case<S> {
    pub id: &'static str,
    pub setting: S,
    pub qname: &'static str,
    pub qtype: RecordType,
    pub want: Want,
    pub answer: &'static [&'static str],
    pub additional: &'static [&'static str],
    pub authority: &'static [&'static str],
}

/// A case with every field given.
#[allow(clippy::too_many_arguments)]
pub const fn case<S: CaseSetting>(
    id: &'static str,
    setting: S,
    qname: &'static str,
    qtype: RecordType,
    want: Want,
    answer: &'static [&'static str],
    additional: &'static [&'static str],
    authority: &'static [&'static str],
) -> Case<S> {
    Case {
        id,
        setting,
        qname,
        qtype,
        want,
        answer,
        additional,
        authority,
    }
}

/// NOERROR with these answers and nothing else.
pub const fn answer<S: CaseSetting>(
    id: &'static str,
    setting: S,
    qname: &'static str,
    qtype: RecordType,
    answer: &'static [&'static str],
) -> Case<S> {
    case(id, setting, qname, qtype, NOERROR, answer, &[], &[])
}

/// NOERROR, no answers, the setting's negative SOA.
pub const fn nodata<S: CaseSetting>(
    id: &'static str,
    setting: S,
    qname: &'static str,
    qtype: RecordType,
) -> Case<S> {
    case(
        id,
        setting,
        qname,
        qtype,
        NOERROR,
        &[],
        &[],
        &[S::NEGATIVE_SOA],
    )
}

/// NXDOMAIN with the setting's negative SOA (another SOA: [`Case::with_authority`]).
pub const fn nxdomain<S: CaseSetting>(
    id: &'static str,
    setting: S,
    qname: &'static str,
    qtype: RecordType,
) -> Case<S> {
    case(
        id,
        setting,
        qname,
        qtype,
        NXDOMAIN,
        &[],
        &[],
        &[S::NEGATIVE_SOA],
    )
}

/// Handed to the next plugin.
pub const fn next<S: CaseSetting>(
    id: &'static str,
    setting: S,
    qname: &'static str,
    qtype: RecordType,
) -> Case<S> {
    case(id, setting, qname, qtype, Want::Next, &[], &[], &[])
}

impl<S: CaseSetting> Case<S> {
    /// The same case with another authority section.
    pub const fn with_authority(self, authority: &'static [&'static str]) -> Self {
        Case { authority, ..self }
    }

    /// The case's question, spelled out.
    pub fn request(&self) -> Request {
        query(&S::expand(self.qname), self.qtype).build()
    }

    /// What is wrong with `outcome` for this case, the reply expected from `answered_by`:
    /// the outcome, then (for a written reply) the sections and the header flags (AA set, RD
    /// copied, RA clear).
    pub fn problems(&self, outcome: &Outcome, answered_by: &str) -> Vec<String> {
        let mut problems = Vec::new();
        match (self.want, outcome) {
            (Want::Refused, Err(failure)) if failure.rcode == ResponseCode::Refused => {}
            (Want::Refused, other) => {
                problems.push(format!("want REFUSED unwritten, got {other:?}"))
            }
            (Want::Next, Ok(response)) if response.plugin != answered_by => {}
            (Want::Next, other) => problems.push(format!("want next, got {other:?}")),
            (Want::Rcode(_), Ok(response)) if response.plugin != answered_by => {
                problems.push(format!("handed on to {}", response.plugin))
            }
            (Want::Rcode(rcode), Ok(response)) => {
                if response.rcode != rcode {
                    problems.push(format!("rcode {}, want {rcode}", response.rcode));
                }
                let sections = [
                    ("answer", response.answers.records(), self.answer),
                    (
                        "additional",
                        response.additionals.records(),
                        self.additional,
                    ),
                    ("authority", response.authorities.records(), self.authority),
                ];
                for (section, got, want) in sections {
                    let mut want: Vec<String> = want.iter().map(|r| S::expand(r)).collect();
                    want.sort();
                    let got = rendered(got);
                    if got != want {
                        problems.push(format!("{section}:\n   got {got:?}\n  want {want:?}"));
                    }
                }
                let flags = response.flags;
                if !flags.authoritative || flags.recursion_available || !flags.recursion_desired {
                    problems.push(format!("flags {flags:?}: want AA, RD copied, no RA"));
                }
            }
            (Want::Rcode(_), Err(failure)) => problems.push(format!("not written: {failure:?}")),
        }
        problems
    }
}

/// Runs every case through `serve` (the outcome, and any problems the table itself sees) and
/// fails listing every case that went wrong.
pub async fn check_cases<S: CaseSetting>(
    cases: Vec<Case<S>>,
    answered_by: &str,
    mut serve: impl AsyncFnMut(&Case<S>, &Request) -> (Outcome, Vec<String>),
) {
    let mut failures = Vec::new();
    for case in &cases {
        let req = case.request();
        let (outcome, mut problems) = serve(case, &req).await;
        problems.extend(case.problems(&outcome, answered_by));
        if !problems.is_empty() {
            failures.push(format!(
                "{} {} {:?}: {}",
                case.id,
                req.qname(),
                case.qtype,
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
