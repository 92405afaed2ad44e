//! The fuzz targets' library functions over the committed corpus: every input that once
//! found a bug stays a regression test here.

use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

#[test]
fn corefile_corpus_never_panics() {
    for (name, data) in corpus("corefile") {
        eprintln!("corefile corpus: {name}");
        clusterdns::corefile::fuzz_parse(&data);
    }
}

#[test]
fn dispatch_corpus_never_panics() {
    for (name, data) in corpus("dispatch") {
        eprintln!("dispatch corpus: {name}");
        clusterdns::server::fuzz_dispatch(&data);
    }
}

#[test]
fn manifests_corpus_never_panics() {
    for (name, data) in corpus("manifests") {
        eprintln!("manifests corpus: {name}");
        clusterdns_kubernetes::source::fuzz_manifest(&data);
    }
}

#[test]
fn hosts_corpus_never_panics() {
    for (name, data) in corpus("hosts") {
        eprintln!("hosts corpus: {name}");
        clusterdns_hosts::fuzz_hosts_file(&data);
    }
}

#[test]
fn rewrite_corpus_never_panics() {
    for (name, data) in corpus("rewrite") {
        eprintln!("rewrite corpus: {name}");
        clusterdns_rewrite::fuzz_rewrite(&data);
    }
}

#[test]
fn forward_reply_corpus_never_panics() {
    for (name, data) in corpus("forward_reply") {
        eprintln!("forward_reply corpus: {name}");
        clusterdns_forward::fuzz::fuzz_forward_reply(&data);
    }
}

/// On the real clock: entries do not expire here (the cache crate's own test runs this
/// corpus on a paused clock as well).
#[test]
fn cache_corpus_never_panics() {
    for (name, data) in corpus("cache") {
        eprintln!("cache corpus: {name}");
        clusterdns_cache::fuzz::fuzz_cache(&data);
    }
}
