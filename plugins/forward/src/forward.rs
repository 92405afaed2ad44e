//! The forward plugin: one instance per `forward` line (plugins-resolution.md §1.5, §1.11,
//! §1.12).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use plugin::zones::is_subdomain;
use plugin::{Error, Failure, Next, Outcome, Plugin, Reply, Request, Transport};
use tokio::time::Instant;

use crate::NAME;
use crate::config::ForwardConfig;
use crate::health::HealthChecker;
use crate::metrics::ForwardMetrics;
use crate::policy::{self, Selector};
use crate::response;
use crate::transport::ExchangeError;
use crate::transport::upstream_transport::Net;
use crate::upstream::Upstream;

/// No new attempt starts after this long (§1.8 "whole query").
const QUERY_BUDGET: Duration = Duration::from_secs(5);

/// Why forward answered SERVFAIL or REFUSED without a reply (logged by `errors`).
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("no healthy proxies")]
    NoHealthy,
    #[error("concurrent queries exceeded maximum {0}")]
    LimitExceeded(u64),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// The per-query options of one instance.
struct Rules {
    force_tcp: bool,
    prefer_udp: bool,
    max_fails: u32,
    attempt_cap: u32,
    failfast: bool,
    failover: Vec<u16>,
    next: Vec<u16>,
    next_on_nodata: bool,
    max_concurrent: u64,
}

pub struct Forward {
    from: String,
    except: Vec<String>,
    upstreams: Vec<Arc<Upstream>>,
    selector: Selector,
    rules: Rules,
    in_flight: AtomicU64,
    health: HealthChecker,
    metrics: Arc<ForwardMetrics>,
}

/// Counts a query in flight for `max_concurrent` until dropped.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Forward {
    pub fn new(
        config: &ForwardConfig,
        upstreams: Vec<Arc<Upstream>>,
        health: HealthChecker,
        metrics: Arc<ForwardMetrics>,
    ) -> Self {
        Forward {
            from: config.from.clone(),
            except: config.except.clone(),
            selector: Selector::new(config.policy),
            rules: Rules {
                force_tcp: config.force_tcp,
                prefer_udp: config.prefer_udp,
                max_fails: config.max_fails,
                attempt_cap: config.connect_attempt_cap(),
                failfast: config.failfast_all_unhealthy_upstreams,
                failover: config.failover.clone(),
                next: config.next.clone(),
                next_on_nodata: config.next_on_nodata,
                max_concurrent: config.max_concurrent,
            },
            upstreams,
            in_flight: AtomicU64::new(0),
            health,
            metrics,
        }
    }

    pub fn upstreams(&self) -> &[Arc<Upstream>] {
        &self.upstreams
    }

    /// In scope: at or below FROM, and not at or below an `except` name — except FROM
    /// itself, which is always forwarded (§1.4 `except`).
    fn in_scope(&self, qname: &str) -> bool {
        is_subdomain(&self.from, qname)
            && (qname == self.from || !self.except.iter().any(|e| is_subdomain(e, qname)))
    }

    /// Admits a query under `max_concurrent` (§1.5 step 2).
    fn admit(&self) -> Result<Option<InFlight<'_>>, ()> {
        if self.rules.max_concurrent == 0 {
            return Ok(None);
        }
        let count = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = InFlight(&self.in_flight);
        if count > self.rules.max_concurrent {
            return Err(());
        }
        Ok(Some(guard))
    }

    /// The transport asked for: `force_tcp` wins over `prefer_udp`, else the client's
    /// (§1.6; cache's background refreshes present as TCP).
    fn net_for(&self, req: &Request) -> Net {
        if self.rules.force_tcp {
            Net::Tcp
        } else if self.rules.prefer_udp {
            Net::Udp
        } else {
            match req.transport() {
                Transport::Udp => Net::Udp,
                Transport::Tcp => Net::Tcp,
            }
        }
    }

    fn hands_over(&self, rcode: ResponseCode, empty_answer: bool, next: &Next<'_>) -> bool {
        let code = u16::from(rcode);
        let wanted = self.rules.next.contains(&code)
            || (self.rules.next_on_nodata && rcode == ResponseCode::NoError && empty_answer);
        wanted && next.name() == Some(NAME)
    }

    /// §1.5 step 3 to 5.
    async fn forward<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Outcome {
        let n = self.upstreams.len();
        let order = self.selector.order(n);
        let deadline = Instant::now() + QUERY_BUDGET;
        let net = self.net_for(req);
        // UDP receive limit: the client's size, at least 512; 65535 for TCP clients (§1.10).
        let udp_limit = usize::from(req.max_reply_size()).max(512);
        let cap = self.rules.attempt_cap;
        let (mut position, mut down_seen, mut failed, mut failover_replies) = (0, 0, 0u32, 0);
        let mut last_error: Option<ExchangeError> = None;

        while Instant::now() < deadline && (cap == 0 || failed < cap) {
            if position >= n {
                position = 0;
                down_seen = 0;
            }
            let mut upstream = &self.upstreams[order.at(position)];
            position += 1;
            if upstream.is_down(self.rules.max_fails) {
                down_seen += 1;
                if down_seen < n {
                    continue;
                }
                // Every upstream is down: health checking is assumed broken (§1.8).
                self.metrics.healthcheck_broken.inc();
                if self.rules.failfast {
                    break;
                }
                upstream = &self.upstreams[policy::random_index(n)];
            }

            let mut attempt_net = net;
            let result = loop {
                let result = upstream
                    .transport
                    .exchange(req.wire(), attempt_net, udp_limit)
                    .await;
                match &result {
                    // prefer_udp: a truncated reply is asked again over TCP, same attempt.
                    Ok(reply)
                        if reply.metadata.truncation
                            && self.rules.prefer_udp
                            && !self.rules.force_tcp
                            && attempt_net == Net::Udp
                            && !upstream.transport.is_tls() =>
                    {
                        attempt_net = Net::Tcp;
                    }
                    _ => break result,
                }
            };

            let reply = match result {
                Err(ExchangeError::BadQuery) => {
                    return Err(Failure::error(
                        ResponseCode::FormErr,
                        Error::new(NAME, ExchangeError::BadQuery),
                    ));
                }
                Err(e) => {
                    if self.rules.max_fails != 0 {
                        self.health.trigger(upstream);
                    }
                    failed += 1;
                    last_error = Some(e);
                    if (cap != 0 && failed >= cap) || down_seen >= n {
                        break;
                    }
                    continue;
                }
                Ok(reply) => reply,
            };

            if !response::answers_question(req, &reply) {
                return Ok(response::format_error(req));
            }
            let rcode = reply.metadata.response_code;
            if self.rules.failover.contains(&u16::from(rcode)) {
                failover_replies += 1;
                if failover_replies < n {
                    continue;
                }
            }
            if self.hands_over(rcode, reply.answers.is_empty(), &next) {
                return next.serve(req).await;
            }
            return Ok(response::relay(reply));
        }

        let error = match last_error {
            Some(e) => ForwardError::Exchange(e),
            None => ForwardError::NoHealthy,
        };
        Err(Failure::servfail(Error::new(NAME, error)))
    }
}

impl Plugin for Forward {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        if !self.in_scope(req.qname_lower()) {
            return next.serve(req);
        }
        let guard = match self.admit() {
            Ok(guard) => guard,
            Err(()) => {
                self.metrics.max_concurrent_rejects.inc();
                return Reply::fail(Failure::error(
                    ResponseCode::Refused,
                    Error::new(NAME, ForwardError::LimitExceeded(self.rules.max_concurrent)),
                ));
            }
        };
        Reply::pending(async move {
            let _guard = guard;
            self.forward(req, next).await
        })
    }
}
