//! `loadbalance [round_robin | weighted WEIGHTFILE] { reload DURATION | prefer CIDR... }`
//! (plugins-resolution.md §5.1), with CoreDNS's error texts.

use std::path::PathBuf;
use std::time::Duration;

use plugin::{ConfigError, Dispenser};

use crate::cidr::Cidr;

/// How often the weight file is checked when `reload` is not given.
pub const DEFAULT_RELOAD: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Shuffle addresses and MX records; `prefer` networks first when given.
    RoundRobin { prefer: Vec<Cidr> },
    /// Put one address first, chosen in proportion to the weights of `file`.
    Weighted { file: PathBuf, reload: Duration },
}

/// Why the `loadbalance` stanza is wrong, where CoreDNS's text carries no file and line.
#[derive(Debug, thiserror::Error)]
pub enum LoadBalanceError {
    #[error("unknown policy: {0}")]
    UnknownPolicy(String),
}

/// Reads every `loadbalance` line of the block. Several lines are allowed and later ones win
/// (plugins-resolution.md §0.1), with CoreDNS's details: a `weighted` line replaces
/// everything before it, while `prefer` networks of `round_robin` lines add up.
pub fn parse(d: &mut Dispenser) -> Result<Policy, ConfigError> {
    let mut policy = Policy::RoundRobin { prefer: Vec::new() };
    while d.next() {
        let args = d.remaining_args();
        match args.first().map(String::as_str) {
            None => policy = round_robin(policy),
            Some("round_robin") => {
                if args.len() > 1 {
                    return Err(d.err("unknown property for round_robin").into());
                }
                policy = round_robin(policy);
            }
            Some("weighted") => {
                if args.len() < 2 {
                    return Err(d.err("missing weight file argument").into());
                }
                if args.len() > 2 {
                    return Err(d.err("unexpected argument(s)").into());
                }
                let reload = weighted_options(d)?;
                policy = Policy::Weighted {
                    file: PathBuf::from(&args[1]),
                    reload,
                };
            }
            Some(other) => {
                return Err(ConfigError::invalid(LoadBalanceError::UnknownPolicy(
                    other.to_string(),
                )));
            }
        }
        // The weighted block was read whole above, so this finds no block after it.
        while d.next_block() {
            match (d.val(), &mut policy) {
                ("prefer", Policy::RoundRobin { prefer }) => {
                    for text in d.remaining_args() {
                        let cidr = Cidr::parse(&text)
                            .map_err(|e| d.err(format!("invalid CIDR {text:?}: {e}")))?;
                        prefer.push(cidr);
                    }
                }
                (other, _) => return Err(d.err(format!("unknown property '{other}'")).into()),
            }
        }
    }
    Ok(policy)
}

/// A `round_robin` line keeps the networks of earlier `round_robin` lines.
fn round_robin(policy: Policy) -> Policy {
    match policy {
        Policy::RoundRobin { prefer } => Policy::RoundRobin { prefer },
        Policy::Weighted { .. } => Policy::RoundRobin { prefer: Vec::new() },
    }
}

/// The block of a `weighted` line: only `reload`.
fn weighted_options(d: &mut Dispenser) -> Result<Duration, ConfigError> {
    let mut reload = DEFAULT_RELOAD;
    while d.next_block() {
        if d.val() != "reload" {
            return Err(d.err(format!("unknown property '{}'", d.val())).into());
        }
        let args = d.remaining_args();
        if args.is_empty() {
            return Err(d.err("reload duration value is missing").into());
        }
        if args.len() > 1 {
            return Err(d.err("unexpected argument").into());
        }
        // Go accepts a negative duration here and then panics starting its ticker; refusing
        // it is the only useful reading.
        reload = plugin::duration::parse(&args[0])
            .map_err(|_| d.err(format!("invalid reload duration '{}'", args[0])))?;
    }
    Ok(reload)
}
