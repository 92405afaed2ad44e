//! Arbitrary bytes as a query: header checks, decode, chain, encode. Must never panic, and any
//! reply must parse as DNS.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns::server::fuzz_dispatch(data);
});
