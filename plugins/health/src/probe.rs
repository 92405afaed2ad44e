//! The self-probe: once a second the plugin GETs its own `/health` and records how long that
//! took (CoreDNS `overloaded.go`). A slow local answer means an overloaded process.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use plugin::duration;
use plugin::http::{AddrError, split_host_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, MissedTickBehavior};

use crate::NAME;
use crate::metrics::HealthMetrics;

pub const PERIOD: Duration = Duration::from_secs(1);
/// CoreDNS's client timeout for the probe.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// A *local* request taking longer than this is logged (CoreDNS: "1s is pretty random").
const SLOW: Duration = Duration::from_secs(1);
/// The status line fits in this; a longer one is not HTTP.
const MAX_STATUS_LINE: usize = 1024;

/// Where the probe connects and the URL its warnings name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `host:port` to connect to (`[::1]:8080` for IPv6).
    authority: String,
    url: String,
}

impl Target {
    /// The probe target of `health ADDR`: a listener on all interfaces (empty or unspecified
    /// host) is probed through `localhost`, as Go dials the local system for such addresses.
    pub fn new(addr: &str) -> Result<Target, AddrError> {
        let (host, port) = split_host_port(addr)?;
        let host = match host.parse::<std::net::IpAddr>() {
            _ if host.is_empty() => "localhost",
            Ok(ip) if ip.is_unspecified() => "localhost",
            _ => host,
        };
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let url = format!("http://{authority}{}", crate::health::PATH);
        Ok(Target { authority, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Why a probe got no HTTP answer; displayed like Go's client errors.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("dial tcp {authority}: {source}")]
    Dial {
        authority: String,
        source: io::Error,
    },
    #[error("{0}")]
    Io(io::Error),
    #[error("malformed HTTP response {0:?}")]
    Malformed(String),
    #[error("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")]
    Timeout,
}

/// One GET of the health URL, successful once a status line came back (any status, as Go's
/// client only fails without a response).
pub async fn probe_once(target: &Target, timeout: Duration) -> Result<(), ProbeError> {
    tokio::time::timeout(timeout, exchange(target))
        .await
        .map_err(|_| ProbeError::Timeout)?
}

async fn exchange(target: &Target) -> Result<(), ProbeError> {
    let mut stream = TcpStream::connect(target.authority.as_str())
        .await
        .map_err(|source| ProbeError::Dial {
            authority: target.authority.clone(),
            source,
        })?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: clusterdns-health\r\nConnection: close\r\n\r\n",
        crate::health::PATH,
        target.authority
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(ProbeError::Io)?;
    let mut head = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    let line_end = loop {
        if let Some(end) = head.windows(2).position(|w| w == b"\r\n") {
            break end;
        }
        if head.len() > MAX_STATUS_LINE {
            break head.len();
        }
        let n = stream.read(&mut chunk).await.map_err(ProbeError::Io)?;
        if n == 0 {
            return Err(ProbeError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        head.extend_from_slice(&chunk[..n]);
    };
    let line = String::from_utf8_lossy(&head[..line_end]);
    if is_status_line(&line) {
        Ok(())
    } else {
        Err(ProbeError::Malformed(line.into_owned()))
    }
}

/// `HTTP/1.x NNN reason`.
fn is_status_line(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    version.starts_with("HTTP/1.") && code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Probes every `period` (first after one period, like Go's ticker) until the instance stops.
pub async fn run(target: Target, metrics: Arc<HealthMetrics>, period: Duration, timeout: Duration) {
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    // Go's ticker drops ticks a slow probe missed instead of bursting.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let start = Instant::now();
        let result = probe_once(&target, timeout).await;
        let elapsed = start.elapsed();
        metrics.duration.observe(elapsed.as_secs_f64());
        match result {
            Err(e) => {
                metrics.failures.inc();
                plugin::log::warning(
                    Some(NAME),
                    format_args!(
                        "Local health request to {:?} failed: Get {:?}: {e}",
                        target.url, target.url
                    ),
                );
            }
            Ok(()) if elapsed > SLOW => plugin::log::warning(
                Some(NAME),
                format_args!(
                    "Local health request to {:?} took more than 1s: {}",
                    target.url,
                    duration::format(elapsed)
                ),
            ),
            Ok(()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::metrics::MetricsHub;
    use tokio::net::TcpListener;

    #[test]
    fn targets_probe_localhost_for_wildcards() {
        let cases = [
            (":8080", "localhost:8080", "http://localhost:8080/health"),
            (
                "0.0.0.0:8080",
                "localhost:8080",
                "http://localhost:8080/health",
            ),
            (
                "[::]:8080",
                "localhost:8080",
                "http://localhost:8080/health",
            ),
            (
                "127.0.0.1:8091",
                "127.0.0.1:8091",
                "http://127.0.0.1:8091/health",
            ),
            ("[::1]:8080", "[::1]:8080", "http://[::1]:8080/health"),
            (
                "example.org:80",
                "example.org:80",
                "http://example.org:80/health",
            ),
        ];
        for (addr, authority, url) in cases {
            let t = Target::new(addr).unwrap();
            assert_eq!((t.authority.as_str(), t.url()), (authority, url), "{addr}");
        }
        assert!(Target::new("8080").is_err());
    }

    #[test]
    fn status_lines() {
        assert!(is_status_line("HTTP/1.1 200 OK"));
        assert!(is_status_line("HTTP/1.0 503 Service Unavailable"));
        assert!(!is_status_line("SSH-2.0-OpenSSH"));
        assert!(!is_status_line("HTTP/1.1 20 OK"));
    }

    /// A server that answers every connection with `reply` (or nothing when empty).
    async fn server(reply: &'static [u8]) -> (String, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                if !reply.is_empty() {
                    let _ = stream.write_all(reply).await;
                }
                held.push(stream);
            }
        });
        (addr, task)
    }

    #[tokio::test]
    async fn a_status_line_is_success() {
        let (addr, _srv) = server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK").await;
        probe_once(&Target::new(&addr).unwrap(), TIMEOUT)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn failures_by_kind() {
        let (garbage, _g) = server(b"garbage\r\n").await;
        assert!(matches!(
            probe_once(&Target::new(&garbage).unwrap(), TIMEOUT).await,
            Err(ProbeError::Malformed(_))
        ));

        let (silent, _s) = server(b"").await;
        assert!(matches!(
            probe_once(&Target::new(&silent).unwrap(), Duration::from_millis(100)).await,
            Err(ProbeError::Timeout)
        ));

        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let err = probe_once(&Target::new(&closed).unwrap(), TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Dial { .. }));
        assert!(err.to_string().starts_with(&format!("dial tcp {closed}: ")));
    }

    #[tokio::test]
    async fn the_loop_records_successes_and_failures() {
        let hub = MetricsHub::new();
        let metrics = hub.get::<HealthMetrics>();
        let (up, _srv) = server(b"HTTP/1.1 200 OK\r\n\r\n").await;
        let down = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let period = Duration::from_millis(20);
        let ok = tokio::spawn(run(
            Target::new(&up).unwrap(),
            metrics.clone(),
            period,
            TIMEOUT,
        ));
        let failing = tokio::spawn(run(
            Target::new(&down).unwrap(),
            metrics.clone(),
            period,
            TIMEOUT,
        ));
        let deadline = Instant::now() + Duration::from_secs(10);
        // Both loops observe; only the failing one counts failures.
        while metrics.failures.get() < 3 && Instant::now() < deadline {
            tokio::time::sleep(period).await;
        }
        ok.abort();
        failing.abort();
        let text = {
            let mut out = String::new();
            hub.with_registry(|r| prometheus_client::encoding::text::encode_registry(&mut out, r))
                .unwrap();
            out
        };
        let count: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("coredns_health_request_duration_seconds_count "))
            .unwrap()
            .parse()
            .unwrap();
        let failures = metrics.failures.get();
        assert!(failures >= 3, "failures recorded");
        assert!(
            count > failures,
            "successes observed too: {count} vs {failures}"
        );
    }
}
