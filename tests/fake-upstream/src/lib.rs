//! Scripted DNS upstreams on 127.0.0.1 for the forward, cache and loop tests.
#![forbid(unsafe_code)]
