//! The query name grammar of kubernetes.md §2 (CoreDNS `parseRequest`): the labels left of
//! the matched zone, read from the right. Works on the lower-cased name and borrows from it:
//! no allocation per query.

/// `svc` or `pod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Svc,
    Pod,
}

/// A name below `<ns>.svc|pod.<z>`. Labels not present are empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub kind: Kind,
    pub namespace: &'a str,
    /// The Service (or, for `pod`, the pod label); empty for `<ns>.<kind>.<z>`.
    pub service: &'a str,
    pub endpoint: &'a str,
    /// Port and protocol with one leading `_` stripped (optional, Q4).
    pub port: &'a str,
    pub protocol: &'a str,
    /// `<service>.<namespace>`: the cache key, a slice of the name itself.
    pub key: &'a str,
}

/// What a name is, relative to its zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape<'a> {
    /// The zone itself.
    Apex,
    /// `svc.<z>` or `pod.<z>`: exists, no data.
    KindOnly,
    /// `<ns>.<kind>.<z>` and everything below.
    Name(Parsed<'a>),
}

/// The grammar rejected the name (NXDOMAIN, §4 row 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

/// The labels of `name_lower` left of `zone` (both lower-case FQDNs, `name` inside `zone`),
/// without the joining dot: `svc1.testns.svc` for `svc1.testns.svc.cluster.local.`.
pub fn base<'a>(name_lower: &'a str, zone: &str) -> &'a str {
    if zone == "." {
        return name_lower.strip_suffix('.').unwrap_or(name_lower);
    }
    let cut = name_lower.len().saturating_sub(zone.len());
    name_lower[..cut].strip_suffix('.').unwrap_or("")
}

/// Parses `name_lower` inside `zone` (CoreDNS `parseRequest` without multicluster and zonal
/// names).
pub fn parse<'a>(name_lower: &'a str, zone: &str) -> Result<Shape<'a>, Invalid> {
    let base = base(name_lower, zone);
    if base.is_empty() {
        return Ok(Shape::Apex);
    }
    if base == "svc" || base == "pod" {
        return Ok(Shape::KindOnly);
    }
    // Right to left: kind, namespace, service, then 1 or 2 more labels.
    let mut labels = LabelsFromRight { rest: Some(base) };
    let kind = match labels.next() {
        Some("svc") => Kind::Svc,
        Some("pod") => Kind::Pod,
        _ => return Err(Invalid),
    };
    let namespace = labels.next().unwrap_or("");
    let mut parsed = Parsed {
        kind,
        namespace,
        service: "",
        endpoint: "",
        port: "",
        protocol: "",
        key: "",
    };
    let Some(service) = labels.next() else {
        return Ok(Shape::Name(parsed));
    };
    parsed.service = service;
    // `<service>.<namespace>` is contiguous in the name: the cache key without copying.
    let start = offset(base, service);
    parsed.key = &base[start..start + service.len() + 1 + namespace.len()];
    let rest: [Option<&str>; 3] = [labels.next(), labels.next(), labels.next()];
    match rest {
        [None, _, _] => {}
        [Some(endpoint), None, _] => parsed.endpoint = endpoint,
        [Some(protocol), Some(port), None] => {
            parsed.protocol = strip_underscore(protocol);
            parsed.port = strip_underscore(port);
        }
        // Three or more labels before the service: too long (zonal names are not served).
        _ => return Err(Invalid),
    }
    Ok(Shape::Name(parsed))
}

/// The dot-separated labels of a name, right to left: `rsplit('.')` for the few short labels
/// of a query name, without the general substring searcher (a large share of parsing).
struct LabelsFromRight<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for LabelsFromRight<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.bytes().rposition(|b| b == b'.') {
            Some(dot) => {
                self.rest = Some(&rest[..dot]);
                Some(&rest[dot + 1..])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Byte offset of `part` inside `whole` (`part` is a sub-slice of it).
fn offset(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

fn strip_underscore(label: &str) -> &str {
    label.strip_prefix('_').unwrap_or(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: &str = "cluster.local.";

    fn name<'a>(
        kind: Kind,
        namespace: &'a str,
        service: &'a str,
        endpoint: &'a str,
        port: &'a str,
        protocol: &'a str,
        key: &'a str,
    ) -> Result<Shape<'a>, Invalid> {
        Ok(Shape::Name(Parsed {
            kind,
            namespace,
            service,
            endpoint,
            port,
            protocol,
            key,
        }))
    }

    #[test]
    fn reads_the_labels_from_the_right() {
        let cases: &[(&str, Result<Shape<'_>, Invalid>)] = &[
            ("cluster.local.", Ok(Shape::Apex)),
            ("svc.cluster.local.", Ok(Shape::KindOnly)),
            ("pod.cluster.local.", Ok(Shape::KindOnly)),
            ("foo.cluster.local.", Err(Invalid)),
            ("ns.dns.cluster.local.", Err(Invalid)),
            ("dns-version.cluster.local.", Err(Invalid)),
            (
                "testns.svc.cluster.local.",
                name(Kind::Svc, "testns", "", "", "", "", ""),
            ),
            (
                "svc1.testns.svc.cluster.local.",
                name(Kind::Svc, "testns", "svc1", "", "", "", "svc1.testns"),
            ),
            (
                "ep1a.svc1.testns.svc.cluster.local.",
                name(Kind::Svc, "testns", "svc1", "ep1a", "", "", "svc1.testns"),
            ),
            // One extra label is always an endpoint, even `_tcp` (Q5).
            (
                "_tcp.svc1.testns.svc.cluster.local.",
                name(Kind::Svc, "testns", "svc1", "_tcp", "", "", "svc1.testns"),
            ),
            (
                "_http._tcp.svc1.testns.svc.cluster.local.",
                name(
                    Kind::Svc,
                    "testns",
                    "svc1",
                    "",
                    "http",
                    "tcp",
                    "svc1.testns",
                ),
            ),
            // Underscores are optional (Q4).
            (
                "http.tcp.svc1.testns.svc.cluster.local.",
                name(
                    Kind::Svc,
                    "testns",
                    "svc1",
                    "",
                    "http",
                    "tcp",
                    "svc1.testns",
                ),
            ),
            ("a.b.c.svc1.testns.svc.cluster.local.", Err(Invalid)),
            (
                "x.1-2-3-4.podns.pod.cluster.local.",
                name(Kind::Pod, "podns", "1-2-3-4", "x", "", "", "1-2-3-4.podns"),
            ),
        ];
        for (qname, want) in cases {
            assert_eq!(parse(qname, Z), *want, "{qname}");
        }
    }

    #[test]
    fn labels_from_the_right_split_like_rsplit() {
        for text in [
            "",
            "a",
            "a.b",
            "a..b",
            ".a",
            "a.",
            "_http._tcp.svc1.testns.svc",
        ] {
            let got: Vec<&str> = LabelsFromRight { rest: Some(text) }.collect();
            let want: Vec<&str> = text.rsplit('.').collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn the_root_zone_and_reverse_zones() {
        assert_eq!(parse(".", "."), Ok(Shape::Apex));
        assert_eq!(
            parse("svc1.testns.svc.", "."),
            name(Kind::Svc, "testns", "svc1", "", "", "", "svc1.testns")
        );
        assert_eq!(
            parse("1.0.0.10.in-addr.arpa.", "in-addr.arpa."),
            Err(Invalid)
        );
        assert_eq!(base("1.0.0.10.in-addr.arpa.", "in-addr.arpa."), "1.0.0.10");
    }
}
