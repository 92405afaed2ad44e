//! `forward FROM TO... { options }` → [`ForwardConfig`] (plugins-resolution.md §1.1–§1.4).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use plugin::dispenser::Dispenser;
use plugin::duration;
use plugin::{ConfigError, ParseError};

use crate::error::ForwardConfigError;
use crate::policy::Policy;
use crate::rcode;
use crate::transport::tls::{self, TlsFiles};
use crate::upstream_spec::{self, Protocol, ToEntry, UpstreamSpec};
use crate::zone_arg;

/// At most this many TO arguments (counted before expansion).
pub const MAX_UPSTREAMS: usize = 15;
pub const DEFAULT_EXPIRE: Duration = Duration::from_secs(10);
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_HEALTH_CHECK: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_FAILS: u32 = 2;

/// The probe of §1.8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub interval: Duration,
    pub recursion_desired: bool,
    /// Lower-case FQDN asked for with type NS.
    pub domain: String,
}

/// One `forward` stanza.
#[derive(Clone, Debug)]
pub struct ForwardConfig {
    /// Lower-case FQDN; a query is in scope when its name equals it or is below it.
    pub from: String,
    pub except: Vec<String>,
    pub upstreams: Vec<UpstreamSpec>,
    pub force_tcp: bool,
    pub prefer_udp: bool,
    pub expire: Duration,
    /// Zero: off.
    pub max_age: Duration,
    /// Zero: unlimited.
    pub max_idle_conns: usize,
    pub read_timeout: Duration,
    pub max_fails: u32,
    /// `None`: two per upstream. Zero: no cap.
    pub max_connect_attempts: Option<u32>,
    /// Built when `tls` names files; `None` means system roots, no client certificate.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub tls_servername: Option<String>,
    pub policy: Policy,
    pub health_check: HealthCheck,
    /// Zero: unlimited.
    pub max_concurrent: u64,
    pub next: Vec<u16>,
    pub next_on_nodata: bool,
    pub failfast_all_unhealthy_upstreams: bool,
    pub failover: Vec<u16>,
    pub source_address: Option<IpAddr>,
    pub resolvers: Vec<SocketAddr>,
}

impl ForwardConfig {
    fn new(from: String) -> Self {
        ForwardConfig {
            from,
            except: Vec::new(),
            upstreams: Vec::new(),
            force_tcp: false,
            prefer_udp: false,
            expire: DEFAULT_EXPIRE,
            max_age: Duration::ZERO,
            max_idle_conns: 0,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_fails: DEFAULT_MAX_FAILS,
            max_connect_attempts: None,
            tls: None,
            tls_servername: None,
            policy: Policy::Random,
            health_check: HealthCheck {
                interval: DEFAULT_HEALTH_CHECK,
                recursion_desired: true,
                domain: ".".into(),
            },
            max_concurrent: 0,
            next: Vec::new(),
            next_on_nodata: false,
            failfast_all_unhealthy_upstreams: false,
            failover: Vec::new(),
            source_address: None,
            resolvers: Vec::new(),
        }
    }

    /// The cap on failed exchanges per query (§1.4: default two per upstream).
    pub fn connect_attempt_cap(&self) -> u32 {
        self.max_connect_attempts
            .unwrap_or_else(|| u32::try_from(self.upstreams.len() * 2).unwrap_or(u32::MAX))
    }
}

/// Every `forward` stanza of the block, in written order (each its own instance, §1.12).
pub fn parse(d: &mut Dispenser) -> Result<Vec<ForwardConfig>, ConfigError> {
    let mut configs = Vec::new();
    while d.next() {
        configs.push(parse_stanza(d)?);
    }
    Ok(configs)
}

fn invalid(e: ForwardConfigError) -> ConfigError {
    ConfigError::invalid(e)
}

fn parse_stanza(d: &mut Dispenser) -> Result<ForwardConfig, ConfigError> {
    if !d.next_arg() {
        return Err(d.arg_err().into());
    }
    let from_arg = d.val().to_string();
    let zones = zone_arg::expand(&from_arg)
        .filter(|z| !z.is_empty())
        .ok_or_else(|| invalid(ForwardConfigError::UnableToNormalize(from_arg.clone())))?;
    if zones.len() > 1 {
        plugin::log::warning(
            Some("forward"),
            format_args!(
                "Unsupported CIDR notation: '{from_arg}' expands to multiple zones. Using only '{}'.",
                zones[0]
            ),
        );
    }
    let mut c = ForwardConfig::new(zones[0].clone());
    let to = d.remaining_args();
    if to.is_empty() {
        return Err(d.arg_err().into());
    }
    // Options first: `resolver` applies to hostnames among the TOs (§1.1).
    while d.next_block() {
        parse_option(d, &mut c)?;
    }
    if !c.max_age.is_zero() && c.max_age < c.expire {
        return Err(invalid(ForwardConfigError::MaxAgeBelowExpire {
            max_age: duration::format(c.max_age),
            expire: duration::format(c.expire),
        }));
    }
    for token in &to {
        upstream_spec::check_https_path(token).map_err(invalid)?;
    }
    let entries = to
        .iter()
        .map(|t| upstream_spec::classify(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let counted = entries
        .iter()
        .filter(|e| !matches!(e, ToEntry::Empty))
        .count();
    if counted > MAX_UPSTREAMS {
        return Err(invalid(ForwardConfigError::TooManyUpstreams(counted)));
    }
    c.upstreams = upstream_spec::expand(entries, &c.resolvers).map_err(invalid)?;
    if let Some(forward) = &c.tls_servername
        && let Some(spec) = c
            .upstreams
            .iter()
            .find(|u| u.protocol == Protocol::Tls && u.server_name.is_some())
    {
        return Err(invalid(ForwardConfigError::BothServerNames {
            forward: forward.clone(),
            upstream: spec.server_name.clone().unwrap_or_default(),
            host: format!("tls://{}", spec.addr),
        }));
    }
    if c.tls.is_none() && c.upstreams.iter().any(|u| u.protocol == Protocol::Tls) {
        c.tls = Some(tls::client_config(&TlsFiles::default()).map_err(|e| invalid(e.into()))?);
    }
    Ok(c)
}

/// The one argument of the current option.
fn one_arg(d: &mut Dispenser) -> Result<String, ParseError> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    Ok(d.val().to_string())
}

/// An option without arguments.
fn no_arg(d: &mut Dispenser) -> Result<(), ParseError> {
    if d.next_arg() {
        return Err(d.arg_err());
    }
    Ok(())
}

/// At least one argument.
fn some_args(d: &mut Dispenser) -> Result<Vec<String>, ParseError> {
    let args = d.remaining_args();
    if args.is_empty() {
        return Err(d.arg_err());
    }
    Ok(args)
}

/// Go's `strconv.ParseUint(s, 10, 32)`.
fn parse_u32(text: &str) -> Result<u32, ForwardConfigError> {
    let error = |reason| ForwardConfigError::Number {
        func: "ParseUint",
        input: text.to_string(),
        reason,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error("invalid syntax"));
    }
    text.parse().map_err(|_| error("value out of range"))
}

/// Go's `strconv.Atoi`, then "can't be negative".
fn parse_non_negative(option: &'static str, text: &str) -> Result<u64, ForwardConfigError> {
    let error = |reason| ForwardConfigError::Number {
        func: "Atoi",
        input: text.to_string(),
        reason,
    };
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error("invalid syntax"));
    }
    let value: i64 = text.parse().map_err(|_| error("value out of range"))?;
    u64::try_from(value).map_err(|_| ForwardConfigError::Negative {
        option,
        value: value.to_string(),
    })
}

/// A Go duration that may be written negative (so the option can say it must not be).
enum Signed {
    NonNegative(Duration),
    Negative(Duration),
}

fn parse_signed_duration(text: &str) -> Result<Signed, ForwardConfigError> {
    match text.strip_prefix('-') {
        Some(rest) => {
            let d = duration::parse(rest)?;
            Ok(if d.is_zero() {
                Signed::NonNegative(d)
            } else {
                Signed::Negative(d)
            })
        }
        None => Ok(Signed::NonNegative(duration::parse(text)?)),
    }
}

/// `expire` / `max_age`: `OPTION can't be negative: -1s`.
fn non_negative_duration(option: &'static str, text: &str) -> Result<Duration, ForwardConfigError> {
    match parse_signed_duration(text)? {
        Signed::NonNegative(d) => Ok(d),
        Signed::Negative(d) => Err(ForwardConfigError::Negative {
            option,
            value: format!("-{}", duration::format(d)),
        }),
    }
}

fn rcodes(args: &[String], failover: bool) -> Result<Vec<u16>, ForwardConfigError> {
    args.iter()
        .map(|a| {
            let rc = rcode::parse(a).ok_or_else(|| ForwardConfigError::InvalidRcode(a.clone()))?;
            if failover && rc == 0 {
                return Err(ForwardConfigError::FailoverNoError);
            }
            Ok(rc)
        })
        .collect()
}

fn parse_option(d: &mut Dispenser, c: &mut ForwardConfig) -> Result<(), ConfigError> {
    match d.val() {
        "except" => {
            for arg in some_args(d)? {
                let zones = zone_arg::expand(&arg)
                    .ok_or_else(|| invalid(ForwardConfigError::UnableToNormalize(arg.clone())))?;
                c.except.extend(zones);
            }
        }
        "force_tcp" => {
            no_arg(d)?;
            c.force_tcp = true;
        }
        "prefer_udp" => {
            no_arg(d)?;
            c.prefer_udp = true;
        }
        "expire" => {
            let arg = one_arg(d)?;
            c.expire = non_negative_duration("expire", &arg).map_err(invalid)?;
        }
        "max_age" => {
            let arg = one_arg(d)?;
            c.max_age = non_negative_duration("max_age", &arg).map_err(invalid)?;
        }
        "max_idle_conns" => {
            let arg = one_arg(d)?;
            let n = parse_non_negative("max_idle_conns", &arg).map_err(invalid)?;
            c.max_idle_conns = usize::try_from(n).unwrap_or(usize::MAX);
        }
        "read_timeout" => {
            let arg = one_arg(d)?;
            c.read_timeout = match parse_signed_duration(&arg).map_err(invalid)? {
                Signed::NonNegative(d) if !d.is_zero() => d,
                Signed::NonNegative(_) => {
                    return Err(invalid(ForwardConfigError::ReadTimeoutNotPositive(
                        "0s".into(),
                    )));
                }
                Signed::Negative(d) => {
                    return Err(invalid(ForwardConfigError::ReadTimeoutNotPositive(
                        format!("-{}", duration::format(d)),
                    )));
                }
            };
        }
        "max_fails" => {
            let arg = one_arg(d)?;
            c.max_fails = parse_u32(&arg).map_err(invalid)?;
        }
        "max_connect_attempts" => {
            let arg = one_arg(d)?;
            c.max_connect_attempts = Some(parse_u32(&arg).map_err(invalid)?);
        }
        "doh_method" => {
            let arg = one_arg(d)?;
            // Validated like CoreDNS; without DoH upstreams it has nothing to act on.
            if arg != "GET" && arg != "POST" {
                return Err(invalid(ForwardConfigError::DohMethod));
            }
        }
        "tls" => {
            let args = d.remaining_args();
            let files = match args.as_slice() {
                [] => None,
                [ca] => Some(TlsFiles {
                    ca: Some(ca.into()),
                    client: None,
                }),
                [cert, key] => Some(TlsFiles {
                    ca: None,
                    client: Some((cert.into(), key.into())),
                }),
                [cert, key, ca] => Some(TlsFiles {
                    ca: Some(ca.into()),
                    client: Some((cert.into(), key.into())),
                }),
                _ => return Err(d.arg_err().into()),
            };
            c.tls = match files {
                Some(files) => Some(tls::client_config(&files).map_err(|e| invalid(e.into()))?),
                None => None,
            };
        }
        "tls_servername" => {
            c.tls_servername = Some(one_arg(d)?);
        }
        "policy" => {
            let arg = one_arg(d)?;
            c.policy = match arg.as_str() {
                "random" => Policy::Random,
                "round_robin" => Policy::RoundRobin,
                "sequential" => Policy::Sequential,
                other => return Err(d.err(format!("unknown policy '{other}'")).into()),
            };
        }
        "health_check" => {
            let arg = one_arg(d)?;
            c.health_check.interval = match parse_signed_duration(&arg).map_err(invalid)? {
                Signed::NonNegative(d) => d,
                Signed::Negative(d) => {
                    // CoreDNS prints the duration with %d: nanoseconds.
                    return Err(invalid(ForwardConfigError::Negative {
                        option: "health_check",
                        value: format!("-{}", d.as_nanos()),
                    }));
                }
            };
            c.health_check.domain = ".".into();
            while d.next_arg() {
                match d.val() {
                    "no_rec" => c.health_check.recursion_desired = false,
                    "domain" => {
                        let domain = one_arg(d)?;
                        if !is_domain_name(&domain) {
                            return Err(invalid(ForwardConfigError::HealthCheckDomain(domain)));
                        }
                        c.health_check.domain = plugin::zones::normalize(&domain);
                    }
                    other => {
                        return Err(invalid(ForwardConfigError::HealthCheckOption(
                            other.to_string(),
                        )));
                    }
                }
            }
        }
        "max_concurrent" => {
            let arg = one_arg(d)?;
            c.max_concurrent = parse_non_negative("max_concurrent", &arg).map_err(invalid)?;
        }
        "next" => {
            let args = some_args(d)?;
            c.next = rcodes(&args, false).map_err(invalid)?;
        }
        "next_on_nodata" => {
            no_arg(d)?;
            c.next_on_nodata = true;
        }
        "failfast_all_unhealthy_upstreams" => {
            no_arg(d)?;
            c.failfast_all_unhealthy_upstreams = true;
        }
        "failover" => {
            let args = some_args(d)?;
            c.failover = rcodes(&args, true).map_err(invalid)?;
        }
        "source_address" => {
            let arg = one_arg(d)?;
            c.source_address = Some(
                arg.parse()
                    .map_err(|_| d.err(format!("invalid IP address: {arg}")))?,
            );
        }
        "resolver" => {
            let args = some_args(d)?;
            c.resolvers = args
                .iter()
                .map(|a| parse_resolver(a))
                .collect::<Result<_, _>>()
                .map_err(invalid)?;
        }
        other => return Err(d.err(format!("unknown property '{other}'")).into()),
    }
    Ok(())
}

/// `IP` (port 53) or `IP:PORT` / `[IPv6]:PORT`.
fn parse_resolver(arg: &str) -> Result<SocketAddr, ForwardConfigError> {
    if let Ok(addr) = arg.parse::<SocketAddr>() {
        return Ok(addr);
    }
    arg.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, upstream_spec::DNS_PORT))
        .map_err(|_| ForwardConfigError::Resolver(arg.to_string()))
}

/// miekg/dns `IsDomainName`: labels of 1–63 octets, at most 255 octets in wire form.
fn is_domain_name(name: &str) -> bool {
    if name == "." {
        return true;
    }
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    !trimmed.is_empty()
        && trimmed.len() < 254
        && trimmed
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
}
