//! The OPT record a query carried, as the TXT strings [`crate::replies::echo_opt`] answers
//! with, and read back from such an answer — so an EDNS test can see exactly what a
//! forwarder sent upstream, through the whole server.

use hickory_proto::op::Message;
use hickory_proto::rr::RData;

/// What a query's OPT record said. As TXT strings: `version=0`, `size=1232`, `do=1` (or
/// `do=0`), `options=10,8` (option codes in the order received, empty when none); a query
/// without OPT is the single string `edns=none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoedOpt {
    pub version: u8,
    /// The advertised UDP payload size.
    pub size: u16,
    pub dnssec_ok: bool,
    pub option_codes: Vec<u16>,
}

impl EchoedOpt {
    /// The string for a query without OPT.
    pub const NO_EDNS: &'static str = "edns=none";

    /// The OPT of `query`, or None when it had none.
    pub fn of_query(query: &Message) -> Option<EchoedOpt> {
        let edns = query.edns.as_ref()?;
        Some(EchoedOpt {
            version: edns.version(),
            size: edns.max_payload(),
            dnssec_ok: edns.flags().dnssec_ok,
            option_codes: edns
                .options()
                .options
                .iter()
                .map(|(code, _)| u16::from(*code))
                .collect(),
        })
    }

    pub(crate) fn to_strings(&self) -> Vec<String> {
        let codes: Vec<String> = self.option_codes.iter().map(u16::to_string).collect();
        vec![
            format!("version={}", self.version),
            format!("size={}", self.size),
            format!("do={}", u8::from(self.dnssec_ok)),
            format!("options={}", codes.join(",")),
        ]
    }

    /// Read back the first TXT answer of `response` (an [`crate::replies::echo_opt`] answer,
    /// possibly passed on by the server under test): Some(None) when the upstream saw no
    /// OPT, None when the answer is not an echo.
    pub fn from_reply(response: &Message) -> Option<Option<EchoedOpt>> {
        let txt = response
            .answers
            .iter()
            .find_map(|record| match &record.data {
                RData::TXT(txt) => Some(txt),
                _ => None,
            })?;
        let strings: Vec<&str> = txt
            .txt_data
            .iter()
            .map(|s| std::str::from_utf8(s).ok())
            .collect::<Option<_>>()?;
        if strings == [EchoedOpt::NO_EDNS] {
            return Some(None);
        }
        let mut echoed = EchoedOpt {
            version: 0,
            size: 0,
            dnssec_ok: false,
            option_codes: Vec::new(),
        };
        let mut fields_seen = 0;
        for s in strings {
            let (key, value) = s.split_once('=')?;
            match key {
                "version" => echoed.version = value.parse().ok()?,
                "size" => echoed.size = value.parse().ok()?,
                "do" => echoed.dnssec_ok = value == "1",
                "options" if value.is_empty() => {}
                "options" => {
                    echoed.option_codes = value
                        .split(',')
                        .map(|code| code.parse().ok())
                        .collect::<Option<_>>()?;
                }
                _ => return None,
            }
            fields_seen += 1;
        }
        (fields_seen == 4).then_some(Some(echoed))
    }
}
