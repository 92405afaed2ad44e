//! A chain of forward instances (+ an optional next plugin) built from a Corefile snippet,
//! and what a client would receive from it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use plugin::test_util::{TestBlock, query};
use plugin::{Chain, ConfigError, Outcome, Plugin, Request};

use crate::{Forward, build, parse};

pub struct Harness {
    pub block: TestBlock,
    pub chain: Chain,
    pub instances: Vec<Arc<Forward>>,
}

impl Harness {
    /// Every `forward` line of `corefile` as its own instance, in order, then `after`.
    pub fn new(corefile: &str, after: Option<Arc<dyn Plugin>>) -> Harness {
        let mut block = TestBlock::new(&["."]);
        let mut instances = Vec::new();
        block
            .setup(corefile, |s| {
                for config in parse(&mut s.d)? {
                    instances.push(Arc::new(build(&config, s)?));
                }
                Ok::<(), ConfigError>(())
            })
            .unwrap_or_else(|e| panic!("{corefile}: {e}"));
        let mut plugins: Vec<Arc<dyn Plugin>> = instances
            .iter()
            .map(|f| f.clone() as Arc<dyn Plugin>)
            .collect();
        plugins.extend(after);
        Harness {
            block,
            chain: Chain::new(plugins),
            instances,
        }
    }

    pub async fn ask(&self, req: &Request) -> Outcome {
        self.chain.serve(req).await
    }

    /// The exposition text of the block's metrics hub.
    pub fn metrics(&self) -> String {
        self.block.services.metrics.encode_text().unwrap()
    }

    pub fn upstream(&self, instance: usize, index: usize) -> &crate::Upstream {
        &self.instances[instance].upstreams()[index]
    }
}

/// `forward . ADDRS` with `options` as block lines.
pub fn corefile(addrs: &[SocketAddr], options: &[&str]) -> String {
    let to: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    stanza(".", &to.join(" "), options)
}

pub fn stanza(from: &str, to: &str, options: &[&str]) -> String {
    if options.is_empty() {
        return format!("forward {from} {to}");
    }
    format!("forward {from} {to} {{\n{}\n}}", options.join("\n"))
}

/// `NAME A` over UDP, no EDNS, ID 4242.
pub fn a_query(name: &str) -> Request {
    query(name, RecordType::A).build()
}

/// The reply a client would decode: the server's encoding of the outcome (an error reply
/// for a failure the core answers).
pub fn client_view(req: &Request, outcome: &Outcome) -> Message {
    let response = match outcome {
        Ok(r) => r.clone(),
        Err(f) => plugin::Response::error_to(req, f.rcode),
    };
    let mut out = Vec::new();
    plugin::wire::encode_reply(req, &response, &mut out).unwrap();
    Message::from_vec(&out).unwrap()
}

pub fn rcode_of(outcome: &Outcome) -> ResponseCode {
    match outcome {
        Ok(r) => r.rcode,
        Err(f) => f.rcode,
    }
}

/// The value of the series of `family` whose labels contain every one of `labels`
/// (`name="value"` pairs), or 0 when there is none.
pub fn series(text: &str, family: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(family))
        .filter(|l| {
            let rest = &l[family.len()..];
            rest.starts_with('{') || rest.starts_with(' ')
        })
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A file under the temp dir, unique per call, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(content: &str) -> TempFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "clusterdns-forward-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
