//! The `rewrite` directive: rewrites queries (name, type, class, EDNS0 options) before the
//! rest of the chain sees them and maps the reply back, so the client sees its own question
//! (plugins-resolution.md §4; CoreDNS `plugin/rewrite`).
#![forbid(unsafe_code)]

mod answer;
mod edns0;
mod error;
mod fuzz;
mod matcher;
mod names;
mod rewrite;
mod rule;
mod spliced;

use plugin::{ConfigError, Dispenser, Setup};

pub use error::RuleError;
pub use fuzz::fuzz_rewrite;
pub use rewrite::Rewrite;
pub use rule::{Mode, Rule};

pub const NAME: &str = "rewrite";

/// Adds one `rewrite` handler holding every rule of the block, in written order (§0.1).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let rules = parse(&mut s.d)?;
    let upstream = s.upstream();
    s.add_plugin(Rewrite::new(rules, upstream));
    Ok(())
}

/// Every `rewrite` line (or block) of the block, one rule each (§4.1; CoreDNS `rewriteParse`).
/// A bad rule is an error at its line, with CoreDNS's text.
pub fn parse(d: &mut Dispenser) -> Result<Vec<Rule>, ConfigError> {
    let mut rules = Vec::new();
    while d.next() {
        let mut args = d.remaining_args();
        if args.len() < 2 {
            // Block form: all tokens inside the braces make one rule (§4.1).
            while d.next_block() {
                args.push(d.val().to_string());
            }
        }
        let rule = Rule::parse(&args).map_err(|e| ConfigError::Parse(d.err(e.to_string())))?;
        rules.push(rule);
    }
    Ok(rules)
}

#[cfg(test)]
mod tests;
