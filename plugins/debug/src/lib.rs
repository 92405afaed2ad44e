//! The `debug` directive: panics on this block's listeners are not recovered, and `[DEBUG]`
//! log lines are printed (plugins-core.md, debug).
//!
//! `debug` has no handler in the chain; it only marks the block. The server turns debug
//! logging on when any block of the running configuration is marked, and recomputes that on
//! every reload.
#![forbid(unsafe_code)]

use plugin::{ConfigError, Dispenser, ParseError, Setup};

pub const NAME: &str = "debug";

/// Marks the block. Every `debug` line is read (they accumulate, to the same effect), and each
/// must be bare, as CoreDNS's setup checks every occurrence.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    parse(&mut s.d)?;
    s.block.debug = true;
    Ok(())
}

/// `debug` takes no arguments; any argument (or a `{` on the same line) is an ARGERR.
pub fn parse(d: &mut Dispenser) -> Result<(), ParseError> {
    while d.no_args()? {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::TestBlock;

    /// Corefile snippet → `Ok(debug flag)` or the error text (without the `plugin/debug: `
    /// prefix the assembler adds).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<bool, &str>)] = &[
            ("debug", Ok(true)),
            ("debug\ndebug", Ok(true)),
            (
                "debug off",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'off'",
                ),
            ),
            (
                "debug\ndebug x",
                Err(
                    "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'x'",
                ),
            ),
            (
                "debug {\n}",
                Err("Corefile:1 - Error during parsing: Unexpected token '{', expecting argument"),
            ),
        ];
        for (corefile, want) in cases {
            let mut t = TestBlock::new(&["."]);
            let got = t
                .setup(corefile, setup)
                .map(|()| t.block.debug)
                .map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{corefile:?}");
        }
    }

    #[test]
    fn an_error_is_a_parse_error_and_leaves_the_block_alone() {
        let mut t = TestBlock::new(&["."]);
        let err = t.setup("debug on", setup).unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)));
        assert!(!t.block.debug);
        assert!(t.block.plugins.is_empty(), "debug adds no handler");
    }
}
