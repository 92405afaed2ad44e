//! An arbitrary query and downstream reply through the cache: miss, hit, and later asks on a
//! paused clock so entries expire (see `clusterdns_cache::fuzz`). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

thread_local! {
    static PAUSED: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
}

fuzz_target!(|data: &[u8]| {
    PAUSED.with(|runtime| {
        clusterdns_cache::fuzz::fuzz_cache_on(
            runtime,
            data,
            Some(|d| Box::pin(tokio::time::advance(d))),
        );
    });
});
