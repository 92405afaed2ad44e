//! Arbitrary bytes as an upstream's reply, through a real forward instance and a local
//! upstream over UDP and TCP (see `clusterdns_forward::fuzz`). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns_forward::fuzz::fuzz_forward_reply(data);
});
