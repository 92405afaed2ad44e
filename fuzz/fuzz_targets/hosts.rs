//! Arbitrary bytes through the hosts plugin's fuzz entry (see its crate docs). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns_hosts::fuzz_hosts_file(data);
});
