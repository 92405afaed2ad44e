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
    use plugin::test_util::TestBlock;

    /// Corefile snippet → `Ok(())` or the error text (without the `plugin/whoami: ` prefix
    /// the assembler adds).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("whoami", Ok(())),
            // Only the first line is read, so a bad second line is never seen.
            ("whoami\nwhoami extra", Ok(())),
            // A `{` on the next line is not an argument of this line.
            ("whoami\n{\n}", Ok(())),
            (
                "whoami extra",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
                ),
            ),
            (
                "whoami {\n}",
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

    #[test]
    fn adds_one_handler_named_whoami() {
        let mut t = TestBlock::new(&["."]);
        t.setup("whoami\nwhoami", setup).unwrap();
        let names: Vec<_> = t.block.plugins.iter().map(|p| p.name()).collect();
        assert_eq!(names, [NAME]);
    }
}
