//! `kubernetes [ZONES…] { … }`: the options of kubernetes.md §8, parsed as CoreDNS's
//! `ParseStanza` does, with its error texts.

use std::path::PathBuf;
use std::time::Duration;

use plugin::{ConfigError, Dispenser, Fallthrough};

use crate::settings::{ApiSettings, Kubeconfig, TlsFiles, WatchScope};
use crate::source::selector::LabelSelector;

/// `pods disabled|insecure|verified` (§7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodMode {
    #[default]
    Disabled,
    Insecure,
    Verified,
}

pub const DEFAULT_TTL: u32 = 5;
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The parsed stanza.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Lower-case FQDNs in argument order, CIDRs expanded to reverse zones.
    pub zones: Vec<String>,
    /// Index in `zones` of the first forward zone: every PTR target is built under it (§6).
    pub primary: usize,
    /// `namespaces`: only these are exposed; empty = all.
    pub namespaces: Vec<String>,
    pub pods: PodMode,
    pub endpoint_pod_names: bool,
    pub ttl: u32,
    pub noendpoints: bool,
    pub fallthrough: Fallthrough,
    pub ignore_empty_service: bool,
    pub api: ApiSettings,
    pub scope: WatchScope,
}

impl Config {
    /// A configuration for `zones` with every option at its default.
    pub fn new(zones: Vec<String>) -> Result<Config, KubernetesError> {
        let primary = zones
            .iter()
            .position(|z| !plugin::reverse_zones::is_reverse(z))
            .ok_or(KubernetesError::NoForwardZone)?;
        Ok(Config {
            zones,
            primary,
            namespaces: Vec::new(),
            pods: PodMode::Disabled,
            endpoint_pod_names: false,
            ttl: DEFAULT_TTL,
            noendpoints: false,
            fallthrough: Fallthrough::none(),
            ignore_empty_service: false,
            api: ApiSettings::default(),
            scope: WatchScope {
                labels: None,
                namespace_labels: None,
                endpoint_slices: true,
                pods: false,
                startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            },
        })
    }

    /// The primary zone (first forward zone).
    pub fn primary_zone(&self) -> &str {
        &self.zones[self.primary]
    }
}

/// Bad values, with CoreDNS's texts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KubernetesError {
    #[error("non-reverse zone name must be used")]
    NoForwardZone,
    #[error("wrong value for pods: {0},  must be one of: disabled, verified, insecure")]
    PodsValue(String),
    #[error("unable to parse label selector value: '{0}': {1}")]
    Labels(String, String),
    #[error("unable to parse namespace_label selector value: '{0}': {1}")]
    NamespaceLabels(String, String),
    /// Go's `strconv.Atoi` error, returned bare by CoreDNS for `ttl`.
    #[error("strconv.Atoi: parsing {0:?}: {1}")]
    Atoi(String, &'static str),
    #[error("unable to parse ignore value: '{0}'")]
    IgnoreValue(String),
    #[error("failed to parse startup_timeout: {0}, {1}")]
    StartupTimeout(String, plugin::duration::DurationError),
    /// CoreDNS 1.14 options this build parses but does not serve.
    #[error("{0} is not supported by this build")]
    Unsupported(&'static str),
}

/// Go's `strconv` error reason for a bad integer: out of range or not a number.
fn atoi_reason(text: &str) -> &'static str {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        "value out of range"
    } else {
        "invalid syntax"
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform.
fn atoi(text: &str) -> Result<i64, &'static str> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.starts_with('+') {
        return Err("invalid syntax");
    }
    digits.parse::<i64>().map_err(|_| atoi_reason(text))
}

/// Go's `strconv.ParseFloat(s, 32)` for the values a Corefile holds (decimal, exponent,
/// `inf`, `nan`); underscores and hex floats are not accepted here.
fn parse_float(text: &str) -> Result<f32, &'static str> {
    let lower = text.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    let special = matches!(body, "inf" | "infinity" | "nan");
    if !special
        && !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return Err("invalid syntax");
    }
    let value: f64 = lower.parse().map_err(|_| "invalid syntax")?;
    if value.is_finite() && (value as f32).is_infinite() {
        return Err("value out of range");
    }
    Ok(value as f32)
}

/// Reads the block's `kubernetes` directive. `block_zones` are the server block's zones (used
/// without zone arguments).
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<Config, ConfigError> {
    let mut config: Option<Config> = None;
    while d.next_once()? {
        config = Some(parse_stanza(d, block_zones)?);
    }
    // Setup only runs when the directive is present; an empty dispenser parses as defaults.
    match config {
        Some(config) => Ok(config),
        None => Config::new(block_zones.to_vec()).map_err(ConfigError::invalid),
    }
}

fn parse_stanza(d: &mut Dispenser, block_zones: &[String]) -> Result<Config, ConfigError> {
    let args = d.remaining_args();
    let zones: Vec<String> = if args.is_empty() {
        block_zones
            .iter()
            .flat_map(|z| plugin::reverse_zones::expand(z))
            .collect()
    } else {
        args.iter()
            .flat_map(|z| plugin::reverse_zones::expand(z))
            .collect()
    };
    let mut config = Config::new(zones).map_err(ConfigError::invalid)?;
    let mut multicluster = false;
    let mut zonal = false;
    while d.next_block() {
        let option = d.val().to_string();
        match option.as_str() {
            "endpoint_pod_names" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err().into());
                }
                config.endpoint_pod_names = true;
            }
            "pods" => match d.remaining_args().as_slice() {
                [mode] => {
                    config.pods = match mode.as_str() {
                        "disabled" => PodMode::Disabled,
                        "insecure" => PodMode::Insecure,
                        "verified" => PodMode::Verified,
                        _ => {
                            return Err(ConfigError::invalid(KubernetesError::PodsValue(
                                mode.clone(),
                            )));
                        }
                    };
                }
                _ => return Err(d.arg_err().into()),
            },
            "namespaces" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err().into());
                }
                for ns in args {
                    if !config.namespaces.contains(&ns) {
                        config.namespaces.push(ns);
                    }
                }
            }
            "endpoint" => {
                let args = d.remaining_args();
                let Some(first) = args.first() else {
                    return Err(d.arg_err().into());
                };
                if args.len() > 1 {
                    plugin::log::warning(
                        Some(crate::NAME),
                        format_args!(
                            "Multiple endpoints have been deprecated, only the first specified endpoint '{first}' is used"
                        ),
                    );
                }
                config.api.endpoint = Some(first.clone());
            }
            "tls" => match d.remaining_args().as_slice() {
                [cert, key, ca] => {
                    config.api.tls = Some(TlsFiles {
                        cert: cert.into(),
                        key: key.into(),
                        ca: ca.into(),
                    });
                }
                _ => return Err(d.arg_err().into()),
            },
            "labels" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err().into());
                }
                let text = args.join(" ");
                if let Err(e) = LabelSelector::parse(&text) {
                    return Err(ConfigError::invalid(KubernetesError::Labels(
                        text,
                        e.to_string(),
                    )));
                }
                config.scope.labels = Some(text);
            }
            "namespace_labels" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err().into());
                }
                let text = args.join(" ");
                if let Err(e) = LabelSelector::parse(&text) {
                    return Err(ConfigError::invalid(KubernetesError::NamespaceLabels(
                        text,
                        e.to_string(),
                    )));
                }
                config.scope.namespace_labels = Some(text);
            }
            "fallthrough" => config.fallthrough = Fallthrough::from_args(&d.remaining_args()),
            "ttl" => {
                let args = d.remaining_args();
                let Some(text) = args.first() else {
                    return Err(d.arg_err().into());
                };
                let ttl = atoi(text).map_err(|reason| {
                    ConfigError::invalid(KubernetesError::Atoi(text.clone(), reason))
                })?;
                if !(0..=3600).contains(&ttl) {
                    return Err(d
                        .err(format!("ttl must be in range [0, 3600]: {ttl}"))
                        .into());
                }
                config.ttl = ttl as u32;
            }
            "noendpoints" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err().into());
                }
                config.noendpoints = true;
            }
            "zonal" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err().into());
                }
                zonal = true;
            }
            "ignore" => {
                // CoreDNS accepts a bare `ignore` and does nothing with it.
                if let Some(value) = d.remaining_args().first() {
                    if value != "empty_service" {
                        return Err(ConfigError::invalid(KubernetesError::IgnoreValue(
                            value.clone(),
                        )));
                    }
                    config.ignore_empty_service = true;
                }
            }
            "kubeconfig" => match d.remaining_args().as_slice() {
                [path] => {
                    config.api.kubeconfig = Some(Kubeconfig {
                        path: path.into(),
                        context: None,
                    })
                }
                [path, context] => {
                    config.api.kubeconfig = Some(Kubeconfig {
                        path: path.into(),
                        context: Some(context.clone()),
                    })
                }
                _ => return Err(d.arg_err().into()),
            },
            "multicluster" => {
                let _ = d.remaining_args();
                multicluster = true;
            }
            "startup_timeout" => {
                let args = d.remaining_args();
                let Some(text) = args.first() else {
                    return Err(d.arg_err().into());
                };
                config.scope.startup_timeout = plugin::duration::parse(text).map_err(|e| {
                    ConfigError::invalid(KubernetesError::StartupTimeout(text.clone(), e))
                })?;
            }
            "apiserver_qps" => {
                let [text]: [String; 1] = d.remaining_args().try_into().map_err(|_| d.arg_err())?;
                let qps = parse_float(&text).map_err(|reason| {
                    d.err(format!(
                        "invalid apiserver_qps {text:?}: strconv.ParseFloat: parsing {text:?}: {reason}"
                    ))
                })?;
                if qps < 0.0 {
                    return Err(d.err("apiserver_qps must be >= 0").into());
                }
                config.api.qps = Some(qps);
            }
            "apiserver_burst" | "apiserver_max_inflight" => {
                let [text]: [String; 1] = d.remaining_args().try_into().map_err(|_| d.arg_err())?;
                let value = atoi(&text).map_err(|reason| {
                    d.err(format!(
                        "invalid {option} {text:?}: strconv.Atoi: parsing {text:?}: {reason}"
                    ))
                })?;
                if value < 0 {
                    return Err(d.err(format!("{option} must be >= 0")).into());
                }
                let value = u32::try_from(value).unwrap_or(u32::MAX);
                if option == "apiserver_burst" {
                    config.api.burst = Some(value);
                } else {
                    config.api.max_inflight = Some(value);
                }
            }
            "manifests" => match d.remaining_args().as_slice() {
                [path] => config.api.manifests = Some(PathBuf::from(path)),
                _ => return Err(d.arg_err().into()),
            },
            other => return Err(d.err(format!("unknown property '{other}'")).into()),
        }
    }
    if !config.namespaces.is_empty() && config.scope.namespace_labels.is_some() {
        return Err(d
            .err("namespaces and namespace_labels cannot both be set")
            .into());
    }
    if zonal && config.noendpoints {
        return Err(d
            .err("zonal requires the endpoint cache; remove noendpoints")
            .into());
    }
    if multicluster {
        return Err(ConfigError::invalid(KubernetesError::Unsupported(
            "multicluster",
        )));
    }
    if zonal {
        return Err(ConfigError::invalid(KubernetesError::Unsupported("zonal")));
    }
    config.scope.endpoint_slices = !config.noendpoints;
    config.scope.pods = config.pods == PodMode::Verified;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::dispenser;

    fn parsed(text: &str) -> Result<Config, String> {
        parse(&mut dispenser(text), &["cluster.local.".to_string()]).map_err(|e| e.to_string())
    }

    /// The defaults for `cluster.local.` with `change` applied: what a one-option stanza
    /// must parse to.
    fn defaults_with(change: impl FnOnce(&mut Config)) -> Result<Config, String> {
        let mut config = Config::new(vec!["cluster.local.".into()]).unwrap();
        change(&mut config);
        Ok(config)
    }

    fn block(option: &str) -> String {
        format!("kubernetes {{\n{option}\n}}")
    }

    fn arg_err(word: &str) -> Result<Config, String> {
        Err(format!(
            "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after '{word}'"
        ))
    }

    #[test]
    fn zones() {
        let config = parsed("kubernetes").unwrap();
        assert_eq!(config.zones, ["cluster.local."]);
        let config = parsed("kubernetes Cluster.Local in-addr.arpa ip6.arpa").unwrap();
        assert_eq!(
            config.zones,
            ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]
        );
        assert_eq!(config.primary_zone(), "cluster.local.");
        let config = parsed("kubernetes 10.0.0.0/24 example.org").unwrap();
        assert_eq!(config.zones, ["0.0.10.in-addr.arpa.", "example.org."]);
        assert_eq!(config.primary, 1);
        assert_eq!(
            parsed("kubernetes in-addr.arpa 10.0.0.0/8").map(|_| ()),
            Err("non-reverse zone name must be used".to_string())
        );
    }

    #[test]
    fn options_parse_like_coredns() {
        let cases: Vec<(String, Result<Config, String>)> = vec![
            (block("pods verified"), defaults_with(|c| {
                c.pods = PodMode::Verified;
                c.scope.pods = true;
            })),
            (block("pods insecure"), defaults_with(|c| c.pods = PodMode::Insecure)),
            (block("pods bogus"), Err("wrong value for pods: bogus,  must be one of: disabled, verified, insecure".into())),
            (block("pods"), arg_err("pods")),
            (block("namespaces a b a"), defaults_with(|c| c.namespaces = vec!["a".into(), "b".into()])),
            (block("namespaces"), arg_err("namespaces")),
            (block("endpoint https://a:6443 https://b"), defaults_with(|c| c.api.endpoint = Some("https://a:6443".into()))),
            (block("endpoint"), arg_err("endpoint")),
            (block("tls c k ca"), defaults_with(|c| {
                c.api.tls = Some(TlsFiles { cert: "c".into(), key: "k".into(), ca: "ca".into() })
            })),
            (block("tls c k"), arg_err("k")),
            (block("kubeconfig f ctx"), defaults_with(|c| {
                c.api.kubeconfig = Some(Kubeconfig { path: "f".into(), context: Some("ctx".into()) })
            })),
            (block("kubeconfig f"), defaults_with(|c| {
                c.api.kubeconfig = Some(Kubeconfig { path: "f".into(), context: None })
            })),
            (block("kubeconfig"), arg_err("kubeconfig")),
            (block("kubeconfig a b c"), arg_err("c")),
            (block("labels environment in (staging, qa),app=nginx"), defaults_with(|c| {
                c.scope.labels = Some("environment in (staging, qa),app=nginx".into())
            })),
            (block("labels"), arg_err("labels")),
            (block("namespace_labels team=a"), defaults_with(|c| c.scope.namespace_labels = Some("team=a".into()))),
            (
                "kubernetes {\nnamespaces x\nnamespace_labels team=a\n}".into(),
                Err("Corefile:4 - Error during parsing: namespaces and namespace_labels cannot both be set".into()),
            ),
            (block("ttl 30"), defaults_with(|c| c.ttl = 30)),
            (block("ttl 0"), defaults_with(|c| c.ttl = 0)),
            (block("ttl 3601"), Err("Corefile:2 - Error during parsing: ttl must be in range [0, 3600]: 3601".into())),
            (block("ttl -1"), Err("Corefile:2 - Error during parsing: ttl must be in range [0, 3600]: -1".into())),
            (block("ttl abc"), Err("strconv.Atoi: parsing \"abc\": invalid syntax".into())),
            (block("ttl"), arg_err("ttl")),
            (block("noendpoints"), defaults_with(|c| {
                c.noendpoints = true;
                c.scope.endpoint_slices = false;
            })),
            (block("noendpoints x"), arg_err("x")),
            (block("endpoint_pod_names"), defaults_with(|c| c.endpoint_pod_names = true)),
            (block("endpoint_pod_names x"), arg_err("x")),
            (block("ignore empty_service"), defaults_with(|c| c.ignore_empty_service = true)),
            (block("ignore"), defaults_with(|_| {})),
            (block("ignore foo"), Err("unable to parse ignore value: 'foo'".into())),
            (block("fallthrough in-addr.arpa"), defaults_with(|c| {
                c.fallthrough = Fallthrough::from_args(&["in-addr.arpa".into()])
            })),
            (block("startup_timeout 10s"), defaults_with(|c| c.scope.startup_timeout = Duration::from_secs(10))),
            (block("startup_timeout x"), Err("failed to parse startup_timeout: x, time: invalid duration \"x\"".into())),
            (block("startup_timeout"), arg_err("startup_timeout")),
            (block("apiserver_qps 2.5"), defaults_with(|c| c.api.qps = Some(2.5))),
            (block("apiserver_qps -1"), Err("Corefile:2 - Error during parsing: apiserver_qps must be >= 0".into())),
            (
                block("apiserver_qps abc"),
                Err("Corefile:2 - Error during parsing: invalid apiserver_qps \"abc\": strconv.ParseFloat: parsing \"abc\": invalid syntax".into()),
            ),
            (block("apiserver_qps 1 2"), arg_err("2")),
            (block("apiserver_burst 20"), defaults_with(|c| c.api.burst = Some(20))),
            (block("apiserver_burst -1"), Err("Corefile:2 - Error during parsing: apiserver_burst must be >= 0".into())),
            (
                block("apiserver_burst x"),
                Err("Corefile:2 - Error during parsing: invalid apiserver_burst \"x\": strconv.Atoi: parsing \"x\": invalid syntax".into()),
            ),
            (block("apiserver_max_inflight 3"), defaults_with(|c| c.api.max_inflight = Some(3))),
            (block("apiserver_max_inflight -2"), Err("Corefile:2 - Error during parsing: apiserver_max_inflight must be >= 0".into())),
            (block("manifests examples/cluster.yaml"), defaults_with(|c| {
                c.api.manifests = Some(PathBuf::from("examples/cluster.yaml"))
            })),
            (block("manifests"), arg_err("manifests")),
            (block("multicluster clusterset.local"), Err("multicluster is not supported by this build".into())),
            (block("zonal"), Err("zonal is not supported by this build".into())),
            (
                "kubernetes {\nzonal\nnoendpoints\n}".into(),
                Err("Corefile:4 - Error during parsing: zonal requires the endpoint cache; remove noendpoints".into()),
            ),
            (block("bogus 1"), Err("Corefile:2 - Error during parsing: unknown property 'bogus'".into())),
            ("kubernetes\nkubernetes".into(), Err("this plugin can only be used once per Server Block".into())),
        ];
        for (text, want) in cases {
            assert_eq!(parsed(&text), want, "{text:?}");
        }
    }

    #[test]
    fn bad_selectors_name_the_option() {
        let err = parsed(&block("labels a in (")).unwrap_err();
        assert!(
            err.starts_with("unable to parse label selector value: 'a in (': "),
            "{err}"
        );
        let err = parsed(&block("namespace_labels !")).unwrap_err();
        assert!(
            err.starts_with("unable to parse namespace_label selector value: '!': "),
            "{err}"
        );
    }
}
