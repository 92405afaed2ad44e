//! Arbitrary bytes through the rewrite plugin's fuzz entry (see its crate docs). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns_rewrite::fuzz_rewrite(data);
});
