//! The `reload` directive: how often the Corefile is checked for changes.
//!
//! The directive only sets the period; the server's reload loop (`src/reload.rs`) re-reads,
//! hashes and swaps the configuration.
#![forbid(unsafe_code)]

mod metrics;

use std::time::Duration;

use plugin::duration::{self, DurationError};
use plugin::setup::ReloadSettings;
use plugin::{ConfigError, Setup};

pub use metrics::ReloadMetrics;

pub const NAME: &str = "reload";

/// Registers `coredns_reload_failed_total` so it exists from process start.
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<ReloadMetrics>();
}

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_JITTER: Duration = Duration::from_secs(15);
const MIN_INTERVAL: Duration = Duration::from_secs(2);
const MIN_JITTER: Duration = Duration::from_secs(1);

/// Why a `reload` line is invalid (texts as CoreDNS prints them).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Duration(#[from] DurationError),
    #[error("interval value must be greater or equal to 2s")]
    IntervalTooShort,
    #[error("jitter value must be 0 or greater or equal to 1s")]
    JitterTooShort,
}

/// Reads the block's first `reload` line (CoreDNS ignores further ones) and sets the
/// instance's reload period. If several blocks have `reload`, the last one set wins.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let settings = parse(&mut s.d)?;
    s.services.reload = Some(settings);
    Ok(())
}

pub fn parse(d: &mut plugin::Dispenser) -> Result<ReloadSettings, ConfigError> {
    let mut settings = ReloadSettings {
        interval: DEFAULT_INTERVAL,
        jitter: DEFAULT_JITTER,
    };
    if !d.next() {
        return Ok(settings);
    }
    let args = d.remaining_args();
    if args.len() > 2 {
        return Err(d.arg_err().into());
    }
    if let Some(interval) = args.first() {
        settings.interval =
            duration::parse(interval).map_err(|e| ConfigError::invalid(ReloadError::from(e)))?;
    }
    if let Some(jitter) = args.get(1) {
        settings.jitter =
            duration::parse(jitter).map_err(|e| ConfigError::invalid(ReloadError::from(e)))?;
    }
    if settings.interval < MIN_INTERVAL {
        return Err(ConfigError::invalid(ReloadError::IntervalTooShort));
    }
    if !settings.jitter.is_zero() && settings.jitter < MIN_JITTER {
        return Err(ConfigError::invalid(ReloadError::JitterTooShort));
    }
    // A jitter above half the interval is silently lowered to half of it (CoreDNS setup.go).
    settings.jitter = settings.jitter.min(settings.interval / 2);
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::dispenser;

    fn parse_text(text: &str) -> Result<ReloadSettings, String> {
        parse(&mut dispenser(text)).map_err(|e| e.to_string())
    }

    fn settings(interval: u64, jitter_ms: u64) -> ReloadSettings {
        ReloadSettings {
            interval: Duration::from_secs(interval),
            jitter: Duration::from_millis(jitter_ms),
        }
    }

    #[test]
    fn options_table() {
        let cases: &[(&str, Result<ReloadSettings, &str>)] = &[
            ("reload", Ok(settings(30, 15_000))),
            ("reload 10s", Ok(settings(10, 5_000))),
            ("reload 10s 2s", Ok(settings(10, 2_000))),
            ("reload 10s 0", Ok(settings(10, 0))),
            ("reload 3s 1s", Ok(settings(3, 1_000))),
            (
                "reload 1s",
                Err("interval value must be greater or equal to 2s"),
            ),
            (
                "reload 10s 500ms",
                Err("jitter value must be 0 or greater or equal to 1s"),
            ),
            (
                "reload 10s 2s 1s",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after '1s'",
                ),
            ),
            ("reload abc", Err("time: invalid duration \"abc\"")),
            ("reload 10", Err("time: missing unit in duration \"10\"")),
        ];
        for (text, want) in cases {
            let got = parse_text(text);
            match want {
                Ok(w) => assert_eq!(got.as_ref(), Ok(w), "{text}"),
                Err(msg) => assert_eq!(got.as_ref().map_err(String::as_str), Err(*msg), "{text}"),
            }
        }
    }

    #[test]
    fn only_the_first_line_is_read() {
        assert_eq!(parse_text("reload 10s\nreload 1s"), Ok(settings(10, 5_000)));
    }

    #[test]
    fn setup_sets_the_instance_period() {
        let mut block = plugin::test_util::TestBlock::new(&["."]);
        block.setup("reload 4s 1s", setup).unwrap();
        assert_eq!(block.services.reload, Some(settings(4, 1_000)));
    }
}
