//! Health checking (plugins-resolution.md §1.8): a failed exchange starts a probe loop for
//! its upstream, which asks `DOMAIN NS` until it gets any reply, counting failures.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use plugin::tasks::Tasks;

use crate::config::HealthCheck;
use crate::upstream::Upstream;

/// `health_check 0` probes back to back; this pause keeps an upstream that refuses at once
/// (ICMP unreachable) from turning the loop into a busy spin (README, Compatibility).
const MIN_PAUSE: Duration = Duration::from_millis(10);

pub struct HealthChecker {
    /// The probe query with ID 0; each probe sends it with a fresh random ID.
    message: Arc<[u8]>,
    interval: Duration,
    /// `force_tcp`: probes over TCP too (TLS upstreams always probe over TLS).
    force_tcp: bool,
    tasks: Tasks,
}

/// `DOMAIN NS IN`, RD as configured, no EDNS.
pub fn probe_message(check: &HealthCheck) -> Vec<u8> {
    let mut message = Message::new(0, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = check.recursion_desired;
    let name = Name::from_ascii(&check.domain).unwrap_or_else(|_| Name::root());
    let mut query = Query::query(name, RecordType::NS);
    query.set_query_class(DNSClass::IN);
    message.add_query(query);
    // A name and type that always encode; an empty message would only fail probes.
    message.to_vec().unwrap_or_default()
}

impl HealthChecker {
    pub fn new(check: &HealthCheck, force_tcp: bool, tasks: Tasks) -> Self {
        HealthChecker {
            message: probe_message(check).into(),
            interval: check.interval.max(MIN_PAUSE),
            force_tcp,
            tasks,
        }
    }

    /// Starts the probe loop of `upstream` unless one is running.
    pub fn trigger(&self, upstream: &Arc<Upstream>) {
        if !upstream.start_probing() {
            return;
        }
        let upstream = upstream.clone();
        let message = self.message.clone();
        let interval = self.interval;
        let force_tcp = self.force_tcp;
        self.tasks.spawn(async move {
            loop {
                match upstream.transport.probe(&message, force_tcp).await {
                    Ok(()) => {
                        upstream.probe_succeeded();
                        break;
                    }
                    Err(_) => {
                        upstream.transport.metrics().healthcheck_failure();
                        upstream.probe_failed();
                        tokio::time::sleep(interval).await;
                    }
                }
            }
            upstream.stop_probing();
        });
    }
}
