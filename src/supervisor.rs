//! The running server: the current [`Instance`], its DNS listeners and the HTTP servers.
//! Starts an instance, swaps in a new one without losing a query, and shuts down in CoreDNS's
//! order.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plugin::http::HttpRole;
use plugin::metrics::{DnsMetrics, MetricsHub};
use plugin::os_error::go_reason;

use crate::assemble::{Instance, ListenerPlan};
use crate::server::{Listener, ListenerOptions, ServerResolver, ZoneTable};
use crate::services::http::{HttpError, HttpServers};

/// How long stopping listeners wait for queries in flight (corefile.md §7.4).
pub const GRACE: Duration = Duration::from_secs(5);

/// Why an instance could not be started or swapped in.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Go's text, which operators grep for: `Listen: listen tcp :53: bind: address already in use`.
    #[error("Listen: listen {proto} {addr}: bind: {}", go_reason(source))]
    Listen {
        proto: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A stop signal arrived while the instance waited for its `before_serving` gates.
    #[error("stopped while waiting for plugins to be ready to serve")]
    Interrupted,
}

pub struct Supervisor {
    metrics: Arc<MetricsHub>,
    dns_metrics: Arc<DnsMetrics>,
    http: HttpServers,
    listeners: HashMap<SocketAddr, Listener>,
    current: Instance,
    options: ListenerOptions,
}

fn table_for(plan: &ListenerPlan) -> Arc<ZoneTable> {
    let mut table = ZoneTable::new();
    for (zone, chain) in &plan.zones {
        table.insert(zone.clone(), chain.clone());
    }
    table.set_allow_other_classes(plan.allow_other_classes);
    table.set_recover_panics(plan.recover_panics);
    table.set_stacktrace(plan.stacktrace);
    Arc::new(table)
}

/// The zone tables of `instance`'s listener plans (same order), and its `Upstream` bound to
/// them: a lookup is served by the tables of the listener that received the query. The
/// listeners and the resolver share these tables, so a reload binds the new instance's
/// handle to the new tables.
fn tables_and_upstream(instance: &Instance) -> Vec<Arc<ZoneTable>> {
    let tables: Vec<_> = instance.listeners.iter().map(table_for).collect();
    let mut resolver = ServerResolver::new();
    for (plan, table) in instance.listeners.iter().zip(&tables) {
        resolver.add(plan.identity.clone(), table);
    }
    instance.services.upstream.bind(Arc::new(resolver));
    tables
}

/// Awaits every `before_serving` gate of the instance at once, unless `interrupt` (a stop
/// signal) comes first: false then.
async fn pass_gates(
    services: &mut plugin::setup::InstanceServices,
    interrupt: impl Future<Output = ()>,
) -> bool {
    let gates = std::mem::take(&mut services.before_serving);
    if gates.is_empty() {
        return true;
    }
    tokio::select! {
        biased;
        _ = interrupt => false,
        _ = futures_util::future::join_all(gates) => true,
    }
}

/// The wildcard `[::]` is opened next to `0.0.0.0` when the host has IPv6; without it only
/// the IPv4 wildcard serves.
fn optional(plan: &ListenerPlan, error: &std::io::Error) -> bool {
    plan.addr.ip().is_unspecified()
        && plan.addr.is_ipv6()
        && matches!(
            error.raw_os_error(),
            Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL)
        )
}

impl Supervisor {
    /// Starts `instance`: HTTP endpoints first, then the instance's `before_serving` gates
    /// (all at once), then the DNS sockets (cli-and-endpoints.md §3; kubernetes.md §9: nothing
    /// answers DNS before the caches synced or gave up, while `/health` and `/ready` do).
    /// `interrupt` (a stop signal) ends the wait: the instance is retired and nothing serves.
    pub async fn start(
        mut instance: Instance,
        metrics: Arc<MetricsHub>,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Supervisor, StartError> {
        let http = HttpServers::new();
        if let Err(error) = http.apply(instance.services.routes.clone()).await {
            retire(instance).await;
            return Err(error.into());
        }
        if !pass_gates(&mut instance.services, interrupt).await {
            retire(instance).await;
            return Err(StartError::Interrupted);
        }
        let tables = tables_and_upstream(&instance);
        let mut supervisor = Supervisor {
            dns_metrics: metrics.get::<DnsMetrics>(),
            metrics,
            http,
            listeners: HashMap::new(),
            current: instance,
            options: ListenerOptions::default(),
        };
        let bound = supervisor
            .bind_missing(&supervisor.current.listeners, &tables)
            .await;
        match bound {
            Ok(fresh) => supervisor.listeners = fresh,
            Err(error) => {
                let Supervisor { current, .. } = supervisor;
                retire(current).await;
                return Err(error);
            }
        }
        plugin::log::set_debug(supervisor.current.debug);
        run_serving_hooks(&mut supervisor.current);
        Ok(supervisor)
    }

    pub fn instance(&self) -> &Instance {
        &self.current
    }

    pub fn metrics(&self) -> &Arc<MetricsHub> {
        &self.metrics
    }

    /// Bound addresses (tests start on port 0).
    pub fn dns_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.values().map(Listener::local_addr).collect()
    }

    pub fn http(&self) -> &HttpServers {
        &self.http
    }

    /// Binds the plans whose address has no listener yet, each serving its table (`tables`
    /// is in plan order). On failure the ones bound here are closed again and nothing else
    /// changed.
    async fn bind_missing(
        &self,
        plans: &[ListenerPlan],
        tables: &[Arc<ZoneTable>],
    ) -> Result<HashMap<SocketAddr, Listener>, StartError> {
        let mut fresh = HashMap::new();
        for (plan, table) in plans
            .iter()
            .zip(tables)
            .filter(|(p, _)| !self.listeners.contains_key(&p.addr))
        {
            let bound = Listener::bind(
                plan.addr,
                plan.identity.clone(),
                table.clone(),
                self.dns_metrics.clone(),
                self.options.clone(),
            )
            .await;
            match bound {
                Ok(listener) => {
                    fresh.insert(plan.addr, listener);
                }
                Err(error) if optional(plan, &error) => {}
                Err(source) => {
                    for (_, listener) in fresh {
                        listener.stop(Duration::ZERO).await;
                    }
                    return Err(StartError::Listen {
                        proto: "tcp",
                        addr: listen_text(plan.addr),
                        source,
                    });
                }
            }
        }
        Ok(fresh)
    }

    /// Swaps in `next`. First its `before_serving` gates are awaited while the running
    /// instance keeps serving (`interrupt`, a stop signal, ends the wait: `Interrupted`).
    /// Everything that can fail (new sockets, HTTP binds) happens before the switch; on
    /// failure the running instance keeps serving untouched and `next` is retired (its tasks
    /// stopped). Listeners on unchanged addresses keep their sockets and only get the new zone
    /// table, so no query is lost (queries in flight finish on the old chains).
    pub async fn replace(
        &mut self,
        mut next: Instance,
        interrupt: impl Future<Output = ()>,
    ) -> Result<(), StartError> {
        if !pass_gates(&mut next.services, interrupt).await {
            retire(next).await;
            return Err(StartError::Interrupted);
        }
        let tables = tables_and_upstream(&next);
        let mut fresh = match self.bind_missing(&next.listeners, &tables).await {
            Ok(fresh) => fresh,
            Err(error) => {
                retire(next).await;
                return Err(error);
            }
        };
        if let Err(error) = self.http.apply(next.services.routes.clone()).await {
            for (_, listener) in fresh.drain() {
                listener.stop(Duration::ZERO).await;
            }
            // Put the running routes back; they were bound before, so this does not fail in
            // practice, and if it did the old endpoints would only be missing, not wrong.
            let _ = self.http.apply(self.current.services.routes.clone()).await;
            retire(next).await;
            return Err(error.into());
        }
        for (plan, table) in next.listeners.iter().zip(&tables) {
            if let Some(listener) = self.listeners.get(&plan.addr) {
                listener.swap_table(table.clone());
            }
        }
        let wanted: std::collections::HashSet<_> = next.listeners.iter().map(|p| p.addr).collect();
        let gone: Vec<SocketAddr> = self
            .listeners
            .keys()
            .filter(|a| !wanted.contains(a))
            .copied()
            .collect();
        for addr in gone {
            if let Some(listener) = self.listeners.remove(&addr) {
                tokio::spawn(listener.stop(GRACE));
            }
        }
        self.listeners.extend(fresh);
        plugin::log::set_debug(next.debug);
        let old = std::mem::replace(&mut self.current, next);
        run_serving_hooks(&mut self.current);
        retire(old).await;
        Ok(())
    }

    /// The SIGTERM/SIGINT sequence of cli-and-endpoints.md §5.1. DNS answers throughout.
    pub async fn shutdown(self, stop_listeners: bool, before_listeners: impl FnOnce()) {
        let Supervisor {
            http,
            listeners,
            current,
            ..
        } = self;
        let lameduck = current.services.lameduck;
        let readiness = current.services.readiness.clone();
        retire(current).await;
        readiness.set_shutting_down();
        http.close_role(HttpRole::Ready).await;
        if let Some(lameduck) = lameduck.filter(|d| !d.is_zero()) {
            plugin::log::info(
                Some("health"),
                format_args!(
                    "Going into lameduck mode for {}",
                    plugin::duration::format(lameduck)
                ),
            );
            tokio::time::sleep(lameduck).await;
        }
        http.close_role(HttpRole::Health).await;
        http.close_role(HttpRole::Metrics).await;
        before_listeners();
        if stop_listeners {
            let stops: Vec<_> = listeners
                .into_values()
                .map(|l| tokio::spawn(l.stop(GRACE)))
                .collect();
            for stop in stops {
                let _ = stop.await;
            }
        }
    }
}

/// The instance's `Setup::on_serving` hooks, once its listeners serve it.
fn run_serving_hooks(instance: &mut Instance) {
    for hook in instance.services.on_serving.drain(..) {
        hook();
    }
}

/// Stops an instance that no longer serves: its shutdown hooks (errors flushes its windows),
/// then its background tasks.
async fn retire(instance: Instance) {
    let mut services = instance.services;
    for hook in services.shutdown_hooks.drain(..) {
        hook().await;
    }
    services.tasks.stop().await;
}

/// `:53`, `127.0.0.1:53`, `[::1]:53` as Go prints listen addresses.
fn listen_text(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!(":{}", addr.port())
    } else {
        addr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::{self, Options};
    use crate::corefile::Source;
    use crate::server::testing::{UdpClient, query, wire};
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::{Name, RecordType};
    use plugin::{Next, Plugin, Reply, Request, Response, Upstream};
    use std::net::Ipv4Addr;
    use tokio::sync::oneshot;

    /// A port free on 127.0.0.1 for UDP and TCP now.
    fn free_port() -> u16 {
        loop {
            let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let port = udp.local_addr().unwrap().port();
            if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return port;
            }
        }
    }

    fn instance(corefile: &str) -> Instance {
        let source = Source {
            name: Arc::from("Corefile"),
            text: corefile.as_bytes().to_vec(),
            dir: std::path::PathBuf::from("."),
        };
        let options = Options {
            default_port: "53",
            metrics: Arc::new(MetricsHub::new()),
            env: &|_| None,
        };
        assemble::assemble(&source, &options).expect("test Corefile assembles")
    }

    async fn rcode(addr: SocketAddr, name: &str) -> ResponseCode {
        let client = UdpClient::new(addr).await;
        client
            .ask(&wire(&query(name, RecordType::A)))
            .await
            .metadata
            .response_code
    }

    /// Waits until something accepts TCP connections on `addr` (the HTTP server binds
    /// while `start` runs in the same task).
    async fn until_listening(addr: SocketAddr) {
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn start_serves_dns_only_after_the_gates_with_http_up_meanwhile() {
        let port = free_port();
        let health = free_port();
        let mut instance = instance(&format!(
            "a.test.:{port} {{\n bind 127.0.0.1\n whoami\n health 127.0.0.1:{health}\n}}\n"
        ));
        let (open, gate) = oneshot::channel::<()>();
        instance.services.before_serving.push(Box::pin(async move {
            let _ = gate.await;
        }));
        let dns = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let probe = async move {
            until_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, health))).await;
            // HTTP is up and the gate is closed: nothing listens for DNS.
            let refused = tokio::net::TcpStream::connect(dns).await.is_err();
            open.send(()).unwrap();
            refused
        };
        let metrics = Arc::new(MetricsHub::new());
        let (started, refused_while_waiting) = tokio::join!(
            Supervisor::start(instance, metrics, std::future::pending()),
            probe
        );
        assert!(
            refused_while_waiting,
            "DNS was served before the gate opened"
        );
        let supervisor = started.expect("starts once the gate opened");
        assert_eq!(rcode(dns, "x.a.test.").await, ResponseCode::NoError);
        supervisor.shutdown(true, || {}).await;
    }

    #[tokio::test]
    async fn a_stop_signal_ends_the_wait_and_retires_the_instance() {
        let port = free_port();
        let mut instance = instance(&format!(
            "a.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        ));
        instance
            .services
            .before_serving
            .push(Box::pin(std::future::pending()));
        let tasks = instance.services.tasks.clone();
        tasks.spawn(std::future::pending());
        let started = Supervisor::start(instance, Arc::new(MetricsHub::new()), async {}).await;
        assert!(matches!(started, Err(StartError::Interrupted)));
        assert!(tasks.is_cancelled(), "the instance's tasks are stopped");
        let dns = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(tokio::net::TcpStream::connect(dns).await.is_err());
    }

    #[tokio::test]
    async fn a_reload_waits_for_the_new_gates_while_the_old_instance_serves() {
        let port = free_port();
        let dns = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let old = instance(&format!(
            "a.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        ));
        let mut supervisor = Supervisor::start(old, Arc::new(MetricsHub::new()), async {})
            .await
            .unwrap();
        let mut next = instance(&format!(
            "a.test.:{port} b.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        ));
        // The gate asks the server while it holds the new instance back.
        let (report, seen) = oneshot::channel();
        next.services.before_serving.push(Box::pin(async move {
            let answers = (rcode(dns, "x.a.test.").await, rcode(dns, "x.b.test.").await);
            let _ = report.send(answers);
        }));
        supervisor
            .replace(next, std::future::pending())
            .await
            .unwrap();
        assert_eq!(
            seen.await.unwrap(),
            (ResponseCode::NoError, ResponseCode::Refused),
            "during the wait the old instance answered"
        );
        assert_eq!(rcode(dns, "x.b.test.").await, ResponseCode::NoError);

        // A stop signal during a reload's wait: the old instance keeps serving, the new
        // one is retired.
        let mut stuck = instance(&format!(
            "c.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        ));
        stuck
            .services
            .before_serving
            .push(Box::pin(std::future::pending()));
        let tasks = stuck.services.tasks.clone();
        let result = supervisor.replace(stuck, async {}).await;
        assert!(matches!(result, Err(StartError::Interrupted)));
        assert!(tasks.is_cancelled());
        assert_eq!(rcode(dns, "x.b.test.").await, ResponseCode::NoError);
        assert_eq!(rcode(dns, "x.c.test.").await, ResponseCode::Refused);
        supervisor.shutdown(true, || {}).await;
    }

    /// Answers a query by looking `www.b.test. A` up through the server and returning what
    /// came back (NXDOMAIN when nothing did).
    struct LooksUpB {
        upstream: Upstream,
    }

    impl Plugin for LooksUpB {
        fn name(&self) -> &'static str {
            "looksupb"
        }

        fn serve<'a>(&'a self, req: &'a Request, _next: Next<'a>) -> Reply<'a> {
            Reply::pending(async move {
                let name = Name::from_ascii("www.b.test.").unwrap();
                match self.upstream.lookup(req, name, RecordType::A).await {
                    Some(found) => Ok(found),
                    None => Ok(Response::error_to(req, ResponseCode::NXDomain)),
                }
            })
        }
    }

    /// Puts [`LooksUpB`] in front of the `a.test.` zone of every listener plan.
    fn with_lookup_in_a(mut instance: Instance) -> Instance {
        let upstream = instance.services.upstream.clone();
        let plugin: Arc<dyn Plugin> = Arc::new(LooksUpB { upstream });
        for plan in &mut instance.listeners {
            for (zone, chain) in &mut plan.zones {
                if zone == "a.test." {
                    *chain = plugin::Chain::new(vec![plugin.clone()]);
                }
            }
        }
        instance
    }

    /// The additional section of a reply as text (whoami puts the client there).
    async fn additional(addr: SocketAddr, name: &str) -> (ResponseCode, Vec<String>) {
        let client = UdpClient::new(addr).await;
        let reply = client.ask(&wire(&query(name, RecordType::A))).await;
        let records = reply.additionals.iter().map(|r| r.to_string()).collect();
        (reply.metadata.response_code, records)
    }

    #[tokio::test]
    async fn the_upstream_is_bound_to_the_tables_of_each_instance() {
        let port = free_port();
        let dns = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let first = with_lookup_in_a(instance(&format!(
            "a.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\nb.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        )));
        assert!(!first.services.upstream.is_bound());
        let mut supervisor = Supervisor::start(first, Arc::new(MetricsHub::new()), async {})
            .await
            .unwrap();
        // whoami of the b.test. block answered the lookup for www.b.test.
        let (rcode, records) = additional(dns, "x.a.test.").await;
        assert_eq!(rcode, ResponseCode::NoError);
        assert!(
            records
                .iter()
                .any(|r| r.starts_with("www.b.test. 0 IN A 127.0.0.1")),
            "{records:?}"
        );

        // The new instance has no b.test. zone: its lookups find no zone (None).
        let second = with_lookup_in_a(instance(&format!(
            "a.test.:{port} {{\n bind 127.0.0.1\n whoami\n}}\n"
        )));
        supervisor
            .replace(second, std::future::pending())
            .await
            .unwrap();
        assert!(supervisor.instance().services.upstream.is_bound());
        let (rcode, _) = additional(dns, "x.a.test.").await;
        assert_eq!(rcode, ResponseCode::NXDomain);
        supervisor.shutdown(true, || {}).await;
    }

    #[test]
    fn listen_errors_read_like_go() {
        let error = StartError::Listen {
            proto: "tcp",
            addr: listen_text("0.0.0.0:53".parse().unwrap()),
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        };
        assert_eq!(
            error.to_string(),
            "Listen: listen tcp :53: bind: address already in use"
        );
        assert_eq!(
            listen_text("127.0.0.1:1053".parse().unwrap()),
            "127.0.0.1:1053"
        );
    }
}
