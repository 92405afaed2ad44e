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
    use plugin::test_util::TestBlock;

    /// Corefile snippet → `Ok(())` or the error text (without the `plugin/minimal: ` prefix).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("minimal", Ok(())),
            ("minimal\nminimal extra", Ok(())),
            (
                "minimal extra",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
                ),
            ),
            (
                "minimal {\n}",
                Err("Corefile:1 - Error during parsing: Unexpected token '{', expecting argument"),
            ),
        ];
        for (corefile, want) in cases {
            let mut t = TestBlock::new(&["."]);
            let got = t.setup(corefile, setup).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{corefile:?}");
            assert_eq!(
                t.block.plugins.len(),
                usize::from(got.is_ok()),
                "{corefile:?}"
            );
        }
    }
}
