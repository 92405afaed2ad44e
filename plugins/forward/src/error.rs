//! Configuration errors, with CoreDNS's texts where users grep for them
//! (plugins-resolution.md §1.1–§1.4, §1.13).

/// A bad `forward` stanza. The assembler prefixes `plugin/forward: `.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForwardConfigError {
    #[error("unable to normalize '{0}'")]
    UnableToNormalize(String),
    #[error("more than 15 TOs configured: {0}")]
    TooManyUpstreams(usize),
    #[error(
        "paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): {0}"
    )]
    HttpsPath(String),
    #[error("'{scheme}' is not supported as a destination protocol in forward: {upstream}")]
    UnsupportedProtocol { scheme: String, upstream: String },
    /// DNS over HTTPS upstreams: CoreDNS has them, this build does not (README, Compatibility).
    #[error("'https' upstreams (DNS over HTTPS) are not supported by this build: {0}")]
    DohNotSupported(String),
    #[error("invalid address: {0:?}")]
    InvalidAddress(String),
    #[error("not an IP address, file, or valid domain: {0:?}")]
    NotAnUpstream(String),
    #[error("failed to resolve {host:?}: {reason}")]
    FailedToResolve { host: String, reason: String },
    #[error("no valid upstream addresses found")]
    NoUpstreams,
    #[error(
        "both forward ('{forward}') and proxy level ('{upstream}') TLS servernames are set for upstream proxy '{host}'"
    )]
    BothServerNames {
        forward: String,
        upstream: String,
        host: String,
    },
    #[error("max_age ({max_age}) must not be less than expire ({expire})")]
    MaxAgeBelowExpire { max_age: String, expire: String },
    /// `expire`, `max_age` (Go duration) and `max_idle_conns`, `max_concurrent` (number).
    #[error("{option} can't be negative: {value}")]
    Negative { option: &'static str, value: String },
    #[error("read_timeout must be positive: {0}")]
    ReadTimeoutNotPositive(String),
    #[error("health_check: invalid domain name {0}")]
    HealthCheckDomain(String),
    #[error("health_check: unknown option {0}")]
    HealthCheckOption(String),
    #[error("{0} is not a valid rcode")]
    InvalidRcode(String),
    #[error("NoError cannot be used in failover")]
    FailoverNoError,
    #[error("doh_method must be either POST or GET")]
    DohMethod,
    #[error("resolver must be an IP address or IP:port: {0:?}")]
    Resolver(String),
    /// Go's `strconv` texts: `strconv.ParseUint: parsing "x": invalid syntax`.
    #[error("strconv.{func}: parsing {input:?}: {reason}")]
    Number {
        func: &'static str,
        input: String,
        reason: &'static str,
    },
    #[error(transparent)]
    Duration(#[from] plugin::duration::DurationError),
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsConfigError),
}
