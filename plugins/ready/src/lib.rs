//! The `ready` directive: declares `/ready` and marks its block's plugins as the ones asked
//! (plugins-core.md, ready; cli-and-endpoints.md §6).
//!
//! The HTTP server belongs to the process (`src/services/http`); ready only declares a route
//! over the instance's [`plugin::readiness::Readiness`]. The assembler registers the plugins
//! of every block whose `readiness` flag this setup sets.
#![forbid(unsafe_code)]

mod ready;

use plugin::http::address_arg;
use plugin::readiness::Monitor;
use plugin::{ConfigError, Dispenser, Setup};

pub use ready::{PATH, answer, route};

pub const NAME: &str = "ready";

/// CoreDNS's default readiness address.
pub const DEFAULT_ADDR: &str = ":8181";

/// `ready [ADDR] { monitor until-ready|continuously }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyConfig {
    pub addr: String,
    pub monitor: Monitor,
}

/// Declares `/ready` for this block. The monitor mode is process-wide: the last block set up
/// decides, including a block that leaves it at its default (as CoreDNS).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let config = parse(&mut s.d)?;
    s.block.readiness = true;
    s.services.readiness.set_monitor(config.monitor);
    let readiness = s.services.readiness.clone();
    s.add_route(route(&config.addr, readiness));
    Ok(())
}

pub fn parse(d: &mut Dispenser) -> Result<ReadyConfig, ConfigError> {
    let mut config = ReadyConfig {
        addr: DEFAULT_ADDR.to_string(),
        monitor: Monitor::UntilReady,
    };
    while d.next_once()? {
        if let Some(addr) = address_arg(d)? {
            config.addr = addr;
        }
        while d.next_block() {
            match d.val() {
                "monitor" => {
                    let args = d.remaining_args();
                    let [mode] = args.as_slice() else {
                        return Err(d.arg_err().into());
                    };
                    config.monitor = match mode.as_str() {
                        "until-ready" => Monitor::UntilReady,
                        "continuously" => Monitor::Continuously,
                        other => {
                            return Err(d
                                .err(format!("monitor type '{other}' not supported"))
                                .into());
                        }
                    };
                }
                other => return Err(d.err(format!("unknown property '{other}'")).into()),
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::http::HttpRole;
    use plugin::test_util::{TestBlock, dispenser};

    fn config(addr: &str, monitor: Monitor) -> ReadyConfig {
        ReadyConfig {
            addr: addr.to_string(),
            monitor,
        }
    }

    /// Corefile snippet → config or the error text (without the `plugin/ready: ` prefix).
    #[test]
    fn parses_like_coredns() {
        use Monitor::{Continuously, UntilReady};
        let cases: &[(&str, Result<ReadyConfig, &str>)] = &[
            ("ready", Ok(config(":8181", UntilReady))),
            (
                "ready localhost:8091",
                Ok(config("localhost:8091", UntilReady)),
            ),
            (
                "ready {\nmonitor continuously\n}",
                Ok(config(":8181", Continuously)),
            ),
            (
                "ready :8182 {\nmonitor until-ready\n}",
                Ok(config(":8182", UntilReady)),
            ),
            (
                "ready {\nmonitor continuously\nmonitor until-ready\n}",
                Ok(config(":8181", UntilReady)),
            ),
            ("ready 8181", Err("address 8181: missing port in address")),
            (
                "ready :8181 :8182",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after ':8182'",
                ),
            ),
            (
                "ready\nready :8182",
                Err("this plugin can only be used once per Server Block"),
            ),
            (
                "ready {\nmonitor\n}",
                Err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'monitor'",
                ),
            ),
            (
                "ready {\nmonitor a b\n}",
                Err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
                ),
            ),
            (
                "ready {\nmonitor sometimes\n}",
                Err("Corefile:2 - Error during parsing: monitor type 'sometimes' not supported"),
            ),
            (
                "ready {\nfoo\n}",
                Err("Corefile:2 - Error during parsing: unknown property 'foo'"),
            ),
        ];
        for (corefile, want) in cases {
            let got = parse(&mut dispenser(corefile)).map_err(|e| e.to_string());
            assert_eq!(got, want.clone().map_err(str::to_string), "{corefile:?}");
        }
    }

    #[test]
    fn a_second_line_is_the_once_error() {
        let err = parse(&mut dispenser("ready\nready")).unwrap_err();
        assert!(matches!(err, ConfigError::Once));
    }

    #[test]
    fn setup_marks_the_block_and_declares_the_route() {
        let mut t = TestBlock::new(&["."]);
        t.setup("ready :8182 {\nmonitor continuously\n}", setup)
            .unwrap();
        assert!(t.block.readiness);
        assert!(
            t.block.plugins.is_empty(),
            "ready is not in the query chain"
        );
        let routes = &t.services.routes;
        assert_eq!(routes.len(), 1);
        assert_eq!(
            (routes[0].addr.as_str(), routes[0].path, routes[0].role),
            (":8182", "/ready", HttpRole::Ready)
        );
        let resp = (routes[0].handler)(&Default::default());
        assert_eq!((resp.status, &resp.body[..]), (200, &b"OK"[..]));
    }

    /// A plugin whose readiness the test flips.
    struct Toggle(std::sync::atomic::AtomicBool);

    impl plugin::Plugin for Toggle {
        fn name(&self) -> &'static str {
            "kubernetes"
        }

        fn serve<'a>(
            &'a self,
            req: &'a plugin::Request,
            next: plugin::Next<'a>,
        ) -> plugin::Reply<'a> {
            next.serve(req)
        }

        fn ready(&self) -> bool {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn the_last_block_sets_the_monitor_mode() {
        use std::sync::Arc;
        use std::sync::atomic::Ordering;
        let cases = [
            (
                "ready {\nmonitor continuously\n}",
                "ready :8182",
                Monitor::UntilReady,
            ),
            (
                "ready",
                "ready :8182 {\nmonitor continuously\n}",
                Monitor::Continuously,
            ),
        ];
        for (first, last, mode) in cases {
            let mut t = TestBlock::new(&["."]);
            t.setup(first, setup).unwrap();
            t.setup(last, setup).unwrap();
            assert_eq!(t.services.routes.len(), 2);
            let k8s = Arc::new(Toggle(true.into()));
            t.services
                .readiness
                .register(&[k8s.clone() as Arc<dyn plugin::Plugin>]);
            assert!(t.services.readiness.not_ready().is_empty());
            k8s.0.store(false, Ordering::SeqCst);
            let asked_again = !t.services.readiness.not_ready().is_empty();
            assert_eq!(
                asked_again,
                mode == Monitor::Continuously,
                "{first:?} then {last:?}"
            );
        }
    }
}
