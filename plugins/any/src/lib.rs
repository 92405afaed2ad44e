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

/// `any` takes no arguments (ARGERR). The `unknown property` check mirrors CoreDNS's setup; its
/// cursor makes it unreachable in practice, because a `{` on the directive's line is taken as
/// an argument first, and a `{` on a later line does not open a block of this line.
pub fn parse(d: &mut Dispenser) -> Result<(), ParseError> {
    d.no_args()?;
    if d.next_block() {
        return Err(d.err(format!("unknown property '{}'", d.val())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::TestBlock;

    /// Corefile snippet → `Ok(())` or the error text (without the `plugin/any: ` prefix).
    #[test]
    fn parses_like_coredns() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("any", Ok(())),
            ("any\nany extra", Ok(())),
            ("any\n{\nfoo\n}", Ok(())),
            (
                "any extra",
                Err(
                    "Corefile:1 - Error during parsing: Wrong argument count or unexpected line ending after 'extra'",
                ),
            ),
            (
                "any {\nfoo\n}",
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
