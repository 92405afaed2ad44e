//! Starts the real `clusterdns` binary on 127.0.0.1 and talks to it over real sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};

/// How long a test waits for something the server should do promptly. Generous because CI
/// machines are slow; tests never assert on speed.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A port free on 127.0.0.1 for both UDP and TCP right now.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// A fresh directory for one test's files, removed when dropped.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(name: &str) -> TempDir {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "clusterdns-it-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        name
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

/// Output of a process, collected by a reader thread.
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<String>>);

impl Output {
    fn collect(self, stream: impl Read + Send + 'static) {
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                self.0.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    /// Waits until the output contains `needle`.
    pub fn wait_for(&self, needle: &str) -> bool {
        wait_until(|| self.text().contains(needle))
    }
}

pub fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    condition()
}

/// A running server process. Killed when dropped.
pub struct Server {
    pub child: Child,
    pub stdout: Output,
    pub stderr: Output,
    pub dir: TempDir,
    pub port: u16,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_clusterdns")
}

impl Server {
    /// Writes `corefile` (with `PORT` replaced by a free port) into a temp dir and starts
    /// `clusterdns -conf Corefile` there, waiting until it answers DNS on that port.
    pub fn start(corefile: &str) -> Server {
        let port = free_port();
        let server = Server::spawn_with(&corefile.replace("PORT", &port.to_string()), port, &[]);
        assert!(
            wait_until(|| server.alive_on_dns()),
            "server did not come up\nstdout:\n{}\nstderr:\n{}",
            server.stdout.text(),
            server.stderr.text()
        );
        server
    }

    /// Starts without waiting (for startup-failure tests); `extra` flags follow `-conf`.
    pub fn spawn_with(corefile: &str, port: u16, extra: &[&str]) -> Server {
        let dir = temp_dir("server");
        std::fs::write(dir.join("Corefile"), corefile).unwrap();
        let mut child = Command::new(binary())
            .current_dir(&dir)
            .arg("-conf")
            .arg("Corefile")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn clusterdns");
        let (stdout, stderr) = (Output::default(), Output::default());
        stdout.clone().collect(child.stdout.take().unwrap());
        stderr.clone().collect(child.stderr.take().unwrap());
        Server {
            child,
            stdout,
            stderr,
            dir,
            port,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    fn alive_on_dns(&self) -> bool {
        let q = query_message("alive.probe.", RecordType::A, 1);
        udp_exchange(
            self.addr(),
            &q.to_vec().unwrap(),
            Duration::from_millis(200),
        )
        .is_some()
    }

    pub fn udp(&self, name: &str, qtype: RecordType) -> Message {
        udp(self.addr(), &query_message(name, qtype, rand_id()))
    }

    pub fn tcp(&self, name: &str, qtype: RecordType) -> Message {
        tcp(self.addr(), &query_message(name, qtype, rand_id()))
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg("-s")
            .arg(sig)
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit and returns its status code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn write_corefile(&self, corefile: &str) {
        std::fs::write(
            self.dir.join("Corefile"),
            corefile.replace("PORT", &self.port.to_string()),
        )
        .unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion with `args` in `dir`; returns (exit code, stdout, stderr).
pub fn run_binary(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(binary())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn rand_id() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    (NEXT.fetch_add(7919, Ordering::Relaxed) % 65_535) as u16
}

pub fn query_message(name: &str, qtype: RecordType, id: u16) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m
}

pub fn with_class(mut m: Message, class: DNSClass) -> Message {
    let mut q = m.queries[0].clone();
    q.set_query_class(class);
    m.queries = vec![q];
    m
}

pub fn with_edns(mut m: Message, size: u16, version: u8, dnssec_ok: bool) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    edns.set_version(version);
    edns.set_dnssec_ok(dnssec_ok);
    m.set_edns(edns);
    m
}

/// Sends raw bytes over UDP and returns the raw reply, if one comes within `wait`.
pub fn udp_exchange(addr: SocketAddr, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    socket.send_to(packet, addr).unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

pub fn udp(addr: SocketAddr, query: &Message) -> Message {
    let reply =
        udp_exchange(addr, &query.to_vec().unwrap(), Duration::from_secs(5)).expect("UDP reply");
    Message::from_vec(&reply).expect("reply parses")
}

pub fn tcp(addr: SocketAddr, query: &Message) -> Message {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let bytes = query.to_vec().unwrap();
    stream
        .write_all(&(bytes.len() as u16).to_be_bytes())
        .unwrap();
    stream.write_all(&bytes).unwrap();
    Message::from_vec(&read_framed(&mut stream).expect("TCP reply")).expect("reply parses")
}

pub fn read_framed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

pub fn rcode(m: &Message) -> ResponseCode {
    m.metadata.response_code
}

/// A plain HTTP/1.1 GET; returns (status, body) or None when the connection is refused.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, dechunk(&response, body)))
}

fn dechunk(head: &str, body: String) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body;
    }
    let mut out = String::new();
    let mut rest = body.as_str();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// The value of one series in a Prometheus text exposition, matched by name and label
/// subset (labels in any order).
pub fn metric_value(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let all = labels.iter().all(|(k, v)| {
                label_text
                    .split(',')
                    .any(|pair| pair == format!("{k}=\"{v}\""))
            });
            all.then(|| value.parse().ok()).flatten()
        })
}

/// A fake upstream (tests/fake-upstream) on a runtime of its own, so the synchronous tests
/// here can use it; it serves as long as this value lives. Derefs to the fake.
pub struct LocalUpstream {
    fake: fake_upstream::FakeUpstream,
    _runtime: tokio::runtime::Runtime,
}

impl LocalUpstream {
    pub fn start(
        script: impl Fn(&fake_upstream::Seen) -> fake_upstream::Action + Send + Sync + 'static,
    ) -> LocalUpstream {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let fake = runtime
            .block_on(fake_upstream::FakeUpstream::start(script))
            .expect("fake upstream starts");
        LocalUpstream {
            fake,
            _runtime: runtime,
        }
    }
}

impl std::ops::Deref for LocalUpstream {
    type Target = fake_upstream::FakeUpstream;

    fn deref(&self) -> &fake_upstream::FakeUpstream {
        &self.fake
    }
}
