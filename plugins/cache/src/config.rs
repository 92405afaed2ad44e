//! `cache [TTL] [ZONES...] { ... }` (plugins-resolution.md §2.1), with CoreDNS's error texts.

use std::time::Duration;

use plugin::duration::DurationError;
use plugin::{ConfigError, Dispenser};

use crate::error::CacheConfigError;

/// Default capacity of each store (entries before sharding, §2.5).
pub const DEFAULT_CAPACITY: i64 = 10_000;
/// Default maximum TTL of the success store (CoreDNS `dnsutil.MaximumDefaultTTL`).
pub const DEFAULT_SUCCESS_TTL: u32 = 3600;
/// Default maximum TTL of the denial store: half the success one.
pub const DEFAULT_DENIAL_TTL: u32 = 1800;
/// Default minimum TTL of both stores (CoreDNS `dnsutil.MinimalDefaultTTL`).
pub const DEFAULT_MIN_TTL: u32 = 5;
/// How long SERVFAIL/NOTIMP replies are kept by default (§2.8).
pub const DEFAULT_SERVFAIL: Duration = Duration::from_secs(5);
/// RFC 2308 §7.1: a server failure is never cached for longer than five minutes.
const MAX_SERVFAIL: Duration = Duration::from_secs(300);
/// `serve_stale` without a duration keeps entries usable for an hour.
const DEFAULT_STALE_UP_TO: Duration = Duration::from_secs(3600);
/// The longest `serve_stale` RECHECK.
const MAX_RECHECK: Duration = Duration::from_secs(300);

/// Capacity and TTL bounds of one store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// As written; any value (even negative) works: the per-shard capacity has a floor (§2.5).
    pub capacity: i64,
    /// Seconds, at least 1.
    pub max_ttl: u32,
    /// Seconds.
    pub min_ttl: u32,
}

/// `prefetch AMOUNT [DURATION [PERCENTAGE%]]` (§2.6). AMOUNT 0 is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefetchConfig {
    pub amount: u32,
    /// Hits further apart than this restart the count.
    pub window: Duration,
    /// 10–90.
    pub percentage: u32,
}

/// How an expired entry is refreshed (§2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaleMode {
    /// Answer from the stale entry at once and refresh in the background.
    Immediate,
    /// Ask downstream first, bounded by `timeout` when it is not zero.
    Verify { timeout: Duration },
}

/// `serve_stale [DURATION [MODE [...] [RESPONSE_TTL [RECHECK]]]]` (§2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeStaleConfig {
    /// Expired entries stay usable while they are expired for less than this.
    pub up_to: Duration,
    pub mode: StaleMode,
    /// TTL of stale answers in seconds; 0 keeps CoreDNS's legacy TTL (0, or the stored duration
    /// under `keepttl`).
    pub response_ttl: u32,
    /// After a failed refresh, no new one for this long (0: no pause).
    pub recheck: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Lower-case FQDNs; queries outside pass through untouched.
    pub zones: Vec<String>,
    pub success: StoreConfig,
    pub denial: StoreConfig,
    pub prefetch: PrefetchConfig,
    pub serve_stale: Option<ServeStaleConfig>,
    /// `serve_stale_policy prefer_positive`.
    pub prefer_positive: bool,
    /// How long SERVFAIL/NOTIMP replies stay in the denial store (0: not cached).
    pub servfail: Duration,
    /// Names under these zones never go to the success store.
    pub disable_success: Vec<String>,
    /// Names under these zones never go to the denial store (SERVFAIL included).
    pub disable_denial: Vec<String>,
    pub keepttl: bool,
}

impl CacheConfig {
    /// The configuration of a bare `cache` line in a block of `zones`.
    pub fn defaults(zones: &[String]) -> Self {
        CacheConfig {
            zones: zones.to_vec(),
            success: StoreConfig {
                capacity: DEFAULT_CAPACITY,
                max_ttl: DEFAULT_SUCCESS_TTL,
                min_ttl: DEFAULT_MIN_TTL,
            },
            denial: StoreConfig {
                capacity: DEFAULT_CAPACITY,
                max_ttl: DEFAULT_DENIAL_TTL,
                min_ttl: DEFAULT_MIN_TTL,
            },
            prefetch: PrefetchConfig {
                amount: 0,
                window: Duration::from_secs(60),
                percentage: 10,
            },
            serve_stale: None,
            prefer_positive: false,
            servfail: DEFAULT_SERVFAIL,
            disable_success: Vec::new(),
            disable_denial: Vec::new(),
            keepttl: false,
        }
    }
}

/// Reads the block's `cache`; a second `cache` in the block is `ConfigError::Once`.
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<CacheConfig, ConfigError> {
    let mut config = CacheConfig::defaults(block_zones);
    while d.next_once()? {
        let mut args = d.remaining_args();
        // The first argument is the TTL of both stores when it is an integer, else a zone.
        if let Some(Ok(ttl)) = args.first().map(|a| a.parse::<i64>()) {
            let ttl = positive_ttl(ttl)?;
            config.success.max_ttl = ttl;
            config.denial.max_ttl = ttl;
            args.remove(0);
        }
        if !args.is_empty() {
            // A CIDR stands for its reverse zones (plugins-resolution.md §0.3).
            config.zones = args
                .iter()
                .flat_map(|z| plugin::reverse_zones::expand(z))
                .collect();
        }
        let mut serve_stale_seen = false;
        let mut policy_seen = false;
        while d.next_block() {
            match d.val() {
                "success" => config.success = store(d, config.success)?,
                "denial" => config.denial = store(d, config.denial)?,
                "prefetch" => config.prefetch = prefetch(d, config.prefetch)?,
                "serve_stale" => {
                    serve_stale_seen = true;
                    config.serve_stale = Some(serve_stale(d)?);
                }
                "serve_stale_policy" => {
                    if policy_seen {
                        return Err(ConfigError::invalid(CacheConfigError::PolicyTwice));
                    }
                    policy_seen = true;
                    let args = d.remaining_args();
                    if args.len() != 1 {
                        return Err(d.arg_err().into());
                    }
                    if !args[0].eq_ignore_ascii_case("prefer_positive") {
                        return Err(ConfigError::invalid(CacheConfigError::Policy(
                            args[0].clone(),
                        )));
                    }
                    config.prefer_positive = true;
                }
                "servfail" => {
                    let args = d.remaining_args();
                    if args.len() != 1 {
                        return Err(d.arg_err().into());
                    }
                    let servfail = match duration(&args[0])? {
                        Signed::Negative => {
                            return Err(ConfigError::invalid(CacheConfigError::NegativeServfail));
                        }
                        Signed::Positive(d) => d,
                    };
                    if servfail > MAX_SERVFAIL {
                        return Err(ConfigError::invalid(CacheConfigError::ServfailTooLong));
                    }
                    config.servfail = servfail;
                }
                "disable" => {
                    let args = d.remaining_args();
                    let Some((kind, zones)) = args.split_first() else {
                        return Err(d.arg_err().into());
                    };
                    let zones: Vec<String> = if zones.is_empty() {
                        vec![".".to_string()]
                    } else {
                        zones.iter().map(|z| plugin::zones::normalize(z)).collect()
                    };
                    // A later `disable` of the same kind replaces the earlier list.
                    match kind.as_str() {
                        "success" => config.disable_success = zones,
                        "denial" => config.disable_denial = zones,
                        _ => return Err(ConfigError::invalid(CacheConfigError::DisableKind)),
                    }
                }
                "keepttl" => {
                    if !d.remaining_args().is_empty() {
                        return Err(d.arg_err().into());
                    }
                    config.keepttl = true;
                }
                _ => return Err(d.arg_err().into()),
            }
        }
        if policy_seen && !serve_stale_seen {
            return Err(ConfigError::invalid(
                CacheConfigError::PolicyWithoutServeStale,
            ));
        }
    }
    Ok(config)
}

/// `success|denial CAPACITY [TTL [MINTTL]]`.
fn store(d: &mut Dispenser, mut store: StoreConfig) -> Result<StoreConfig, ConfigError> {
    let args = d.remaining_args();
    let Some(capacity) = args.first() else {
        return Err(d.arg_err().into());
    };
    store.capacity = atoi(capacity)?;
    if let Some(ttl) = args.get(1) {
        store.max_ttl = positive_ttl(atoi(ttl)?)?;
    }
    if let Some(min) = args.get(2) {
        let min = atoi(min)?;
        if min < 0 {
            return Err(ConfigError::invalid(CacheConfigError::NegativeMinTtl(min)));
        }
        store.min_ttl = seconds(min);
    }
    Ok(store)
}

/// `prefetch AMOUNT [DURATION [PERCENTAGE%]]`.
fn prefetch(
    d: &mut Dispenser,
    mut prefetch: PrefetchConfig,
) -> Result<PrefetchConfig, ConfigError> {
    let args = d.remaining_args();
    if args.is_empty() || args.len() > 3 {
        return Err(d.arg_err().into());
    }
    let amount = atoi(&args[0])?;
    if amount < 0 {
        return Err(ConfigError::invalid(CacheConfigError::NegativePrefetch(
            amount,
        )));
    }
    prefetch.amount = u32::try_from(amount).unwrap_or(u32::MAX);
    if let Some(window) = args.get(1) {
        // CoreDNS accepts a negative window: every hit then restarts the count, as a zero one.
        prefetch.window = match duration(window)? {
            Signed::Positive(d) => d,
            Signed::Negative => Duration::ZERO,
        };
    }
    if let Some(percentage) = args.get(2) {
        let Some(number) = percentage.strip_suffix('%') else {
            let last = percentage.chars().last().unwrap_or_default();
            return Err(ConfigError::invalid(CacheConfigError::PercentSign(last)));
        };
        let number = atoi(number)?;
        if !(10..=90).contains(&number) {
            return Err(ConfigError::invalid(CacheConfigError::PercentageRange(
                number,
            )));
        }
        prefetch.percentage = seconds(number);
    }
    Ok(prefetch)
}

/// `serve_stale [DURATION [immediate [RESPONSE_TTL [RECHECK]] | verify [TIMEOUT [RESPONSE_TTL [RECHECK]]]]]`.
fn serve_stale(d: &mut Dispenser) -> Result<ServeStaleConfig, ConfigError> {
    let args = d.remaining_args();
    if args.len() > 5 {
        return Err(d.arg_err().into());
    }
    let mut stale = ServeStaleConfig {
        up_to: DEFAULT_STALE_UP_TO,
        mode: StaleMode::Immediate,
        response_ttl: 0,
        recheck: Duration::ZERO,
    };
    if let Some(up_to) = args.first() {
        stale.up_to = match duration(up_to)? {
            Signed::Positive(d) => d,
            Signed::Negative => {
                return Err(ConfigError::invalid(CacheConfigError::NegativeStale));
            }
        };
    }
    let Some(mode) = args.get(1) else {
        return Ok(stale);
    };
    let mode = mode.to_ascii_lowercase();
    let rest = match mode.as_str() {
        "immediate" => {
            if args.len() > 4 {
                return Err(d.arg_err().into());
            }
            &args[2..]
        }
        "verify" => {
            let mut timeout = Duration::ZERO;
            if let Some(t) = args.get(2) {
                timeout = match go_duration(t) {
                    Err(e) => {
                        return Err(ConfigError::invalid(CacheConfigError::VerifyTimeout(e)));
                    }
                    Ok(Signed::Negative) => {
                        return Err(ConfigError::invalid(
                            CacheConfigError::NegativeVerifyTimeout,
                        ));
                    }
                    Ok(Signed::Positive(v)) => v,
                };
            }
            stale.mode = StaleMode::Verify { timeout };
            args.get(3..).unwrap_or_default()
        }
        _ => return Err(ConfigError::invalid(CacheConfigError::StaleMode(mode))),
    };
    if let Some(ttl) = rest.first() {
        stale.response_ttl = response_ttl(ttl)?;
    }
    if let Some(recheck) = rest.get(1) {
        stale.recheck = recheck_interval(recheck)?;
    }
    Ok(stale)
}

/// RESPONSE_TTL: a Go duration of whole seconds within the DNS TTL range.
fn response_ttl(text: &str) -> Result<u32, ConfigError> {
    let invalid = |e| ConfigError::invalid(CacheConfigError::ResponseTtl(e));
    let ttl = match go_duration(text) {
        Err(e) => return Err(invalid(e)),
        Ok(Signed::Negative) => {
            return Err(ConfigError::invalid(CacheConfigError::NegativeResponseTtl));
        }
        Ok(Signed::Positive(v)) => v,
    };
    if ttl.subsec_nanos() != 0 {
        return Err(ConfigError::invalid(CacheConfigError::ResponseTtlFraction));
    }
    u32::try_from(ttl.as_secs())
        .map_err(|_| ConfigError::invalid(CacheConfigError::ResponseTtlRange))
}

/// RECHECK: 0 to 5 minutes.
fn recheck_interval(text: &str) -> Result<Duration, ConfigError> {
    let recheck = match go_duration(text) {
        Err(e) => return Err(ConfigError::invalid(CacheConfigError::Recheck(e))),
        Ok(Signed::Negative) => {
            return Err(ConfigError::invalid(CacheConfigError::NegativeRecheck));
        }
        Ok(Signed::Positive(v)) => v,
    };
    if recheck > MAX_RECHECK {
        return Err(ConfigError::invalid(CacheConfigError::RecheckTooLong));
    }
    Ok(recheck)
}

/// A Go duration that may be negative (CoreDNS checks the sign itself, with its own texts).
enum Signed {
    Positive(Duration),
    Negative,
}

/// Go's `time.ParseDuration`, the sign left for the caller to judge.
fn go_duration(text: &str) -> Result<Signed, DurationError> {
    match plugin::duration::parse(text) {
        Ok(value) => Ok(Signed::Positive(value)),
        Err(DurationError::Negative(_)) => Ok(Signed::Negative),
        Err(e) => Err(e),
    }
}

/// [`go_duration`] whose syntax error is the bare Go error (CoreDNS returns it as is).
fn duration(text: &str) -> Result<Signed, ConfigError> {
    go_duration(text).map_err(|e| ConfigError::invalid(CacheConfigError::Duration(e)))
}

/// Go's `strconv.Atoi`, with its error texts.
fn atoi(text: &str) -> Result<i64, ConfigError> {
    text.parse::<i64>().map_err(|e| {
        let out_of_range = matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        );
        ConfigError::invalid(CacheConfigError::Atoi {
            input: text.to_string(),
            reason: if out_of_range {
                "value out of range"
            } else {
                "invalid syntax"
            },
        })
    })
}

/// A maximum TTL: CoreDNS reserves zero and below.
fn positive_ttl(ttl: i64) -> Result<u32, ConfigError> {
    if ttl <= 0 {
        return Err(ConfigError::invalid(CacheConfigError::NonPositiveTtl(ttl)));
    }
    Ok(seconds(ttl))
}

/// A non-negative count of seconds, saturated at the DNS TTL range.
fn seconds(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}
