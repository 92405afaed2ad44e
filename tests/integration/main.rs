//! One integration binary: starts real `clusterdns` processes from Corefile strings on
//! 127.0.0.1 and talks to them over UDP, TCP and HTTP.

mod harness;

mod autopath;
mod bad_packets;
mod cli;
mod endpoints;
mod forwarding_loop;
mod fuzz_corpus;
mod kubernetes;
mod readme_examples;
mod reload;
mod resolution;
mod serving;
mod shutdown;
mod startup_errors;
mod stock_corefile;
