//! Plain tokio clients for the fake upstream's tests: queries built with hickory, sent over
//! UDP, TCP (2-byte framing) and TLS.
#![allow(dead_code)] // each test binary uses part of it

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Long enough never to matter on a loaded machine; only bounds a test that would hang.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test name")
}

/// A recursive A query for `qname` with ID `id`, no EDNS.
pub fn query(id: u16, qname: &str) -> Message {
    query_type(id, qname, RecordType::A)
}

pub fn query_type(id: u16, qname: &str, qtype: RecordType) -> Message {
    let mut message = Message::query();
    message.metadata.id = id;
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name(qname), qtype));
    message
}

/// `query` with an OPT record: payload `size`, DO bit, no options.
pub fn query_with_edns(id: u16, qname: &str, size: u16, dnssec_ok: bool) -> Message {
    let mut message = query(id, qname);
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    edns.set_dnssec_ok(dnssec_ok);
    message.edns = Some(edns);
    message
}

pub fn wire(message: &Message) -> Vec<u8> {
    message.to_vec().expect("encode test query")
}

pub fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).expect("a DNS message from the fake upstream")
}

/// A UDP client socket connected to `to`.
pub async fn udp_client(to: SocketAddr) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind udp client");
    socket.connect(to).await.expect("connect udp client");
    socket
}

/// The next datagram on `socket`, waiting at most PATIENCE.
pub async fn recv_datagram(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 65535];
    let len = tokio::time::timeout(PATIENCE, socket.recv(&mut buf))
        .await
        .expect("a datagram in time")
        .expect("udp receive");
    buf.truncate(len);
    buf
}

/// Send `message` over a fresh UDP socket and return the first reply.
pub async fn udp_exchange(to: SocketAddr, message: &Message) -> Message {
    let socket = udp_client(to).await;
    socket.send(&wire(message)).await.expect("udp send");
    decode(&recv_datagram(&socket).await)
}

pub async fn tcp_client(to: SocketAddr) -> TcpStream {
    TcpStream::connect(to).await.expect("tcp connect")
}

pub async fn write_frame<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("frame fits");
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(bytes);
    stream.write_all(&frame).await.expect("stream write");
    stream.flush().await.expect("stream flush");
}

/// The next length-prefixed message, or the read error (EOF, reset), waiting at most
/// PATIENCE.
pub async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let read = async {
        let mut prefix = [0u8; 2];
        stream.read_exact(&mut prefix).await?;
        let mut bytes = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut bytes).await?;
        Ok(bytes)
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("a frame or an error in time")
}

/// Send `message` on a fresh TCP connection and return the reply.
pub async fn tcp_exchange(to: SocketAddr, message: &Message) -> Message {
    let mut stream = tcp_client(to).await;
    write_frame(&mut stream, &wire(message)).await;
    decode(&read_frame(&mut stream).await.expect("tcp reply"))
}

/// A TLS client trusting only `ca_pem`, connecting to `to` and verifying `server_name`.
pub async fn tls_client(
    to: SocketAddr,
    ca_pem: &str,
    server_name: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(certificate.expect("CA PEM"))
            .expect("CA certificate");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let server_name = ServerName::try_from(server_name.to_string()).expect("server name");
    let tcp = TcpStream::connect(to).await?;
    connector.connect(server_name, tcp).await
}
