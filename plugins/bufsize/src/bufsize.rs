//! The handler: clamp the query's advertised EDNS size, then pass it on.

use plugin::{Next, Plugin, Reply, Request};

#[derive(Clone, Copy, Debug)]
pub struct Bufsize {
    size: u16,
}

impl Bufsize {
    pub fn new(size: u16) -> Self {
        Bufsize { size }
    }
}

impl Plugin for Bufsize {
    fn name(&self) -> &'static str {
        crate::NAME
    }

    /// Lowers the query's OPT UDP size to the configured one when it is larger; never raises it
    /// and never adds EDNS. As in CoreDNS the query itself is changed, so the server core echoes
    /// the clamped size to the client and truncates at it, and forward sends it upstream.
    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        req.clamp_edns_udp_size(self.size);
        next.serve(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RecordType;
    use plugin::test_util::{self, QueryBuilder, Recorder, query};
    use std::sync::{Arc, Mutex};

    /// (query, configured size, EDNS size the next plugin sees, client's reply limit)
    fn cases() -> Vec<(QueryBuilder, u16, Option<u16>, u16)> {
        let q = || query("example.org.", RecordType::A);
        vec![
            (q().edns(4096, false), 1232, Some(1232), 1232),
            (q().edns(1232, true), 1232, Some(1232), 1232),
            (q().edns(1000, false), 1232, Some(1000), 1000),
            // Never raised.
            (q().edns(512, false), 1232, Some(512), 512),
            (q().edns(4096, false), 512, Some(512), 512),
            // No EDNS: nothing added.
            (q(), 1232, None, 512),
            // TCP: the size is clamped but the reply limit stays 65535.
            (q().edns(4096, false).tcp(), 1232, Some(1232), 65535),
        ]
    }

    #[tokio::test]
    async fn clamps_the_query_then_calls_next() {
        for (builder, size, want_seen, want_limit) in cases() {
            let req = builder.build();
            let seen = Arc::new(Mutex::new(None));
            let seen_by_next = seen.clone();
            let next = Recorder::answering(move |req| {
                *seen_by_next.lock().unwrap() = Some(req.edns_udp_size());
                Ok(plugin::Response::reply_to(req, "recorder"))
            });
            let outcome = test_util::serve(Arc::new(Bufsize::new(size)), next.clone(), &req).await;
            assert_eq!(outcome.unwrap().plugin, "recorder");
            assert_eq!(next.calls(), 1);
            assert_eq!(*seen.lock().unwrap(), Some(want_seen), "size {size}");
            assert_eq!(
                req.edns_udp_size(),
                want_seen,
                "the query itself is clamped"
            );
            assert_eq!(req.max_reply_size(), want_limit);
        }
    }
}
