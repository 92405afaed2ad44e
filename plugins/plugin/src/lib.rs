//! The clusterdns plugin contract.
//!
//! A server block is a [`Chain`] of [`Plugin`]s run in the fixed order of the server's registry.
//! Each plugin gets the decoded [`Request`] and a [`Next`] view of the plugins after it, and
//! returns a [`Reply`]: an [`Outcome`] available now, or a future of one.
//!
//! Setup goes through one [`Setup`] context: the directive's Corefile tokens (a [`Dispenser`]),
//! the block's zones, and the instance's shared services (metrics, HTTP routes, tasks, hooks).
#![forbid(unsafe_code)]

pub mod chain;
pub mod classify;
pub mod dispenser;
pub mod duration;
pub mod error;
pub mod extensions;
pub mod fallthrough;
#[doc(hidden)]
pub mod fuzz_check;
pub mod http;
pub mod log;
pub mod metrics;
pub mod names;
pub mod os_error;
mod plain_query;
pub mod prepared;
pub mod readiness;
pub mod reply;
pub mod request;
pub mod response;
pub mod reverse_zones;
pub mod search_path;
pub mod setup;
pub mod subrequest;
pub mod tasks;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
pub mod token;
pub mod upstream;
pub mod wire;
pub mod writer;
pub mod zones;

pub use chain::{Chain, Next, OwnedNext, Plugin};
pub use dispenser::{Dispenser, ParseError};
pub use error::{ConfigError, Error, Failure};
pub use fallthrough::Fallthrough;
pub use reply::{Outcome, Reply};
pub use request::{Request, Transport};
pub use response::{Response, Section, SectionIter};
pub use setup::{BlockConfig, ServerKey, Setup};
pub use token::Token;
pub use upstream::Upstream;

/// Re-exported so plugin crates name the same DNS types as the contract.
pub use hickory_proto as proto;
