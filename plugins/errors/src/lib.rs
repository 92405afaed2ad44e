//! The `errors` directive: log the errors returned by the plugins after it, optionally
//! consolidating frequent ones into periodic summaries (plugins-core.md, errors).
#![forbid(unsafe_code)]

mod consolidate;
mod errors;
mod output;
#[cfg(test)]
mod testing;

use plugin::{ConfigError, Dispenser, Setup};

pub use consolidate::{Consolidate, ConsolidateError, Consolidator, Disposition, MAX_PATTERN_LEN};
pub use errors::Errors;
pub use output::{ErrorLog, Stdout};
pub use plugin::names::TypeName;

pub const NAME: &str = "errors";

/// `errors [stdout] { stacktrace; consolidate ... }`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// Log recovered panics with a stack trace.
    pub stacktrace: bool,
    /// In configuration order: the first matching rule counts an error.
    pub consolidate: Vec<Consolidate>,
}

/// Adds the errors handler, logging to stdout.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    setup_with(s, Stdout)
}

/// [`setup`] with another log (tests record the lines).
pub fn setup_with<L: ErrorLog>(s: &mut Setup<'_>, log: L) -> Result<(), ConfigError> {
    let config = parse(&mut s.d)?;
    if config.stacktrace {
        s.block.stacktrace = true;
    }
    let consolidator = Consolidator::new(config.consolidate, s.tasks().clone(), log);
    let on_stop = consolidator.clone();
    // Runs on reload and on shutdown: open windows print their summary now.
    s.on_shutdown(move || Box::pin(async move { on_stop.stop() }));
    s.add_plugin(Errors::new(consolidator));
    Ok(())
}

/// Reads the block's `errors` directive; a second one is an error.
pub fn parse(d: &mut Dispenser) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    while d.next_once()? {
        let args = d.remaining_args();
        match args.as_slice() {
            [] => {}
            // Logging to a file is long gone from CoreDNS; `stdout` is accepted for old configs.
            [target] if target == "stdout" => {}
            [target] => return Err(d.err(format!("invalid log file: {target}")).into()),
            _ => return Err(d.arg_err().into()),
        }
        while d.next_block() {
            match d.val() {
                "stacktrace" => config.stacktrace = true,
                "consolidate" => config.consolidate.push(consolidate::parse(d)?),
                other => return Err(d.syntax_err(format!("Unknown field {other}")).into()),
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Captured;
    use hickory_proto::rr::RecordType;
    use plugin::log::Level;
    use plugin::test_util::{self, Recorder, TestBlock, dispenser, query};
    use plugin::{Error, Failure};
    use regex::Regex;
    use std::time::Duration;

    fn rule(period: Duration, pattern: &str, level: Level, show_first: bool) -> Consolidate {
        Consolidate {
            period,
            pattern: Regex::new(pattern).unwrap(),
            level,
            show_first,
        }
    }

    fn at(line: u32, msg: &str) -> String {
        format!("Corefile:{line} - Error during parsing: {msg}")
    }

    /// Corefile snippet → expected Config, or the error text (without the `plugin/errors: `
    /// prefix the assembler adds).
    #[test]
    fn parses_like_coredns() {
        let min = Duration::from_secs(60);
        let long = "a".repeat(10_001);
        let too_long = format!("errors {{\nconsolidate 1m {long}\n}}");
        let cases: Vec<(&str, Result<Config, String>)> = vec![
            ("errors", Ok(Config::default())),
            ("errors stdout", Ok(Config::default())),
            ("errors {\nstacktrace\n}", Ok(Config { stacktrace: true, consolidate: vec![] })),
            (
                "errors {\nstacktrace\nconsolidate 1m ^exact$\n}",
                Ok(Config { stacktrace: true, consolidate: vec![rule(min, "^exact$", Level::Error, false)] }),
            ),
            (
                "errors {\nconsolidate 1m error1\nconsolidate 5s error2\n}",
                Ok(Config {
                    stacktrace: false,
                    consolidate: vec![
                        rule(min, "error1", Level::Error, false),
                        rule(Duration::from_secs(5), "error2", Level::Error, false),
                    ],
                }),
            ),
            (
                "errors {\nconsolidate 1m .* warning show_first\n}",
                Ok(Config { stacktrace: false, consolidate: vec![rule(min, ".*", Level::Warning, true)] }),
            ),
            (
                "errors {\nconsolidate 1m .* show_first\n}",
                Ok(Config { stacktrace: false, consolidate: vec![rule(min, ".*", Level::Error, true)] }),
            ),
            (
                "errors {\nconsolidate 1h30m .* debug\n}",
                Ok(Config { stacktrace: false, consolidate: vec![rule(Duration::from_secs(5400), ".*", Level::Debug, false)] }),
            ),
            ("errors\nerrors", Err("this plugin can only be used once per Server Block".into())),
            ("errors errors.txt", Err(at(1, "invalid log file: errors.txt"))),
            ("errors visible", Err(at(1, "invalid log file: visible"))),
            ("errors a b", Err(at(1, "Wrong argument count or unexpected line ending after 'b'"))),
            (
                "errors {\nlog visible\n}",
                Err("Corefile:2 - Syntax error: Unexpected token 'log', expecting 'Unknown field log'".into()),
            ),
            ("errors {\nconsolidate\n}", Err(at(2, "Wrong argument count or unexpected line ending after 'consolidate'"))),
            ("errors {\nconsolidate 1m\n}", Err(at(2, "Wrong argument count or unexpected line ending after '1m'"))),
            (
                "errors {\nconsolidate 1m .* warning show_first extra\n}",
                Err(at(2, "Wrong argument count or unexpected line ending after 'extra'")),
            ),
            ("errors {\nconsolidate abc .*\n}", Err(at(2, "time: invalid duration \"abc\""))),
            ("errors {\nconsolidate 1 .*\n}", Err(at(2, "time: missing unit in duration \"1\""))),
            ("errors {\nconsolidate 1m ())\n}", Err(at(2, "error parsing regexp: unopened group: `())`"))),
            (too_long.as_str(), Err(at(2, "regex pattern too long: 10001 > 10000"))),
            ("errors {\nconsolidate 1m error invalid_option\n}", Err(at(2, "unknown option in consolidate: invalid_option"))),
            ("errors {\nconsolidate 1m error warning error\n}", Err(at(2, "multiple log levels specified in consolidate"))),
            ("errors {\nconsolidate 1m error info debug\n}", Err(at(2, "multiple log levels specified in consolidate"))),
            (
                "errors {\nconsolidate 1m error show_first warning\n}",
                Err(at(2, "log level must come before show_first in consolidate")),
            ),
        ];
        for (corefile, want) in cases {
            let got = parse(&mut dispenser(corefile)).map_err(|e| e.to_string());
            let label: String = corefile.chars().take(60).collect();
            assert_eq!(got, want, "{label:?}");
        }
    }

    #[test]
    fn a_second_errors_line_is_the_once_error() {
        let err = parse(&mut dispenser("errors\nerrors stdout")).unwrap_err();
        assert!(matches!(err, ConfigError::Once));
    }

    #[test]
    fn stacktrace_is_an_instance_setting() {
        let mut t = TestBlock::new(&["."]);
        t.setup("errors", setup).unwrap();
        assert!(!t.block.stacktrace);
        let mut t = TestBlock::new(&["."]);
        t.setup("errors {\nstacktrace\n}", setup).unwrap();
        assert!(t.block.stacktrace);
        assert_eq!(t.block.plugins.len(), 1);
        assert_eq!(t.block.plugins[0].name(), NAME);
    }

    #[tokio::test(start_paused = true)]
    async fn the_shutdown_hook_flushes_open_windows() {
        let log = Captured::default();
        let mut t = TestBlock::new(&["."]);
        t.setup("errors {\nconsolidate 5m timeout\n}", |s| {
            setup_with(s, log.clone())
        })
        .unwrap();
        let errors = t.block.plugins[0].clone();
        let next =
            Recorder::answering(|_| Err(Failure::servfail(Error::bare("read udp: i/o timeout"))));
        let req = query("example.org.", RecordType::A).build();
        for _ in 0..2 {
            let _ = test_util::serve(errors.clone(), next.clone(), &req).await;
        }
        assert!(log.lines().is_empty());
        let hooks = std::mem::take(&mut t.services.shutdown_hooks);
        assert_eq!(hooks.len(), 1);
        for hook in hooks {
            hook().await;
        }
        t.services.tasks.stop().await;
        assert_eq!(
            log.lines(),
            ["[ERROR] plugin/errors: 2 errors like 'timeout' occurred in last 5m0s"]
        );
    }
}
