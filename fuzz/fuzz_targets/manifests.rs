//! Arbitrary bytes as a `manifests` file (YAML and JSON): parsed, reduced, indexed, re-listed
//! and removed again. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns_kubernetes::source::fuzz_manifest(data);
});
