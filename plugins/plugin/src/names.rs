//! Type, class and rcode mnemonics as CoreDNS prints them (miekg/dns `TypeToString`,
//! `ClassToString`, `RcodeToString`), looked up by number so that types hickory does not know
//! (LOC, SPF, URI ...) still print by name. Each displays without allocating.

use std::fmt;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RecordType};

/// `A`, `AAAA`, ... or `TYPEnnn`.
#[derive(Clone, Copy, Debug)]
pub struct TypeName(pub RecordType);

/// `IN`, `CH`, ... or `CLASSnnn`.
#[derive(Clone, Copy, Debug)]
pub struct ClassName(pub DNSClass);

/// `NOERROR`, `NXDOMAIN`, ... or the number.
#[derive(Clone, Copy, Debug)]
pub struct RcodeName(pub ResponseCode);

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u16::from(self.0);
        match type_mnemonic(code) {
            Some(name) => f.write_str(name),
            None => write!(f, "TYPE{code}"),
        }
    }
}

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u16::from(self.0);
        let name = match code {
            1 => "IN",
            2 => "CS",
            3 => "CH",
            4 => "HS",
            254 => "NONE",
            255 => "ANY",
            _ => return write!(f, "CLASS{code}"),
        };
        f.write_str(name)
    }
}

impl fmt::Display for RcodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u16::from(self.0);
        let name = match code {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            11 => "DSOTYPENI",
            // 16 is both BADVERS and BADSIG; miekg/dns names it BADSIG.
            16 => "BADSIG",
            17 => "BADKEY",
            18 => "BADTIME",
            19 => "BADMODE",
            20 => "BADNAME",
            21 => "BADALG",
            22 => "BADTRUNC",
            23 => "BADCOOKIE",
            _ => return write!(f, "{code}"),
        };
        f.write_str(name)
    }
}

fn type_mnemonic(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "None",
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        128 => "NXNAME",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        260 => "AMTRELAY",
        261 => "RESINFO",
        32768 => "TA",
        32769 => "DLV",
        65535 => "Reserved",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_like_miekg_dns() {
        for (code, want) in [
            (1, "A"),
            (28, "AAAA"),
            (29, "LOC"),
            (99, "SPF"),
            (0, "None"),
            (65305, "TYPE65305"),
            (65280, "TYPE65280"),
        ] {
            assert_eq!(TypeName(RecordType::from(code)).to_string(), want, "{code}");
        }
    }

    #[test]
    fn classes_print_like_miekg_dns() {
        for (code, want) in [
            (1, "IN"),
            (2, "CS"),
            (3, "CH"),
            (4, "HS"),
            (254, "NONE"),
            (255, "ANY"),
            (7, "CLASS7"),
        ] {
            assert_eq!(ClassName(DNSClass::from(code)).to_string(), want, "{code}");
        }
    }

    #[test]
    fn rcodes_print_like_miekg_dns() {
        for (code, want) in [
            (0, "NOERROR"),
            (2, "SERVFAIL"),
            (3, "NXDOMAIN"),
            (5, "REFUSED"),
            (16, "BADSIG"),
            (12, "12"),
            (3841, "3841"),
        ] {
            assert_eq!(
                RcodeName(<ResponseCode as From<u16>>::from(code)).to_string(),
                want,
                "{code}"
            );
        }
    }
}
