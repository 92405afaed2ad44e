//! The `log` directive: one line per query, in a configurable format (plugins-core.md, log).
#![forbid(unsafe_code)]

mod class;
pub mod format;
mod log;
mod output;
#[cfg(test)]
mod testing;

use plugin::{ConfigError, Dispenser, Setup};

pub use class::{ClassSet, InvalidClass};
pub use log::Log;
pub use output::{LineSink, Stdout};

pub const NAME: &str = "log";

/// One logging rule: queries for `name` and below, whose reply is in `classes`, are logged in
/// `format`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Fully qualified as written (matching ignores case).
    pub name: String,
    /// `{common}` / `{combined}` already expanded.
    pub format: String,
    pub classes: ClassSet,
}

/// Every `log` line of a block, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub rules: Vec<Rule>,
}

/// Adds the log handler, writing to stdout.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    setup_with(s, Stdout)
}

/// [`setup`] with another sink (tests record the lines).
pub fn setup_with<S: LineSink>(s: &mut Setup<'_>, sink: S) -> Result<(), ConfigError> {
    let config = parse(&mut s.d)?;
    s.add_plugin(Log::new(&config.rules, sink));
    Ok(())
}

/// Reads every `log` line of the block; their rules accumulate in order.
pub fn parse(d: &mut Dispenser) -> Result<Config, ConfigError> {
    let mut rules = Vec::new();
    while d.next() {
        let line = rules_of_line(d.remaining_args());
        let classes = parse_classes(d)?;
        rules.extend(line.into_iter().map(|(name, format)| Rule {
            name,
            format,
            classes,
        }));
    }
    Ok(Config { rules })
}

/// CoreDNS's reading of the arguments: none → `.`; one → a name, even if it looks like a
/// format; more → the last is the format if it contains `{`, every other one is a name.
fn rules_of_line(mut args: Vec<String>) -> Vec<(String, String)> {
    let default = || format::DEFAULT.to_string();
    match args.len() {
        0 => vec![(".".to_string(), default())],
        1 => vec![(fqdn(&args[0]), default())],
        _ => {
            let format = match args.last() {
                Some(last) if last.contains('{') => {
                    let format = format::expand(last);
                    args.pop();
                    format
                }
                _ => default(),
            };
            args.iter()
                .map(|name| (fqdn(name), format.clone()))
                .collect()
        }
    }
}

/// `{ class CLASSES... }` of one line; no `class` means all.
fn parse_classes(d: &mut Dispenser) -> Result<ClassSet, ConfigError> {
    let mut classes = ClassSet::default();
    while d.next_block() {
        match d.val() {
            "class" => {
                let words = d.remaining_args();
                if words.is_empty() {
                    return Err(d.arg_err().into());
                }
                for word in &words {
                    classes.add(word).map_err(ConfigError::invalid)?;
                }
            }
            other => return Err(d.err(format!("unknown property '{other}'")).into()),
        }
    }
    if classes.is_empty() {
        classes = ClassSet::ALL;
    }
    Ok(classes)
}

/// Appends the root dot unless the name ends in an unescaped one (miekg/dns `Fqdn`). Names are
/// not lower-cased or otherwise checked: `log 10.0.0.0/8` is a name that matches nothing.
fn fqdn(name: &str) -> String {
    let trailing_backslashes = name
        .strip_suffix('.')
        .map(|rest| rest.bytes().rev().take_while(|&b| b == b'\\').count());
    match trailing_backslashes {
        Some(n) if n % 2 == 0 => name.to_string(),
        _ => format!("{name}."),
    }
}

#[cfg(test)]
mod tests;
