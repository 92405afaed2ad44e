//! The `any` directive: a minimal answer to qtype ANY (RFC 8482), other queries pass through
//! (plugins-core.md, any).
#![forbid(unsafe_code)]

mod any;

use plugin::{ConfigError, Dispenser, ParseError, Setup};

pub use any::Any;

pub const NAME: &str = "any";

/// Adds the `any` handler. Only the first `any` line of a block is read (corefile.md §8).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    parse(&mut s.d)?;
    s.add_plugin(Any);
    Ok(())
}

/// `any` takes no arguments (ARGERR). CoreDNS's setup also rejects block properties
/// (`unknown property`), but its cursor never gets there: a `{` on the directive's line is an
/// argument first, and a `{` on a later line opens no block of this line.
pub fn parse(d: &mut Dispenser) -> Result<(), ParseError> {
    d.no_args().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::{EXTRA_ARGUMENT, UNEXPECTED_BLOCK, check_chain_setup};

    #[test]
    fn parses_like_coredns() {
        check_chain_setup(
            &[
                ("any", Ok(())),
                // Only the first line is read, so a bad second line is never seen.
                ("any\nany extra", Ok(())),
                // A `{` on the next line is not an argument of this line.
                ("any\n{\nfoo\n}", Ok(())),
                ("any extra", Err(EXTRA_ARGUMENT)),
                ("any {\n}", Err(UNEXPECTED_BLOCK)),
            ],
            setup,
        );
    }
}
