//! clusterdns: a CoreDNS-compatible DNS server.
//!
//! The binary (`main.rs`) reads flags (`flags`), loads the Corefile (`source`, `corefile`),
//! builds an instance of plugin chains from it in registry order (`registry`, `assemble`),
//! serves it on UDP and TCP (`server`) with HTTP endpoints and metrics (`services`), and swaps
//! it on reload (`reload`, `supervisor`). `run` ties these together with the signals.
#![forbid(unsafe_code)]

pub mod assemble;
pub mod clock;
pub mod corefile;
pub mod flags;
pub mod registry;
pub mod reload;
pub mod run;
pub mod server;
pub mod services;
pub mod source;
pub mod supervisor;
pub mod version;
