//! `k8s_external [ZONES…] { apex APEX; ttl TTL; headless; fallthrough [ZONES…] }`
//! (kubernetes.md §14), parsed as CoreDNS's `plugin/k8s_external/setup.go` does, with its
//! error texts.

use hickory_proto::rr::Name;
use plugin::{ConfigError, Dispenser, Fallthrough};

/// The label under each zone where the name server records live (`ns1.dns.<z>`).
pub const DEFAULT_APEX: &str = "dns";
/// k8s_external's own TTL (§14: 0…3600, default 5).
pub const DEFAULT_TTL: u32 = 5;
const MAX_TTL: i64 = 3600;

/// The parsed directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Lower-case FQDNs in argument order, CIDRs expanded to their reverse zones; the server
    /// block's zones when the line names none.
    pub zones: Vec<String>,
    /// `apex`: a relative name, as written.
    pub apex: String,
    pub ttl: u32,
    /// `headless`: headless Services without external addresses (and endpoint names of any
    /// Service without one) answer with their endpoint addresses.
    pub headless: bool,
    pub fallthrough: Fallthrough,
}

impl Config {
    /// Every option at its default, serving `zones`.
    pub fn new(zones: Vec<String>) -> Config {
        Config {
            zones,
            apex: DEFAULT_APEX.to_string(),
            ttl: DEFAULT_TTL,
            headless: false,
            fallthrough: Fallthrough::none(),
        }
    }
}

/// Bad values, with CoreDNS's texts where CoreDNS has one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum K8sExternalError {
    /// Go's `strconv.Atoi` error, returned bare by CoreDNS for `ttl`.
    #[error("strconv.Atoi: parsing {0:?}: {1}")]
    Atoi(String, &'static str),
    /// CoreDNS accepts any apex text and writes broken names with it; we refuse it at setup.
    #[error("invalid apex {0:?}: {1}")]
    Apex(String, String),
    /// The block has no `kubernetes` stanza to read Services from (CoreDNS's OnStartup check).
    #[error("kubernetes plugin not loaded")]
    KubernetesNotLoaded,
}

/// Reads every `k8s_external` line of the block, as CoreDNS does: the zones are the last
/// line's, options accumulate (the directive is not limited to one line per block).
/// `block_zones` are the server block's zones.
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<Config, ConfigError> {
    let mut config = Config::new(expand(block_zones));
    while d.next() {
        let args = d.remaining_args();
        config.zones = if args.is_empty() {
            expand(block_zones)
        } else {
            expand(&args)
        };
        while d.next_block() {
            let option = d.val().to_string();
            match option.as_str() {
                "ttl" => {
                    // Only the first argument is read; more are ignored (CoreDNS).
                    let args = d.remaining_args();
                    let Some(text) = args.first() else {
                        return Err(d.arg_err().into());
                    };
                    let ttl = atoi(text).map_err(|reason| {
                        ConfigError::invalid(K8sExternalError::Atoi(text.clone(), reason))
                    })?;
                    if !(0..=MAX_TTL).contains(&ttl) {
                        return Err(d
                            .err(format!("ttl must be in range [0, 3600]: {ttl}"))
                            .into());
                    }
                    config.ttl = ttl as u32;
                }
                "apex" => {
                    let args = d.remaining_args();
                    let Some(apex) = args.first() else {
                        return Err(d.arg_err().into());
                    };
                    check_apex(apex)?;
                    config.apex = apex.clone();
                }
                // Arguments are not checked: a word after `headless` is read as the next
                // property and rejected as unknown, as in CoreDNS.
                "headless" => config.headless = true,
                "fallthrough" => config.fallthrough = Fallthrough::from_args(&d.remaining_args()),
                other => return Err(d.err(format!("unknown property '{other}'")).into()),
            }
        }
    }
    Ok(config)
}

/// Zone arguments as the kubernetes plugin reads them (CoreDNS `plugin.Host.Normalize`): a
/// CIDR stands for its reverse zones, anything else is a lower-case FQDN.
fn expand<S: AsRef<str>>(zones: &[S]) -> Vec<String> {
    zones
        .iter()
        .flat_map(|z| plugin::reverse_zones::expand(z.as_ref()))
        .collect()
}

/// The apex must make names: a relative domain name of valid labels.
fn check_apex(apex: &str) -> Result<(), ConfigError> {
    let invalid = |why: String| ConfigError::invalid(K8sExternalError::Apex(apex.into(), why));
    if apex.ends_with('.') {
        return Err(invalid("must be a relative name".into()));
    }
    if apex.split('.').any(str::is_empty) {
        return Err(invalid("empty label".into()));
    }
    Name::from_ascii(apex).map_err(|e| invalid(e.to_string()))?;
    Ok(())
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits.
fn atoi(text: &str) -> Result<i64, &'static str> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    text.parse::<i64>().map_err(|_| "value out of range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::dispenser;

    fn zones(list: &[&str]) -> Vec<String> {
        list.iter().map(|z| z.to_string()).collect()
    }

    fn with(f: impl FnOnce(&mut Config)) -> Result<Config, String> {
        let mut config = Config::new(zones(&["example.com."]));
        f(&mut config);
        Ok(config)
    }

    #[test]
    fn options_parse_like_coredns() {
        let block = zones(&["example.com."]);
        let err = |s: &str| Err(s.to_string());
        let cases: Vec<(&str, Result<Config, String>)> = vec![
            ("k8s_external", with(|_| {})),
            (
                "k8s_external Example.ORG 10.0.0.0/24",
                with(|c| c.zones = zones(&["example.org.", "0.0.10.in-addr.arpa."])),
            ),
            (
                "k8s_external example.org in-addr.arpa",
                with(|c| c.zones = zones(&["example.org.", "in-addr.arpa."])),
            ),
            (
                "k8s_external {\napex myapex\nttl 30\nheadless\n}",
                with(|c| {
                    c.apex = "myapex".into();
                    c.ttl = 30;
                    c.headless = true;
                }),
            ),
            ("k8s_external {\nttl 0\n}", with(|c| c.ttl = 0)),
            ("k8s_external {\nttl 3600\n}", with(|c| c.ttl = 3600)),
            ("k8s_external {\nttl +7\n}", with(|c| c.ttl = 7)),
            // Extra arguments of ttl and apex are ignored.
            ("k8s_external {\nttl 9 10\n}", with(|c| c.ttl = 9)),
            (
                "k8s_external {\napex a.b c\n}",
                with(|c| c.apex = "a.b".into()),
            ),
            (
                "k8s_external {\nfallthrough\n}",
                with(|c| c.fallthrough = Fallthrough::from_args(&[])),
            ),
            (
                "k8s_external {\nfallthrough example.com\n}",
                with(|c| c.fallthrough = Fallthrough::from_args(&["example.com".to_string()])),
            ),
            // Every line is read: the last zones win, options accumulate.
            (
                "k8s_external a.test {\nttl 9\n}\nk8s_external b.test {\nheadless\n}",
                with(|c| {
                    c.zones = zones(&["b.test."]);
                    c.ttl = 9;
                    c.headless = true;
                }),
            ),
            (
                "k8s_external {\nttl\n}",
                err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'ttl'",
                ),
            ),
            (
                "k8s_external {\nttl abc\n}",
                err("strconv.Atoi: parsing \"abc\": invalid syntax"),
            ),
            (
                "k8s_external {\nttl 99999999999999999999\n}",
                err("strconv.Atoi: parsing \"99999999999999999999\": value out of range"),
            ),
            (
                "k8s_external {\nttl 3601\n}",
                err("Corefile:2 - Error during parsing: ttl must be in range [0, 3600]: 3601"),
            ),
            (
                "k8s_external {\nttl -1\n}",
                err("Corefile:2 - Error during parsing: ttl must be in range [0, 3600]: -1"),
            ),
            (
                "k8s_external {\napex\n}",
                err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'apex'",
                ),
            ),
            (
                "k8s_external {\napex dns.\n}",
                err("invalid apex \"dns.\": must be a relative name"),
            ),
            (
                "k8s_external {\nheadless extra\n}",
                err("Corefile:2 - Error during parsing: unknown property 'extra'"),
            ),
            (
                "k8s_external {\nresync 30s\n}",
                err("Corefile:2 - Error during parsing: unknown property 'resync'"),
            ),
        ];
        for (corefile, want) in cases {
            let got = parse(&mut dispenser(corefile), &block).map_err(|e| e.to_string());
            assert_eq!(got, want, "{corefile:?}");
        }
    }

    #[test]
    fn without_zone_arguments_the_block_zones_are_used() {
        let block = zones(&["example.com.", "10.0.0.0/8"]);
        let config = parse(&mut dispenser("k8s_external"), &block).unwrap();
        assert_eq!(config.zones, ["example.com.", "10.in-addr.arpa."]);
    }
}
