//! A server block with `k8s_external` and `kubernetes` over the contract's fixture set K
//! (kubernetes.md §18.1) and its self-lookup stub, from the kubernetes crate's
//! `test_support`.

#![allow(dead_code)]

use std::sync::Arc;

use clusterdns_kubernetes::Cache;
use clusterdns_kubernetes::test_support::answers::CaseSetting;
use clusterdns_kubernetes::test_support::fixture::{
    Fixture, environment, set_k_self_lookup, set_up,
};
use plugin::test_util::{Recorder, TestBlock};
use plugin::{Chain, Request, Response};

/// The SOA of the external zone's negative answers.
pub const XSOA: &str =
    "example.com. 5 SOA ns1.dns.example.com. hostmaster.dns.example.com. * 7200 1800 86400 5";

/// How the block is built.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// The `kubernetes` line (with its block, lines separated by `\n`).
    pub kubernetes: &'static str,
    /// The `k8s_external` line.
    pub external: &'static str,
    /// The server's own addresses.
    pub own: &'static [&'static str],
    /// Feed set K (false: never synced, empty).
    pub fed: bool,
}

impl CaseSetting for Setting {
    const NEGATIVE_SOA: &'static str = XSOA;
}

/// One server block `.` with k8s_external, kubernetes and a recording last plugin, in
/// registry order.
pub struct Block {
    pub chain: Chain,
    pub cache: Arc<Cache>,
    pub next: Arc<Recorder>,
}

impl Block {
    pub fn new(setting: Setting) -> Block {
        let mut block = TestBlock::new(&["."]);
        block.services.upstream.bind(Arc::new(set_k_self_lookup()));
        block
            .setup(setting.external, clusterdns_k8s_external::setup)
            .unwrap_or_else(|e| panic!("{}: {e}", setting.external));
        let cache = set_up(
            &mut block,
            setting.kubernetes,
            environment(setting.own, &[]),
        );
        block
            .block
            .run_after_block()
            .unwrap_or_else(|(_, e)| panic!("after block: {e}"));
        if setting.fed {
            Fixture::set_k().feed_as_stanza(&*cache, setting.kubernetes);
        }
        let next = Recorder::new();
        let mut plugins = block.block.plugins.clone();
        plugins.push(next.clone());
        Block {
            chain: Chain::new(plugins),
            cache,
            next,
        }
    }

    /// Runs one query through the chain; panics when nothing was written.
    pub async fn ask(&self, req: &Request) -> Response {
        self.chain
            .serve(req)
            .await
            .unwrap_or_else(|f| panic!("{}: not written: {f:?}", req.qname()))
    }
}
