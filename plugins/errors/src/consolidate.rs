//! `consolidate DURATION REGEXP [LEVEL] [show_first]`: count matching errors over a window and
//! log one summary line instead of one line per error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use plugin::duration;
use plugin::log::Level;
use plugin::tasks::Tasks;
use plugin::{Dispenser, ParseError};
use regex::Regex;

use crate::output::ErrorLog;

/// A hard limit on the pattern's length: compiling a huge hostile pattern could exhaust memory
/// (CoreDNS `maxRegexpLen`).
pub const MAX_PATTERN_LEN: usize = 10_000;

/// One `consolidate` rule.
#[derive(Clone, Debug)]
pub struct Consolidate {
    /// How long a window lasts after its first error.
    pub period: Duration,
    /// Matched against the error text, unanchored (Go's `MatchString`).
    pub pattern: Regex,
    /// Level of the summary line (and of the first error with `show_first`).
    pub level: Level,
    /// Log the first error of a window right away.
    pub show_first: bool,
}

impl PartialEq for Consolidate {
    fn eq(&self, other: &Self) -> bool {
        self.period == other.period
            && self.pattern.as_str() == other.pattern.as_str()
            && self.level == other.level
            && self.show_first == other.show_first
    }
}

/// The texts CoreDNS gives for a bad `consolidate` line (each with the line's location).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsolidateError {
    #[error("regex pattern too long: {0} > {MAX_PATTERN_LEN}")]
    PatternTooLong(usize),
    /// Go prints `error parsing regexp: CODE: `EXPR``; the description here is the regex
    /// crate's.
    #[error("error parsing regexp: {reason}: `{pattern}`")]
    BadPattern { pattern: String, reason: String },
    #[error("multiple log levels specified in consolidate")]
    MultipleLevels,
    #[error("log level must come before show_first in consolidate")]
    LevelAfterShowFirst,
    #[error("unknown option in consolidate: {0}")]
    UnknownOption(String),
}

/// Parses the rest of a `consolidate` line; the cursor is on `consolidate`.
pub fn parse(d: &mut Dispenser) -> Result<Consolidate, ParseError> {
    let args = d.remaining_args();
    if !(2..=4).contains(&args.len()) {
        return Err(d.arg_err());
    }
    let at = |e: &dyn std::fmt::Display| d.err(e.to_string());
    let period = duration::parse(&args[0]).map_err(|e| at(&e))?;
    let pattern = compile(&args[1]).map_err(|e| at(&e))?;
    let (level, show_first) = parse_options(&args[2..]).map_err(|e| at(&e))?;
    Ok(Consolidate {
        period,
        pattern,
        level,
        show_first,
    })
}

fn compile(pattern: &str) -> Result<Regex, ConsolidateError> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(ConsolidateError::PatternTooLong(pattern.len()));
    }
    Regex::new(pattern).map_err(|e| ConsolidateError::BadPattern {
        pattern: pattern.to_string(),
        reason: regex_reason(&e),
    })
}

/// The regex crate explains a syntax error over several lines, the last one being
/// `error: WHAT`; a log line wants just WHAT.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map_or_else(|| text.trim().to_string(), str::to_string)
}

/// `[LEVEL] [show_first]`, in that order.
fn parse_options(args: &[String]) -> Result<(Level, bool), ConsolidateError> {
    let mut level = None;
    let mut show_first = false;
    for arg in args {
        if let Some(l) = level_named(arg) {
            if level.is_some() {
                return Err(ConsolidateError::MultipleLevels);
            }
            if show_first {
                return Err(ConsolidateError::LevelAfterShowFirst);
            }
            level = Some(l);
        } else if arg == "show_first" {
            show_first = true;
        } else {
            return Err(ConsolidateError::UnknownOption(arg.clone()));
        }
    }
    Ok((level.unwrap_or(Level::Error), show_first))
}

fn level_named(word: &str) -> Option<Level> {
    Some(match word {
        "warning" => Level::Warning,
        "error" => Level::Error,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => return None,
    })
}

/// What to do with one error the chain returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Log it now, at this level.
    Log(Level),
    /// Counted in a window; the summary will say it.
    Counted,
}

/// One rule and its current window.
struct Window {
    rule: Consolidate,
    /// Errors in the current window; 0 when no window is open.
    count: AtomicU64,
}

/// The windows of one errors plugin instance. Timers are instance tasks; the instance's
/// shutdown hook calls [`Consolidator::stop`], which flushes every open window (on reload and on
/// process shutdown, as CoreDNS's OnShutdown does).
pub struct Consolidator<L> {
    windows: Vec<Window>,
    stopped: AtomicBool,
    tasks: Tasks,
    log: L,
}

impl<L: ErrorLog> Consolidator<L> {
    pub fn new(rules: Vec<Consolidate>, tasks: Tasks, log: L) -> Arc<Self> {
        Arc::new(Consolidator {
            windows: rules
                .into_iter()
                .map(|rule| Window {
                    rule,
                    count: AtomicU64::new(0),
                })
                .collect(),
            stopped: AtomicBool::new(false),
            tasks,
            log,
        })
    }

    pub fn log(&self) -> &L {
        &self.log
    }

    /// Decides about one error: the first rule whose pattern matches counts it; no match → log
    /// at ERROR.
    pub fn observe(self: &Arc<Self>, error_text: &str) -> Disposition {
        match self
            .windows
            .iter()
            .position(|w| w.rule.pattern.is_match(error_text))
        {
            Some(index) => self.count(index),
            None => Disposition::Log(Level::Error),
        }
    }

    fn count(self: &Arc<Self>, index: usize) -> Disposition {
        let window = &self.windows[index];
        let level = window.rule.level;
        // Once stopped no window opens any more: the error is logged on its own, at the rule's
        // level (CoreDNS does the same for queries still in flight during a reload).
        if self.is_stopped() {
            return Disposition::Log(level);
        }
        if window.count.fetch_add(1, Ordering::AcqRel) > 0 {
            return Disposition::Counted;
        }
        // First error of a new window.
        self.start_timer(index);
        if self.is_stopped() {
            // Stopped between the check above and now: the hook may have missed this window.
            self.flush(index);
        }
        if window.rule.show_first {
            Disposition::Log(level)
        } else {
            Disposition::Counted
        }
    }

    fn start_timer(self: &Arc<Self>, index: usize) {
        let this = Arc::clone(self);
        let period = self.windows[index].rule.period;
        self.tasks.spawn(async move {
            tokio::time::sleep(period).await;
            this.flush(index);
        });
    }

    /// Closes the window of rule `index` and logs its summary when due: with `show_first` a
    /// window of one error was already logged in full.
    fn flush(&self, index: usize) {
        let window = &self.windows[index];
        let count = window.count.swap(0, Ordering::AcqRel);
        if count == 0 {
            return;
        }
        let rule = &window.rule;
        if count > 1 || !rule.show_first {
            self.log.write(
                rule.level,
                format_args!(
                    "{count} errors like '{}' occurred in last {}",
                    rule.pattern.as_str(),
                    duration::format(rule.period)
                ),
            );
        }
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Flushes every open window now and opens no new one.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        for index in 0..self.windows.len() {
            self.flush(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_coredns_order_rules() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        type Options = Result<(Level, bool), ConsolidateError>;
        let cases: &[(&str, Options)] = &[
            ("", Ok((Level::Error, false))),
            ("warning", Ok((Level::Warning, false))),
            ("info show_first", Ok((Level::Info, true))),
            ("debug", Ok((Level::Debug, false))),
            ("show_first", Ok((Level::Error, true))),
            ("warning error", Err(ConsolidateError::MultipleLevels)),
            (
                "show_first warning",
                Err(ConsolidateError::LevelAfterShowFirst),
            ),
            (
                "fatal",
                Err(ConsolidateError::UnknownOption("fatal".into())),
            ),
            (
                "WARNING",
                Err(ConsolidateError::UnknownOption("WARNING".into())),
            ),
        ];
        for (args, want) in cases {
            assert_eq!(&parse_options(&words(args)), want, "{args:?}");
        }
    }

    #[test]
    fn pattern_errors() {
        assert_eq!(
            compile(&"a".repeat(10_001)).unwrap_err(),
            ConsolidateError::PatternTooLong(10_001)
        );
        assert!(compile(&"a".repeat(10_000)).is_ok());
        let err = compile("())").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error parsing regexp: unopened group: `())`"
        );
    }
}
