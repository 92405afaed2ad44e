//! Type and rcode mnemonics as the Corefile spells them: exact upper case, the names miekg/dns
//! prints (`StringToType`, `StringToRcode`), so `template IN LOC` and `rcode BADCOOKIE` are
//! accepted exactly when CoreDNS accepts them (plugins-resolution.md §6.1).

use std::sync::OnceLock;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use plugin::names::{RcodeName, TypeName};

/// The type named `text` (`A`, `AAAA`, `ANY`, `LOC` …); `TYPEnnn` is not a mnemonic.
pub fn record_type(text: &str) -> Option<RecordType> {
    static NAMES: OnceLock<Vec<(String, u16)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        (1..=u16::MAX)
            .filter_map(|code| {
                let name = TypeName(RecordType::from(code)).to_string();
                (!name.starts_with("TYPE")).then_some((name, code))
            })
            .collect()
    });
    names
        .iter()
        .find(|(name, _)| name == text)
        .map(|(_, code)| RecordType::from(*code))
}

/// The rcode named `text` (`NOERROR`, `NXDOMAIN`, `REFUSED` …).
pub fn rcode(text: &str) -> Option<ResponseCode> {
    (0..=23u16)
        .map(<ResponseCode as From<u16>>::from)
        .find(|code| RcodeName(*code).to_string() == text)
}
