//! The zone-name checks CoreDNS applies to server keys (miekg/dns `IsDomainName`, `Fqdn`,
//! Go `strings.ToLower`). Deliberately liberal: almost any bytes form a "valid" name; only
//! empty names, empty labels, labels over 63 octets and names over 255 octets are refused.

/// miekg/dns `IsFqdn`: ends with a dot that is not escaped by a backslash.
pub fn is_fqdn(s: &str) -> bool {
    let Some(without_dot) = s.strip_suffix('.') else {
        return false;
    };
    let backslashes = without_dot
        .bytes()
        .rev()
        .take_while(|&b| b == b'\\')
        .count();
    backslashes % 2 == 0
}

/// miekg/dns `Fqdn`: appends the final dot when missing.
pub fn fqdn(s: &str) -> String {
    if is_fqdn(s) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// miekg/dns `IsDomainName` (v1.1.72), byte for byte: `\X` and `\DDD` escapes count as one
/// octet, a leading dot is only allowed for the root name, labels are at most 63 octets and
/// the wire form at most 255 octets.
pub fn is_domain_name(s: &str) -> bool {
    // Room for the wire form plus the final root label, as miekg/dns counts it.
    const WIRE_LIMIT: usize = 256;
    if s.is_empty() {
        return false;
    }
    let name = fqdn(s);
    let b = name.as_bytes();
    let (mut offset, mut begin) = (0usize, 0usize);
    let (mut was_dot, mut escape) = (false, false);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escape = !escape;
                if offset + 1 > WIRE_LIMIT {
                    return false;
                }
                let ddd = b.len() >= i + 4 && b[i + 1..i + 4].iter().all(u8::is_ascii_digit);
                let skip = if ddd { 3 } else { 1 };
                i += skip;
                begin += skip;
                was_dot = false;
            }
            b'.' => {
                escape = false;
                if i == 0 && b.len() > 1 {
                    return false;
                }
                if was_dot {
                    return false;
                }
                was_dot = true;
                let label_len = i.saturating_sub(begin);
                if label_len >= 64 {
                    return false;
                }
                offset += 1 + label_len;
                if offset > WIRE_LIMIT {
                    return false;
                }
                begin = i + 1;
            }
            _ => {
                escape = false;
                was_dot = false;
            }
        }
        i += 1;
    }
    !escape
}

/// Go's `strings.ToLower` (simple Unicode case mapping, one character for one).
pub fn to_lower(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_name_validity_matches_miekg_dns() {
        let long_label = "a".repeat(64);
        let max_label = "a".repeat(63);
        let max_name = vec!["a".repeat(63); 4].join(".");
        let too_long_name = format!("{max_name}.a");
        let cases: &[(&str, bool)] = &[
            (".", true),
            ("example.org", true),
            ("example.org.", true),
            ("example.org,example.com", true),
            ("example.org{", true),
            ("{}", true),
            ("_srv.x", true),
            ("10.0.0.0/24", true),
            ("2001:db8::/30", true),
            ("", false),
            ("a..b", false),
            (".a", false),
            (&long_label, false),
            (&max_label, true),
            (&max_name, true),
            (&too_long_name, false),
            (r"a\.b", true),
            (r"a\065b", true),
            ("a\\", false),
        ];
        for (name, valid) in cases {
            assert_eq!(is_domain_name(name), *valid, "{name:?}");
        }
    }

    #[test]
    fn fqdn_respects_escaped_final_dot() {
        assert_eq!(fqdn("a"), "a.");
        assert_eq!(fqdn("a."), "a.");
        assert_eq!(fqdn(r"a\."), r"a\..");
        assert_eq!(fqdn(r"a\\."), r"a\\.");
    }

    #[test]
    fn lowercasing_is_unicode_like_go() {
        assert_eq!(to_lower("EXAMPLE.Org"), "example.org");
        assert_eq!(to_lower("ÄB"), "äb");
    }
}
