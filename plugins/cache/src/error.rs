//! Why a `cache` stanza was rejected; the texts are CoreDNS's (plugin/cache/setup.go).

use plugin::duration::DurationError;

#[derive(Debug, thiserror::Error)]
pub enum CacheConfigError {
    /// Go's `strconv.Atoi` failure.
    #[error("strconv.Atoi: parsing {input:?}: {reason}")]
    Atoi { input: String, reason: &'static str },
    #[error(transparent)]
    Duration(DurationError),
    #[error("cache TTL can not be zero or negative: {0}")]
    NonPositiveTtl(i64),
    #[error("cache min TTL can not be negative: {0}")]
    NegativeMinTtl(i64),
    #[error("prefetch amount should be positive: {0}")]
    NegativePrefetch(i64),
    #[error("last character of percentage should be `%`, but is: '{0}'")]
    PercentSign(char),
    #[error("percentage should fall in range [10, 90]: {0}")]
    PercentageRange(i64),
    #[error("invalid negative duration for serve_stale")]
    NegativeStale,
    #[error("invalid value for serve_stale refresh mode: {0}")]
    StaleMode(String),
    #[error("invalid serve_stale verify timeout: {0}")]
    VerifyTimeout(DurationError),
    #[error("invalid negative timeout for serve_stale verify")]
    NegativeVerifyTimeout,
    #[error("invalid serve_stale response TTL: {0}")]
    ResponseTtl(DurationError),
    #[error("invalid negative response TTL for serve_stale")]
    NegativeResponseTtl,
    #[error("serve_stale response TTL must be a whole number of seconds")]
    ResponseTtlFraction,
    #[error("serve_stale response TTL exceeds the DNS TTL range")]
    ResponseTtlRange,
    #[error("invalid serve_stale failure recheck: {0}")]
    Recheck(DurationError),
    #[error("invalid negative failure recheck for serve_stale")]
    NegativeRecheck,
    #[error("serve_stale failure recheck cannot exceed 5 minutes")]
    RecheckTooLong,
    #[error("serve_stale_policy can only be specified once")]
    PolicyTwice,
    #[error("invalid serve_stale_policy: {0}")]
    Policy(String),
    #[error("serve_stale_policy requires serve_stale")]
    PolicyWithoutServeStale,
    #[error("invalid negative ttl for servfail")]
    NegativeServfail,
    /// RFC 2308 §7.1.
    #[error("caching SERVFAIL responses over 5 minutes is not permitted")]
    ServfailTooLong,
    #[error("cache type for disable must be \"success\" or \"denial\"")]
    DisableKind,
}
