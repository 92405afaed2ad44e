//! Scripted DNS upstreams on 127.0.0.1 for the forward, cache and loop tests (issue #4,
//! "Tests"): a well-behaved server, and every fault a forwarder must survive — silence, late
//! answers, wrong IDs or questions, truncation, TCP resets, DNS over TLS with a self-signed
//! certificate, and an upstream that forwards back to us (a loop). A test gives a script, a
//! function from the query received ([`Seen`]) to what the server does ([`Action`]). See
//! README.md.
#![forbid(unsafe_code)]

mod action;
mod echoed_opt;
mod error;
mod log;
mod relay;
pub mod replies;
mod seen;
mod shared;
mod steps;
mod stream;
mod tls;
mod udp;
mod upstream;

pub use action::Action;
pub use error::FakeUpstreamError;
pub use seen::{Proto, Seen};
pub use tls::TLS_SERVER_NAME;
pub use upstream::FakeUpstream;
