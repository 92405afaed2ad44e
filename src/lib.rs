//! clusterdns: a CoreDNS-compatible DNS server.
//!
//! The binary (`main.rs`) reads flags, loads the Corefile (`corefile`), builds an instance of
//! plugin chains from it in registry order (`registry`, `assemble`), serves it on UDP and TCP
//! (`server`) with HTTP endpoints and metrics (`services`), and swaps it on reload (`reload`).
#![forbid(unsafe_code)]

pub mod corefile;
pub mod server;
pub mod services;
