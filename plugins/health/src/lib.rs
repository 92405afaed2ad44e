//! The `health` directive: declares the `/health` endpoint, sets the lameduck period and runs
//! the self-probe (plugins-core.md, health; cli-and-endpoints.md §5.1, §6).
//!
//! The HTTP server itself belongs to the process (`src/services/http`): health only declares
//! a route, so a reload swaps routes without closing the socket.
#![forbid(unsafe_code)]

mod health;
mod metrics;
mod probe;

use std::time::Duration;

use plugin::duration::{self, DurationError};
use plugin::http::address_arg;
use plugin::{ConfigError, Dispenser, Setup};

pub use health::{PATH, route};
pub use metrics::HealthMetrics;
pub use probe::{ProbeError, Target, probe_once};

pub const NAME: &str = "health";

/// CoreDNS's default health address.
pub const DEFAULT_ADDR: &str = ":8080";

/// Registers the health families so they exist from process start (metrics.md §1).
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<HealthMetrics>();
}

/// `health [ADDR] { lameduck DURATION }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    pub addr: String,
    /// Zero: no lameduck.
    pub lameduck: Duration,
}

/// A bad `lameduck` value, worded as CoreDNS's setup.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse lameduck duration value: '{value}' : {source}")]
pub struct LameduckError {
    pub value: String,
    pub source: DurationError,
}

/// Declares `/health`, keeps the longest lameduck of the instance and starts the self-probe.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let config = parse(&mut s.d)?;
    s.add_route(route(&config.addr));
    if !config.lameduck.is_zero() {
        // CoreDNS sleeps each health instance's lameduck in turn; one sleep of the longest
        // keeps the guarantee every block asked for without adding them up.
        let longest = s
            .services
            .lameduck
            .map_or(config.lameduck, |l| l.max(config.lameduck));
        s.services.lameduck = Some(longest);
    }
    let metrics = s.metrics().get::<HealthMetrics>();
    // The probe needs the runtime the server runs in; a setup run outside one (a config
    // check) has no server to probe.
    if tokio::runtime::Handle::try_current().is_ok() {
        let target = Target::new(&config.addr).map_err(ConfigError::invalid)?;
        s.tasks()
            .spawn(probe::run(target, metrics, probe::PERIOD, probe::TIMEOUT));
    }
    Ok(())
}

/// Reads every `health` line of the block; a later line's address or lameduck replaces an
/// earlier one (health is not "once per block" in CoreDNS).
pub fn parse(d: &mut Dispenser) -> Result<HealthConfig, ConfigError> {
    let mut config = HealthConfig {
        addr: DEFAULT_ADDR.to_string(),
        lameduck: Duration::ZERO,
    };
    while d.next() {
        if let Some(addr) = address_arg(d)? {
            config.addr = addr;
        }
        while d.next_block() {
            match d.val() {
                "lameduck" => {
                    let args = d.remaining_args();
                    let [value] = args.as_slice() else {
                        return Err(d.arg_err().into());
                    };
                    config.lameduck = parse_lameduck(value).map_err(|source| {
                        ConfigError::invalid(LameduckError {
                            value: value.clone(),
                            source,
                        })
                    })?;
                }
                other => return Err(d.err(format!("unknown property '{other}'")).into()),
            }
        }
    }
    Ok(config)
}

/// Go parses negative durations; CoreDNS then simply has no lameduck (`lameduck > 0`).
fn parse_lameduck(value: &str) -> Result<Duration, DurationError> {
    match duration::parse(value) {
        Err(DurationError::Negative(_)) => Ok(Duration::ZERO),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::http::HttpRole;
    use plugin::test_util::{TestBlock, dispenser};

    fn config(addr: &str, lameduck_ms: u64) -> HealthConfig {
        HealthConfig {
            addr: addr.to_string(),
            lameduck: Duration::from_millis(lameduck_ms),
        }
    }

    /// Corefile snippet → config or the error text (without the `plugin/health: ` prefix).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<HealthConfig, &str>)] = &[
            ("health", Ok(config(":8080", 0))),
            ("health localhost:8091", Ok(config("localhost:8091", 0))),
            ("health [::1]:8080", Ok(config("[::1]:8080", 0))),
            ("health :8080 {\nlameduck 5s\n}", Ok(config(":8080", 5000))),
            ("health {\nlameduck 1m30s\n}", Ok(config(":8080", 90_000))),
            ("health {\nlameduck 0\n}", Ok(config(":8080", 0))),
            ("health {\nlameduck -1s\n}", Ok(config(":8080", 0))),
            ("health :8081\nhealth :8082", Ok(config(":8082", 0))),
            ("health :8081\nhealth", Ok(config(":8081", 0))),
            (
                "health :8081 {\nlameduck 5s\n}\nhealth {\nlameduck 2s\n}",
                Ok(config(":8081", 2000)),
            ),
            ("health 8080", Err("address 8080: missing port in address")),
            (
                "health ::1:8080",
                Err("address ::1:8080: too many colons in address"),
            ),
            (
                "health :8080 :8081",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after ':8081'",
                ),
            ),
            (
                "health {\nlameduck\n}",
                Err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'lameduck'",
                ),
            ),
            (
                "health {\nlameduck 1s 2s\n}",
                Err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after '2s'",
                ),
            ),
            (
                "health {\nlameduck abc\n}",
                Err(
                    "unable to parse lameduck duration value: 'abc' : time: invalid duration \"abc\"",
                ),
            ),
            (
                "health {\nlameduck 5\n}",
                Err(
                    "unable to parse lameduck duration value: '5' : time: missing unit in duration \"5\"",
                ),
            ),
            (
                "health {\nfoo bar\n}",
                Err("Corefile:2 - Error during parsing: unknown property 'foo'"),
            ),
        ];
        for (corefile, want) in cases {
            let got = parse(&mut dispenser(corefile)).map_err(|e| e.to_string());
            assert_eq!(got, want.clone().map_err(str::to_string), "{corefile:?}");
        }
    }

    #[test]
    fn value_errors_are_typed() {
        let err = parse(&mut dispenser("health {\nlameduck x\n}")).unwrap_err();
        let ConfigError::Invalid(inner) = err else {
            panic!("not a value error: {err:?}");
        };
        assert!(inner.downcast_ref::<LameduckError>().is_some());
    }

    #[test]
    fn setup_declares_the_route_and_lameduck_without_a_runtime() {
        let mut t = TestBlock::new(&["."]);
        t.setup("health :8091 {\nlameduck 5s\n}", setup).unwrap();
        let routes = &t.services.routes;
        assert_eq!(routes.len(), 1);
        assert_eq!(
            (routes[0].addr.as_str(), routes[0].path, routes[0].role),
            (":8091", "/health", HttpRole::Health)
        );
        assert_eq!(t.services.lameduck, Some(Duration::from_secs(5)));
        assert!(
            t.block.plugins.is_empty(),
            "health is not in the query chain"
        );
    }

    #[test]
    fn the_longest_lameduck_of_all_blocks_is_kept() {
        let mut t = TestBlock::new(&["."]);
        t.setup("health :8080 {\nlameduck 5s\n}", setup).unwrap();
        t.setup("health :8080 {\nlameduck 2s\n}", setup).unwrap();
        t.setup("health :8080", setup).unwrap();
        assert_eq!(t.services.lameduck, Some(Duration::from_secs(5)));
    }

    #[test]
    fn families_exist_from_registration() {
        let hub = plugin::metrics::MetricsHub::new();
        register_metrics(&hub);
        let text = hub.encode_text().unwrap();
        assert!(
            text.contains("coredns_health_request_failures_total 0\n"),
            "{text}"
        );
        assert!(
            text.contains("coredns_health_request_duration_seconds_count 0\n"),
            "{text}"
        );
        assert!(
            text.contains("coredns_health_request_duration_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn setup_in_a_runtime_starts_the_probe_as_an_instance_task() {
        let mut t = TestBlock::new(&["."]);
        t.setup("health 127.0.0.1:1", setup).unwrap();
        assert!(!t.services.tasks.is_cancelled());
        // Stopping the instance ends the probe (it would otherwise run forever).
        tokio::time::timeout(Duration::from_secs(5), t.services.tasks.stop())
            .await
            .unwrap();
    }
}
