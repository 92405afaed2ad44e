//! A table-driven [`Resolve`] for tests: what "the rest of the server" answers when a plugin
//! looks a name up through [`Upstream`](crate::upstream::Upstream) (kubernetes.md §18.1's
//! self-lookup stub, or a server that produces odd replies).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::request::Request;
use crate::response::Response;
use crate::upstream::{LookupFuture, Resolve};

/// The reply a row gives: its rcode, TC bit and answer records (`ttl`, data; the owner is the
/// name asked, in the spelling asked).
#[derive(Clone, Debug, Default)]
pub struct StubAnswer {
    pub rcode: ResponseCode,
    pub truncated: bool,
    pub records: Vec<(u32, RData)>,
}

impl StubAnswer {
    /// NOERROR with these records (none: NODATA).
    pub fn records(records: Vec<(u32, RData)>) -> Self {
        StubAnswer {
            records,
            ..StubAnswer::default()
        }
    }

    /// No records, `rcode`.
    pub fn rcode(rcode: ResponseCode) -> Self {
        StubAnswer {
            rcode,
            ..StubAnswer::default()
        }
    }

    /// The same with TC set.
    pub fn truncated(self) -> Self {
        StubAnswer {
            truncated: true,
            ..self
        }
    }
}

struct Row {
    /// Lower case, fully qualified.
    name: String,
    /// `None`: every type.
    qtype: Option<RecordType>,
    /// `None`: the server produced no message.
    answer: Option<StubAnswer>,
}

/// Answers lookups from a table of rows, the first row matching name (case-insensitively) and
/// type winning; names no row matches get the fallback.
pub struct StubResolver {
    rows: Vec<Row>,
    otherwise: Option<StubAnswer>,
}

impl StubResolver {
    /// A table with no rows whose fallback is `otherwise` (`None`: no message).
    pub fn otherwise(otherwise: Option<StubAnswer>) -> Self {
        StubResolver {
            rows: Vec::new(),
            otherwise,
        }
    }

    /// A table with no rows answering NXDOMAIN to everything.
    pub fn nxdomain_otherwise() -> Self {
        StubResolver::otherwise(Some(StubAnswer::rcode(ResponseCode::NXDomain)))
    }

    /// Adds a row: `name` (any type when `qtype` is `None`) gets `answer` (`None`: no message).
    pub fn row(
        mut self,
        name: &str,
        qtype: Option<RecordType>,
        answer: Option<StubAnswer>,
    ) -> Self {
        self.rows.push(Row {
            name: name.to_ascii_lowercase(),
            qtype,
            answer,
        });
        self
    }

    /// What the table says for `name`/`qtype`.
    fn answer_for(&self, name: &Name, qtype: RecordType) -> Option<&StubAnswer> {
        let mut lower = name.to_string();
        lower.make_ascii_lowercase();
        self.rows
            .iter()
            .find(|row| row.name == lower && row.qtype.is_none_or(|t| t == qtype))
            .map_or(self.otherwise.as_ref(), |row| row.answer.as_ref())
    }
}

impl Resolve for StubResolver {
    fn resolve<'a>(
        &'a self,
        origin: &'a Request,
        name: Name,
        qtype: RecordType,
    ) -> LookupFuture<'a> {
        let response = self.answer_for(&name, qtype).map(|answer| {
            let mut response = Response::reply_to(origin, "stub").with_rcode(answer.rcode);
            response.flags.truncated = answer.truncated;
            response.answers = answer
                .records
                .iter()
                .map(|(ttl, data)| Record::from_rdata(name.clone(), *ttl, data.clone()))
                .collect::<Vec<_>>()
                .into();
            response
        });
        Box::pin(std::future::ready(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::query;
    use hickory_proto::rr::rdata::A;

    fn table() -> StubResolver {
        StubResolver::nxdomain_otherwise()
            .row(
                "ext.example.",
                Some(RecordType::A),
                Some(StubAnswer::records(vec![(
                    30,
                    RData::A(A::new(192, 0, 2, 1)),
                )])),
            )
            .row("ext.example.", None, Some(StubAnswer::default()))
            .row("gone.example.", None, None)
            .row(
                "trunc.example.",
                None,
                Some(StubAnswer::rcode(ResponseCode::NXDomain).truncated()),
            )
    }

    async fn ask(name: &str, qtype: RecordType) -> Option<Response> {
        let origin = query("origin.example.", RecordType::A).build();
        table()
            .resolve(&origin, Name::from_ascii(name).unwrap(), qtype)
            .await
    }

    #[tokio::test]
    async fn the_first_matching_row_answers_with_the_name_as_asked() {
        let got = ask("ExT.example.", RecordType::A).await.expect("a message");
        assert_eq!(got.rcode, ResponseCode::NoError);
        let texts: Vec<String> = got.answers.iter().map(|r| r.to_string()).collect();
        assert_eq!(texts, ["ExT.example. 30 IN A 192.0.2.1"]);

        let nodata = ask("ext.example.", RecordType::AAAA)
            .await
            .expect("a message");
        assert_eq!(nodata.rcode, ResponseCode::NoError);
        assert!(nodata.answers.records().is_empty());
    }

    #[tokio::test]
    async fn rows_give_no_message_truncation_and_the_fallback() {
        assert!(ask("gone.example.", RecordType::A).await.is_none());
        let trunc = ask("trunc.example.", RecordType::A)
            .await
            .expect("a message");
        assert_eq!(trunc.rcode, ResponseCode::NXDomain);
        assert!(trunc.flags.truncated);
        let other = ask("other.example.", RecordType::A)
            .await
            .expect("a message");
        assert_eq!(other.rcode, ResponseCode::NXDomain);
        assert!(!other.flags.truncated);
        assert_eq!(other.plugin, "stub");
    }
}
