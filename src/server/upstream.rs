//! `plugin::Upstream` bound to the server: a plugin's lookup is served by the zone table of the
//! listener that received the query, from the top of the chain, as CoreDNS's
//! `upstream.Lookup` calls the server's `ServeDNS` with a copy of the query and a new question.
//!
//! One [`ServerResolver`] per instance, bound once when the instance's tables are built: queries
//! that never look anything up pay nothing (no per-query clone, no per-query state).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use hickory_proto::op::Query;
use hickory_proto::rr::{Name, RecordType};
use plugin::Request;
use plugin::upstream::{LookupFuture, Resolve};

use super::zones::{Routing, ZoneTable};

/// The zone tables of one instance, by listener identity (the `server` label a request
/// carries). The IPv4 and IPv6 wildcard listeners of a port share an identity and route the
/// same zones; either table serves.
#[derive(Default)]
pub struct ServerResolver {
    /// Weak: a table owns its chains, the chains own plugins, plugins own the `Upstream` that
    /// owns this resolver. A strong reference would keep every replaced instance alive; the
    /// listeners (and queries in flight) hold the tables.
    tables: HashMap<Arc<str>, Vec<Weak<ZoneTable>>>,
}

impl ServerResolver {
    pub fn new() -> Self {
        ServerResolver::default()
    }

    /// Adds the table a listener with `identity` serves.
    pub fn add(&mut self, identity: Arc<str>, table: &Arc<ZoneTable>) {
        self.tables
            .entry(identity)
            .or_default()
            .push(Arc::downgrade(table));
    }

    /// The table of the listener that received a query to `server`, while it still serves.
    fn table(&self, server: &str) -> Option<Arc<ZoneTable>> {
        self.tables.get(server)?.iter().find_map(Weak::upgrade)
    }
}

impl Resolve for ServerResolver {
    fn resolve<'a>(
        &'a self,
        origin: &'a Request,
        name: Name,
        qtype: RecordType,
    ) -> LookupFuture<'a> {
        Box::pin(async move {
            let table = self.table(origin.server())?;
            let req = new_query(origin, name, qtype)?;
            // corefile.md §7.2 steps 7–10 for the new question. The class is IN and the EDNS
            // version is the origin's, already accepted; a chain that writes nothing (a
            // failure the core would answer, or no zone: REFUSED) gives no message.
            let Routing::Serve(route) = table.route(req.qname_lower(), req.qtype()) else {
                return None;
            };
            route.chain.serve(&req).await.ok()
        })
    }
}

/// A copy of `origin` asking `name`/`qtype` (class IN), with a new random ID and RD set, as
/// miekg/dns `SetQuestion` on a copy of the query: EDNS (UDP size after any `bufsize` clamp,
/// DO, options), CD, client, local address, transport and server label are the origin's.
/// `None` when the new query cannot be encoded (a name too long once built).
fn new_query(origin: &Request, name: Name, qtype: RecordType) -> Option<Request> {
    plugin::subrequest::with_question(origin, Query::query(name, qtype), rand::random(), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::Response;

    /// A response's records, for comparing answers.
    fn answer_texts(resp: &Response) -> Vec<String> {
        resp.answers.iter().map(|r| r.to_string()).collect()
    }

    use crate::server::testing::{Fixed, chain_of};
    use hickory_proto::op::{Edns, Message, MessageType, OpCode};
    use plugin::{Chain, Next, Plugin, Reply, Transport, Upstream};
    use std::sync::Mutex;

    /// Looks `target` up through the server and answers with what came back, plus a TXT
    /// naming the ID and RD bit the looked-up query had (recorded by [`SeenBy`]).
    struct LooksUp {
        upstream: Upstream,
        target: &'static str,
    }

    impl Plugin for LooksUp {
        fn name(&self) -> &'static str {
            "looksup"
        }

        fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
            Reply::pending(async move {
                let target = Name::from_ascii(self.target).unwrap();
                match self.upstream.lookup(req, target, RecordType::A).await {
                    Some(found) => Ok(found),
                    None => Ok(Response::error_to(
                        req,
                        hickory_proto::op::ResponseCode::NXDomain,
                    )),
                }
            })
        }
    }

    /// What [`SeenBy`] notes of a query: ID, RD, EDNS size, DO, client, transport.
    type Seen = (u16, bool, Option<u16>, bool, String, Transport);
    type SeenLog = Arc<Mutex<Vec<Seen>>>;

    /// Records the queries it sees, then answers like [`Fixed`].
    struct SeenBy {
        seen: SeenLog,
        inner: Fixed,
    }

    impl Plugin for SeenBy {
        fn name(&self) -> &'static str {
            "seen"
        }

        fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
            self.seen.lock().unwrap().push((
                req.id(),
                req.recursion_desired(),
                req.edns_udp_size(),
                req.do_bit(),
                req.client().to_string(),
                req.transport(),
            ));
            self.inner.serve(req, next)
        }
    }

    fn origin(name: &str, server: &str) -> Request {
        let mut message = Message::new(7, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = false;
        message.add_query(Query::query(
            Name::from_ascii(name).unwrap(),
            RecordType::TXT,
        ));
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        edns.set_dnssec_ok(true);
        message.set_edns(edns);
        let wire = bytes::Bytes::from(message.to_vec().unwrap());
        let req = Request::from_message(
            message,
            wire,
            "10.1.2.3:5353".parse().unwrap(),
            "127.0.0.1:53".parse().unwrap(),
            Transport::Tcp,
            Arc::from(server),
        );
        // As `bufsize 1232` would have left it.
        req.clamp_edns_udp_size(1232);
        req
    }

    /// A resolver serving `table` as the listener `dns://:53`.
    fn resolver_of(table: &Arc<ZoneTable>) -> ServerResolver {
        let mut resolver = ServerResolver::new();
        resolver.add(Arc::from("dns://:53"), table);
        resolver
    }

    /// Binds `upstream` to `table` and serves `x.a.test.` from the top of the table.
    async fn serve_bound(upstream: &Upstream, table: &Arc<ZoneTable>) -> Response {
        upstream.bind(Arc::new(resolver_of(table)));
        let req = origin("x.a.test.", "dns://:53");
        let Routing::Serve(route) = table.route(req.qname_lower(), req.qtype()) else {
            panic!("a.test. routes");
        };
        route.chain.serve(&req).await.expect("answered")
    }

    /// Two blocks on one listener: `a.test.` looks a name of `b.test.` up through the server.
    fn two_blocks(upstream: &Upstream, target: &'static str) -> (Arc<ZoneTable>, SeenLog) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut table = ZoneTable::new();
        table.insert(
            "a.test.",
            chain_of(LooksUp {
                upstream: upstream.clone(),
                target,
            }),
        );
        table.insert(
            "b.test.",
            chain_of(SeenBy {
                seen: seen.clone(),
                inner: Fixed::tagged("answered by b.test"),
            }),
        );
        (Arc::new(table), seen)
    }

    #[tokio::test]
    async fn a_lookup_goes_through_another_block_and_comes_back() {
        let upstream = Upstream::new();
        let (table, seen) = two_blocks(&upstream, "www.B.test.");
        let resp = serve_bound(&upstream, &table).await;
        assert_eq!(resp.plugin, "fixed", "answered by the b.test. block");
        assert_eq!(
            answer_texts(&resp),
            ["www.B.test. 5 IN TXT answered by b.test"]
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        // The ID is random (see the_new_query_copies_...); the rest is the origin's.
        let (_id, rd, size, dnssec_ok, client, transport) = &seen[0];
        assert!(*rd, "RD set on the new query");
        assert_eq!(*size, Some(1232), "the clamped EDNS size is copied");
        assert!(*dnssec_ok, "DO copied");
        assert_eq!(client, "10.1.2.3:5353");
        assert_eq!(*transport, Transport::Tcp);
    }

    #[tokio::test]
    async fn names_outside_every_zone_and_unknown_listeners_give_none() {
        let upstream = Upstream::new();
        let (table, _) = two_blocks(&upstream, "www.elsewhere.");
        let resolver = Arc::new(resolver_of(&table));
        upstream.bind(resolver.clone());

        let req = origin("x.a.test.", "dns://:53");
        let name = Name::from_ascii("www.elsewhere.").unwrap();
        assert!(resolver.resolve(&req, name, RecordType::A).await.is_none());

        let other = origin("x.a.test.", "dns://127.0.0.2:53");
        let name = Name::from_ascii("www.b.test.").unwrap();
        assert!(
            resolver
                .resolve(&other, name.clone(), RecordType::A)
                .await
                .is_none()
        );

        // A table no listener holds any more (replaced by a reload) is not served.
        drop(table);
        assert!(resolver.resolve(&req, name, RecordType::A).await.is_none());
    }

    #[tokio::test]
    async fn a_failure_the_core_would_answer_gives_none() {
        struct Refuses;
        impl Plugin for Refuses {
            fn name(&self) -> &'static str {
                "refuses"
            }
            fn serve<'a>(&'a self, _req: &'a Request, _next: Next<'a>) -> Reply<'a> {
                Reply::fail(plugin::Failure::rcode(
                    hickory_proto::op::ResponseCode::ServFail,
                ))
            }
        }
        let mut table = ZoneTable::new();
        table.insert(".", Chain::new(vec![Arc::new(Refuses)]));
        let table = Arc::new(table);
        let resolver = resolver_of(&table);
        let req = origin("x.test.", "dns://:53");
        let name = Name::from_ascii("y.test.").unwrap();
        assert!(resolver.resolve(&req, name, RecordType::A).await.is_none());
    }

    #[tokio::test]
    async fn a_plugin_looking_itself_up_ends_at_the_depth_cap() {
        let upstream = Upstream::new();
        let mut table = ZoneTable::new();
        // x.a.test. looks up x.a.test.: itself, forever but for the cap.
        table.insert(
            "a.test.",
            chain_of(LooksUp {
                upstream: upstream.clone(),
                target: "x.a.test.",
            }),
        );
        let table = Arc::new(table);
        let resp = serve_bound(&upstream, &table).await;
        // The innermost lookup got None and answered NXDOMAIN; each level passed it up.
        assert_eq!(resp.rcode, hickory_proto::op::ResponseCode::NXDomain);
    }

    #[test]
    fn the_new_query_copies_the_origin_but_the_question_id_and_rd() {
        let req = origin("x.a.test.", "dns://:53");
        let mut seen_ids = std::collections::HashSet::new();
        for _ in 0..8 {
            let new = new_query(
                &req,
                Name::from_ascii("Y.b.test.").unwrap(),
                RecordType::AAAA,
            )
            .unwrap();
            seen_ids.insert(new.id());
            assert_eq!(new.qname_lower(), "y.b.test.");
            assert_eq!(new.qtype(), RecordType::AAAA);
            assert_eq!(new.qclass(), hickory_proto::rr::DNSClass::IN);
            assert!(new.message().metadata.recursion_desired);
            assert_eq!(new.edns_udp_size(), Some(1232));
            assert!(new.do_bit());
            assert_eq!(new.server().as_ref(), "dns://:53");
            assert_eq!(new.local(), req.local());
            // The wire form is the new query (forward sends it as is).
            let decoded = Message::from_vec(new.wire()).unwrap();
            assert_eq!(decoded.queries[0].name().to_string(), "Y.b.test.");
            assert_eq!(decoded.metadata.id, new.id());
        }
        assert!(seen_ids.len() > 1, "IDs are random");
    }
}
