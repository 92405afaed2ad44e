//! Arbitrary bytes as a Corefile: lex, parse, normalise keys, digest. Must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    clusterdns::corefile::fuzz_parse(data);
});
