//! The DNS front end: listeners on UDP and TCP (tokio + socket2, SO_REUSEPORT), the server
//! core that takes one packet through corefile.md §7.2, and the zone table that routes a query
//! to its server block.
//!
//! - [`Listener`]: binds one address, serves a [`ZoneTable`], swaps it on reload, stops
//!   gracefully.
//! - [`Dispatcher`]: bytes in, bytes out, in the order of §7.2; answers a ready chain without
//!   spawning or boxing.
//! - [`ZoneTable`]: zone → [`Route`], longest suffix first, the DS walk, the root last.
//! - [`ServerResolver`]: what `plugin::Upstream` lookups are served by (the zone tables of
//!   one instance).

mod dispatch;
mod dropped;
mod fuzz;
mod listener;
mod panics;
mod tcp;
#[cfg(test)]
pub(crate) mod testing;
mod udp;
mod udp_recv;
mod udp_send;
mod upstream;
mod zones;

pub use dispatch::{Answer, Dispatcher};
pub use fuzz::fuzz_dispatch;
pub use listener::{Listener, ListenerOptions};
pub use panics::install_hook as install_panic_hook;
pub use tcp::MAX_PENDING_PER_CONNECTION;
pub use udp::MAX_PENDING_PER_SOCKET;
pub use upstream::ServerResolver;
pub use zones::{Route, Routing, ZoneTable};
