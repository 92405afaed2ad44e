//! The `bufsize` directive: lowers the EDNS UDP size a client advertised, so replies stay
//! under the limit and are not fragmented (plugins-core.md, bufsize).
#![forbid(unsafe_code)]

mod bufsize;

use plugin::{ConfigError, Dispenser, ParseError, Setup};

pub use bufsize::Bufsize;

pub const NAME: &str = "bufsize";

/// The DNS Flag Day 2020 recommendation (<https://www.dnsflagday.net/2020/>): fits an IPv6
/// packet on a 1280-byte MTU path.
pub const DEFAULT_SIZE: u16 = 1232;
/// RFC 6891 §6.2.5: sizes below 512 are treated as 512.
pub const MIN_SIZE: u16 = 512;
/// CoreDNS's upper bound for the option.
pub const MAX_SIZE: u16 = 4096;

/// `bufsize [SIZE]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub size: u16,
}

/// Why a `bufsize` line is invalid. CoreDNS wraps its ARGERR in `plugin/bufsize: ` twice (once
/// in its parser, once in its setup); the assembler adds the outer prefix, this error carries
/// the inner one so the message users grep for is unchanged.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("plugin/bufsize: {0}")]
pub struct BufsizeError(pub ParseError);

/// Adds the `bufsize` handler. Only the first `bufsize` line of a block is read.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let config = parse(&mut s.d).map_err(ConfigError::invalid)?;
    s.add_plugin(Bufsize::new(config.size));
    Ok(())
}

/// Reads the first `bufsize` line: no argument → 1232; one integer in 512..=4096; anything
/// else (not a number, out of range, more arguments) → ARGERR at the last argument.
pub fn parse(d: &mut Dispenser) -> Result<Config, BufsizeError> {
    if !d.next() {
        return Err(BufsizeError(d.arg_err()));
    }
    let args = d.remaining_args();
    match args.as_slice() {
        [] => Ok(Config { size: DEFAULT_SIZE }),
        // Go's strconv.Atoi accepts a sign and leading zeros, and so does i64's parser.
        [size] => match size.parse::<i64>() {
            Ok(n) if (i64::from(MIN_SIZE)..=i64::from(MAX_SIZE)).contains(&n) => {
                Ok(Config { size: n as u16 })
            }
            _ => Err(BufsizeError(d.arg_err())),
        },
        _ => Err(BufsizeError(d.arg_err())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::test_util::{TestBlock, dispenser};

    fn argerr(line: u32, after: &str) -> String {
        format!(
            "plugin/bufsize: Corefile:{line} - Error during parsing: Wrong argument count or unexpected line ending after '{after}'"
        )
    }

    /// Corefile snippet → expected size or the error text (the assembler adds one more
    /// `plugin/bufsize: ` in front).
    #[test]
    fn parses_like_coredns() {
        let cases: Vec<(&str, Result<u16, String>)> = vec![
            ("bufsize", Ok(1232)),
            ("bufsize 512", Ok(512)),
            ("bufsize 4096", Ok(4096)),
            ("bufsize 1500", Ok(1500)),
            ("bufsize +1500", Ok(1500)),
            ("bufsize 01500", Ok(1500)),
            // Only the first line counts.
            ("bufsize 1000\nbufsize 2000", Ok(1000)),
            ("bufsize\nbufsize nonsense", Ok(1232)),
            // A `{` is not an argument: the block is never read.
            ("bufsize {\nfoo\n}", Ok(1232)),
            ("bufsize 511", Err(argerr(1, "511"))),
            ("bufsize 4097", Err(argerr(1, "4097"))),
            ("bufsize -1", Err(argerr(1, "-1"))),
            (
                "bufsize 99999999999999999999",
                Err(argerr(1, "99999999999999999999")),
            ),
            ("bufsize abc", Err(argerr(1, "abc"))),
            ("bufsize 1.5", Err(argerr(1, "1.5"))),
            ("bufsize 1232 1500", Err(argerr(1, "1500"))),
        ];
        for (corefile, want) in cases {
            let got = parse(&mut dispenser(corefile))
                .map(|c| c.size)
                .map_err(|e| e.to_string());
            assert_eq!(got, want, "{corefile:?}");
        }
    }

    #[test]
    fn setup_reports_an_invalid_value_and_adds_nothing() {
        let mut t = TestBlock::new(&["."]);
        let err = t.setup("bufsize 100", setup).unwrap_err();
        let ConfigError::Invalid(inner) = &err else {
            panic!("want ConfigError::Invalid, got {err:?}");
        };
        assert!(inner.downcast_ref::<BufsizeError>().is_some());
        assert!(t.block.plugins.is_empty());

        let mut t = TestBlock::new(&["."]);
        t.setup("bufsize 1400", setup).unwrap();
        assert_eq!(t.block.plugins.len(), 1);
        assert_eq!(t.block.plugins[0].name(), NAME);
    }
}
