//! The weight file (plugins-resolution.md §5.4): its format, its errors (CoreDNS's texts,
//! which name the file), and the table looked up per address record.

use std::collections::HashMap;
use std::net::IpAddr;

use hickory_proto::rr::Name;

/// What is wrong with a weight file. The texts are CoreDNS's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightFileError {
    /// The file could not be opened; at startup this is only a warning when it is reloaded.
    #[error("weight file open error")]
    Open,
    #[error("{0}")]
    Read(String),
    #[error("wrong domain name:\"{name}\" in weight file {file}. (Maybe a missing weight value?)")]
    DomainIsAddress { name: String, file: String },
    #[error("wrong IP address:\"{address}\" in weight file {file}")]
    Address { address: String, file: String },
    #[error("wrong weight value:\"{weight}\" in weight file {file}")]
    Weight { weight: String, file: String },
    #[error("missing domain name in weight file {file}")]
    MissingDomain { file: String },
    #[error("could not parse weight line:\"{line}\" in weight file {file}")]
    Line { line: String, file: String },
}

/// One domain of the file as written (its case kept) and the weights listed under it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Domain {
    name: Name,
    weights: Vec<(IpAddr, u8)>,
}

/// The weights of a file. Lookup is by record owner name compared as an exact string, as
/// CoreDNS does (`www.Example.com.` in the file does not weigh `www.example.com.`): the map
/// finds the name case-insensitively, the entries under it are the case variants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeightTable {
    domains: HashMap<Name, Vec<Domain>>,
}

impl WeightTable {
    /// The weight of `address` under owner `name`; 1 when it is not listed.
    pub fn weight(&self, name: &Name, address: IpAddr) -> u8 {
        let address = address.to_canonical();
        self.domains
            .get(name)
            .into_iter()
            .flatten()
            .filter(|domain| domain.name.eq_case(name))
            .flat_map(|domain| &domain.weights)
            .find(|(listed, _)| *listed == address)
            .map_or(1, |&(_, weight)| weight)
    }

    /// The listed domains, for tests and logs.
    pub fn len(&self) -> usize {
        self.domains.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The weights list of the domain written `name`, created on first sight.
    fn domain(&mut self, name: Name) -> &mut Vec<(IpAddr, u8)> {
        let variants = self.domains.entry(name.clone()).or_default();
        let at = match variants.iter().position(|d| d.name.eq_case(&name)) {
            Some(at) => at,
            None => {
                variants.push(Domain {
                    name,
                    weights: Vec::new(),
                });
                variants.len() - 1
            }
        };
        &mut variants[at].weights
    }
}

/// The domain the `IP WEIGHT` lines below belong to.
enum Current {
    None,
    Domain(Name),
    /// A domain that is no DNS name (`a..b`): CoreDNS keeps it as a string that no record
    /// owner ever equals, so its weights are read and never used.
    Unmatchable,
}

/// Parses the file's content; `file` is the path as configured, for the error texts.
///
/// Blank lines and lines starting with `#` are skipped; a one-field line starts a domain
/// (a trailing dot is added, case is kept; an IP address there is an error); a two-field line
/// `IP WEIGHT` (weight 1–255) belongs to the last domain; anything else is an error.
pub fn parse(content: &[u8], file: &str) -> Result<WeightTable, WeightFileError> {
    let text = String::from_utf8_lossy(content);
    let mut table = WeightTable::default();
    let mut current = Current::None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [name] => {
                if name.parse::<IpAddr>().is_ok() {
                    return Err(WeightFileError::DomainIsAddress {
                        name: name.to_string(),
                        file: file.to_string(),
                    });
                }
                let fqdn = if name.ends_with('.') {
                    name.to_string()
                } else {
                    format!("{name}.")
                };
                current = match Name::from_ascii(&fqdn) {
                    Ok(name) => {
                        table.domain(name.clone());
                        Current::Domain(name)
                    }
                    Err(_) => Current::Unmatchable,
                };
            }
            [address, weight] => {
                let address: IpAddr = address.parse().map_err(|_| WeightFileError::Address {
                    address: address.to_string(),
                    file: file.to_string(),
                })?;
                let weight = parse_weight(weight).ok_or_else(|| WeightFileError::Weight {
                    weight: weight.to_string(),
                    file: file.to_string(),
                })?;
                match &current {
                    Current::None => {
                        return Err(WeightFileError::MissingDomain {
                            file: file.to_string(),
                        });
                    }
                    Current::Domain(name) => table
                        .domain(name.clone())
                        .push((address.to_canonical(), weight)),
                    Current::Unmatchable => {}
                }
            }
            _ => {
                return Err(WeightFileError::Line {
                    line: line.to_string(),
                    file: file.to_string(),
                });
            }
        }
    }
    Ok(table)
}

/// 1–255 in decimal digits (Go's `strconv.ParseUint(s, 10, 8)`: no sign, leading zeros
/// allowed), never 0.
fn parse_weight(text: &str) -> Option<u8> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|&w| w > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_file_format_is_read() {
        let file = "\
# weights for www
www.example.com
100.64.1.1 3
  100.64.1.2   1  

Mixed.Example.com.
2001:db8::1 255
::ffff:10.0.0.1 007
www.example.com
100.64.1.3 9
";
        let table = parse(file.as_bytes(), "/w").unwrap();
        let www = name("www.example.com.");
        assert_eq!(table.weight(&www, ip("100.64.1.1")), 3);
        assert_eq!(table.weight(&www, ip("100.64.1.2")), 1);
        assert_eq!(
            table.weight(&www, ip("100.64.1.3")),
            9,
            "a domain seen again adds up"
        );
        assert_eq!(table.weight(&www, ip("100.64.1.4")), 1, "unlisted: 1");
        let mixed = name("Mixed.Example.com.");
        assert_eq!(table.weight(&mixed, ip("2001:db8::1")), 255);
        assert_eq!(table.weight(&mixed, ip("10.0.0.1")), 7, "mapped = IPv4");
        assert_eq!(
            table.weight(&name("mixed.example.com."), ip("2001:db8::1")),
            1,
            "owner names compare as exact strings"
        );
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_domain_that_is_no_dns_name_is_read_but_never_matches() {
        let table = parse(b"a..b\n10.0.0.1 5\nok.example\n10.0.0.1 6\n", "/w").unwrap();
        assert_eq!(table.weight(&name("ok.example."), ip("10.0.0.1")), 6);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn errors_read_like_coredns() {
        let cases = [
            (
                "10.0.0.1\n",
                "wrong domain name:\"10.0.0.1\" in weight file /w. (Maybe a missing weight value?)",
            ),
            (
                "a.example\nnot-an-ip 3\n",
                "wrong IP address:\"not-an-ip\" in weight file /w",
            ),
            (
                "a.example\n10.0.0.1 0\n",
                "wrong weight value:\"0\" in weight file /w",
            ),
            (
                "a.example\n10.0.0.1 256\n",
                "wrong weight value:\"256\" in weight file /w",
            ),
            (
                "a.example\n10.0.0.1 +3\n",
                "wrong weight value:\"+3\" in weight file /w",
            ),
            (
                "a.example\n10.0.0.1 x\n",
                "wrong weight value:\"x\" in weight file /w",
            ),
            ("10.0.0.1 3\n", "missing domain name in weight file /w"),
            (
                "a.example\n10.0.0.1 3 # note\n",
                "could not parse weight line:\"10.0.0.1 3 # note\" in weight file /w",
            ),
        ];
        for (content, want) in cases {
            assert_eq!(
                parse(content.as_bytes(), "/w").unwrap_err().to_string(),
                want,
                "{content:?}"
            );
        }
    }

    #[test]
    fn empty_and_comment_only_files_are_valid() {
        assert!(parse(b"", "/w").unwrap().is_empty());
        assert!(parse(b"# nothing\n\n   \n", "/w").unwrap().is_empty());
    }
}
