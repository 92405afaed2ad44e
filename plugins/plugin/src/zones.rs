//! Zone names and matching: "is this name in that zone", longest match first.

/// True when `name` equals `zone` or is below it. Both lower-case FQDNs (`example.org.`);
/// the root zone `.` contains every name.
pub fn is_subdomain(zone: &str, name: &str) -> bool {
    if zone == "." {
        return true;
    }
    if name.len() < zone.len() || !name.ends_with(zone) {
        return false;
    }
    name.len() == zone.len() || name.as_bytes()[name.len() - zone.len() - 1] == b'.'
}

/// The most specific of `zones` that contains `name`, if any.
pub fn longest_match<'z, S: AsRef<str>>(zones: &'z [S], name: &str) -> Option<&'z str> {
    zones
        .iter()
        .map(AsRef::as_ref)
        .filter(|zone| is_subdomain(zone, name))
        .max_by_key(|zone| zone.len())
}

/// Lower-cases `name` and makes it fully qualified (`Example.ORG` → `example.org.`).
pub fn normalize(name: &str) -> String {
    let mut out = name.to_ascii_lowercase();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_respects_label_boundaries() {
        assert!(is_subdomain("example.org.", "www.example.org."));
        assert!(is_subdomain("example.org.", "example.org."));
        assert!(!is_subdomain("example.org.", "badexample.org."));
        assert!(is_subdomain(".", "anything."));
    }

    #[test]
    fn longest_zone_wins() {
        let zones = [".", "org.", "example.org."];
        assert_eq!(
            longest_match(&zones, "a.example.org."),
            Some("example.org.")
        );
        assert_eq!(longest_match(&zones, "example.com."), Some("."));
        assert_eq!(longest_match(&["org."], "example.com."), None);
    }
}
