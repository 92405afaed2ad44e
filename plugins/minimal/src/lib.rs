//! The `minimal` directive: successful answers go out without authority and additional
//! sections (plugins-core.md, minimal).
#![forbid(unsafe_code)]

mod minimal;

use plugin::{ConfigError, Dispenser, ParseError, Setup};

pub use minimal::Minimal;

pub const NAME: &str = "minimal";

/// Adds the `minimal` handler. Only the first `minimal` line of a block is read.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    parse(&mut s.d)?;
    s.add_plugin(Minimal);
    Ok(())
}

/// `minimal` takes no arguments: any (or a `{` on the same line) is an ARGERR.
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
                ("minimal", Ok(())),
                // Only the first line is read, so a bad second line is never seen.
                ("minimal\nminimal extra", Ok(())),
                ("minimal extra", Err(EXTRA_ARGUMENT)),
                ("minimal {\n}", Err(UNEXPECTED_BLOCK)),
            ],
            setup,
        );
    }
}
