//! Rcode names in `next` and `failover` (miekg/dns `StringToRcode`, case-insensitive).

/// The rcode `text` names, if any.
pub fn parse(text: &str) -> Option<u16> {
    Some(match text.to_ascii_uppercase().as_str() {
        "NOERROR" => 0,
        "FORMERR" => 1,
        "SERVFAIL" => 2,
        "NXDOMAIN" => 3,
        "NOTIMP" => 4,
        "REFUSED" => 5,
        "YXDOMAIN" => 6,
        "YXRRSET" => 7,
        "NXRRSET" => 8,
        "NOTAUTH" => 9,
        "NOTZONE" => 10,
        "DSOTYPENI" => 11,
        "BADSIG" | "BADVERS" => 16,
        "BADKEY" => 17,
        "BADTIME" => 18,
        "BADMODE" => 19,
        "BADNAME" => 20,
        "BADALG" => 21,
        "BADTRUNC" => 22,
        "BADCOOKIE" => 23,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_any_case() {
        assert_eq!(super::parse("nxdomain"), Some(3));
        assert_eq!(super::parse("ServFail"), Some(2));
        assert_eq!(super::parse("NOPE"), None);
    }
}
