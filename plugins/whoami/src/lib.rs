//! The `whoami` directive: answers every query with the client's address, port and transport
//! (plugins-core.md, whoami).
#![forbid(unsafe_code)]

mod whoami;

use plugin::{ConfigError, Dispenser, ParseError, Setup};

pub use whoami::Whoami;

pub const NAME: &str = "whoami";

/// Adds the terminal `whoami` handler. Only the block's first `whoami` line is read; further
/// lines are ignored, as in CoreDNS (corefile.md §8).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    parse(&mut s.d)?;
    s.add_plugin(Whoami);
    Ok(())
}

/// `whoami` takes no arguments: any (or a `{` on the same line) is an ARGERR.
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
                ("whoami", Ok(())),
                // Only the first line is read, so a bad second line is never seen.
                ("whoami\nwhoami extra", Ok(())),
                // A `{` on the next line is not an argument of this line.
                ("whoami\n{\n}", Ok(())),
                ("whoami extra", Err(EXTRA_ARGUMENT)),
                ("whoami {\n}", Err(UNEXPECTED_BLOCK)),
            ],
            setup,
        );
    }
}
