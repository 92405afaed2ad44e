//! Capacity, sharding and eviction (plugins-resolution.md §2.5), and two tasks hammering one
//! key.

use std::sync::Arc;

use plugin::proto::op::ResponseCode;
use plugin::proto::rr::RecordType;

use super::support::*;
use crate::key::Key;
use crate::store::{Store, Stored};

#[test]
fn effective_sizes_are_coredns_ones() {
    for (capacity, effective) in [
        (10_000, 9984),
        (1279, 1024),
        (1280, 1280),
        (0, 1024),
        (-5, 1024),
        (1_000_000, 999_936),
    ] {
        assert_eq!(
            Store::new(capacity).effective_capacity(),
            effective,
            "{capacity}"
        );
    }
}

/// `count` names whose keys fall into shard 0.
fn same_shard_names(count: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("n{i}.example."))
        .filter(|n| Key::new(n, 1, 1, false, false).shard() == 0)
        .take(count)
        .collect()
}

fn entry() -> Arc<crate::entry::Entry> {
    Arc::new(crate::entry::Entry::new(
        "x.",
        crate::entry::EntryMeta {
            qtype: 1,
            qclass: 1,
            rcode: ResponseCode::NoError,
            authentic_data: false,
            recursion_available: true,
            duration: 60,
            stored: tokio::time::Instant::now(),
            answering: true,
        },
        Default::default(),
        None,
    ))
}

#[test]
fn a_full_shard_evicts_its_least_recently_used_entry_and_overwrites_never_evict() {
    let store = Store::new(100);
    let keys: Vec<Key> = same_shard_names(5)
        .iter()
        .map(|n| Key::new(n, 1, 1, false, false))
        .collect();
    for key in &keys[..4] {
        assert_eq!(store.insert(*key, entry()), Stored::Placed);
    }
    assert!(
        store.get(keys[0]).is_some(),
        "touched: now most recently used"
    );
    assert_eq!(store.insert(keys[1], entry()), Stored::Placed, "overwrite");
    assert_eq!(store.insert(keys[4], entry()), Stored::Evicted);
    assert_eq!(store.len(), 4);
    assert!(
        store.get(keys[2]).is_none(),
        "the least recently used one went"
    );
    assert!(store.get(keys[0]).is_some());
    // Other shards are untouched by this one being full.
    let other = (0..)
        .map(|i| Key::new(&format!("o{i}."), 1, 1, false, false))
        .find(|k| k.shard() != 0)
        .unwrap();
    assert_eq!(store.insert(other, entry()), Stored::Placed);
    assert_eq!(store.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn evictions_are_counted_per_store() {
    let up = Upstream::new(|req, _| {
        let owner = req.qname_lower().to_string();
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a(&owner, 300, 1)],
            vec![],
        ))
    });
    let h = Harness::new("cache {\nsuccess 1\n}", up);
    for name in same_shard_names(6) {
        h.ask(&q(&name, RecordType::A).build()).await.unwrap();
    }
    let scrape = h.metrics();
    let labels = r#"{server="dns://:53",type="success",view="",zones="."}"#;
    assert_eq!(
        sample(&scrape, &format!("coredns_cache_evictions_total{labels}")),
        2.0
    );
    assert_eq!(
        sample(&scrape, &format!("coredns_cache_entries{labels}")),
        4.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_hammering_one_key_see_consistent_answers() {
    let up = Upstream::new(|req, _| {
        Step::Answer(reply(
            req,
            ResponseCode::NoError,
            vec![a("hot.", 300, 7)],
            vec![],
        ))
    });
    let h = Harness::new("cache", up);
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let chain = h.chain.clone();
            tokio::spawn(async move {
                let req = q("hot.", RecordType::A).build();
                for _ in 0..2000 {
                    let resp = chain.serve(&req).await.unwrap();
                    assert_eq!(addresses(&resp), [7]);
                    let ttl = ttls(&resp)[0];
                    assert!((299..=300).contains(&ttl), "{ttl}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // Both tasks may miss at the start; after that every query is a hit.
    assert!(
        (1..=2).contains(&h.upstream.calls()),
        "{}",
        h.upstream.calls()
    );
    let scrape = h.metrics();
    let series = r#"{server="dns://:53",view="",zones="."}"#;
    assert_eq!(
        sample(&scrape, &format!("coredns_cache_requests_total{series}")),
        4000.0
    );
}
