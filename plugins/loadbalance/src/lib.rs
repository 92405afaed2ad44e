//! The `loadbalance` directive: reorders the records of NOERROR replies — round robin, with
//! preferred networks, or weighted by a file (plugins-resolution.md §5). Records are never
//! copied: a reordering is a permutation over the reply's shared records.
#![forbid(unsafe_code)]

mod cidr;
mod config;
mod loadbalance;
mod loader;
mod order;
#[cfg(test)]
mod tests;
mod weights;

use plugin::{ConfigError, Setup};

pub use cidr::{Cidr, CidrError};
pub use config::{DEFAULT_RELOAD, LoadBalanceError, Policy, parse};
pub use loadbalance::{Balance, LoadBalance};
pub use weights::{WeightFileError, WeightTable};

use loader::Loader;

pub const NAME: &str = "loadbalance";

/// Parses the block's `loadbalance` lines; for `weighted`, reads the weight file and starts
/// its reload task; adds the handler.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let balance = match parse(&mut s.d)? {
        Policy::RoundRobin { prefer } => Balance::RoundRobin { prefer },
        Policy::Weighted { file, reload } => {
            let mut loader = Loader::new(file);
            match loader.read_blocking() {
                Ok(_) => {}
                // §5.4: a missing file is only a warning when a later reload can pick it up.
                Err(WeightFileError::Open) if !reload.is_zero() => plugin::log::warning(
                    Some(NAME),
                    format_args!(
                        "Failed to open weight file:{}. Will try again in {}",
                        WeightFileError::Open,
                        plugin::duration::format(reload)
                    ),
                ),
                Err(error) => return Err(ConfigError::invalid(error)),
            }
            let table = loader.table();
            // A setup outside a runtime (a config check) serves nothing, so has nothing to
            // reload.
            if !reload.is_zero() && tokio::runtime::Handle::try_current().is_ok() {
                s.tasks().spawn(loader.run(reload));
            }
            Balance::Weighted(table)
        }
    };
    s.add_plugin(LoadBalance::new(balance));
    Ok(())
}
