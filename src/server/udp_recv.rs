//! The receive side of a UDP reader: a fixed set of reused slots that one readiness wake-up
//! fills with up to [`BATCH`] datagrams, read back one by one.
//!
//! The batch belongs to whichever task reads the socket: when a query of the batch waits on
//! its chain, the batch (with the datagrams not yet dispatched) moves to the next reader, so
//! nothing already received waits behind a slow upstream.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use std::io::IoSliceMut;
use std::os::fd::AsRawFd;

use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams read per readiness wake-up: the kernel's queue is drained in batches so one
/// wake-up of the reader (and one `sendmmsg` of the replies) serves many queries. NSD too
/// reads up to 100 datagrams per wake-up.
pub(super) const BATCH: usize = 64;

/// Message headers prepared for a receive at least; a receive prepares twice as many as the
/// previous one filled, up to [`BATCH`].
const MIN_HEADERS: usize = 8;

/// The largest datagram a slot holds. A DNS query over UDP is one question and at most an
/// OPT and a TSIG record, a few hundred bytes (4096, RFC 6891 §6.2.5's usual EDNS size, is
/// what clients accept for *responses*), so a query over 4096 bytes is not legitimate: the
/// kernel cuts it, and [`Datagram::truncated`] makes the reader answer it as undecodable
/// (FORMERR when its header is whole, silence otherwise) instead of decoding a prefix that
/// may happen to parse. Before batching, one 64 KiB buffer took any datagram whole.
pub(super) const SLOT_SIZE: usize = 4096;

/// One datagram of the batch.
pub(super) struct Datagram<'a> {
    /// What the slot holds: the whole datagram, or its first [`SLOT_SIZE`] bytes.
    pub bytes: &'a [u8],
    pub peer: SocketAddr,
    /// The datagram was longer than a slot and was cut by the kernel (MSG_TRUNC).
    pub truncated: bool,
    /// When its batch was received: one clock read serves every query of a batch.
    pub received: Instant,
}

#[derive(Clone, Copy)]
struct Received {
    slot: usize,
    len: usize,
    peer: SocketAddr,
    truncated: bool,
}

/// The slots of one socket's reader and what the last receive put in them.
#[derive(Default)]
pub(super) struct ReceiveBatch {
    /// `BATCH` slots of `SLOT_SIZE` bytes, allocated once per socket.
    slots: Vec<u8>,
    received: Vec<Received>,
    /// The next datagram to hand out.
    next: usize,
    /// Message headers the next receive prepares (see [`MIN_HEADERS`]).
    headers_wanted: usize,
    /// When the last receive returned (None before the first).
    received_at: Option<Instant>,
}

impl ReceiveBatch {
    pub fn new() -> Self {
        ReceiveBatch {
            slots: vec![0; BATCH * SLOT_SIZE],
            received: Vec::with_capacity(BATCH),
            next: 0,
            headers_wanted: BATCH,
            received_at: None,
        }
    }

    /// The next datagram not yet handed out, if any.
    pub fn next_datagram(&mut self) -> Option<Datagram<'_>> {
        let received = *self.received.get(self.next)?;
        self.next += 1;
        let start = received.slot * SLOT_SIZE;
        Some(Datagram {
            bytes: self.slots.get(start..start + received.len)?,
            peer: received.peer,
            truncated: received.truncated,
            received: self.received_at?,
        })
    }

    /// Waits until `socket` is readable and fills the slots with what its queue holds (at
    /// least one datagram, at most [`BATCH`]). Datagrams of the previous batch not handed out
    /// are forgotten: call this once [`Self::next_datagram`] returned None.
    pub async fn receive(&mut self, socket: &UdpSocket) -> io::Result<()> {
        loop {
            match self.fill(socket) {
                Ok(()) => return Ok(()),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
            socket.readable().await?;
        }
    }

    /// Reads, without blocking, what the socket's queue holds, up to the slots' number, with
    /// one `recvmmsg`. `WouldBlock` when nothing was queued (tokio then forgets the socket's
    /// readiness, so `readable` waits for the next datagram).
    fn fill(&mut self, socket: &UdpSocket) -> io::Result<()> {
        self.received.clear();
        self.next = 0;
        // The headers are built for each call: they hold pointers, which a task that may move
        // between threads cannot keep. A quiet socket (one datagram per wake-up) builds few.
        let wanted = self.headers_wanted.clamp(MIN_HEADERS, BATCH);
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(wanted, None);
        let mut buffers: Vec<[IoSliceMut<'_>; 1]> = self
            .slots
            .chunks_exact_mut(SLOT_SIZE)
            .take(wanted)
            .map(|slot| [IoSliceMut::new(slot)])
            .collect();
        // An error after some datagrams is kept by the kernel for the next call, which then
        // reports it (recvmmsg(2)); the ones received are served first.
        let received = &mut self.received;
        socket.try_io(Interest::READABLE, || {
            let messages = recvmmsg(
                socket.as_raw_fd(),
                &mut headers,
                buffers.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            )
            .map_err(io::Error::from)?;
            for (slot, message) in messages.enumerate() {
                // A datagram without an IPv4/IPv6 source cannot be answered: skipped.
                let Some(peer) = message.address.and_then(socket_addr) else {
                    continue;
                };
                received.push(Received {
                    slot,
                    len: message.bytes.min(SLOT_SIZE),
                    peer,
                    // MSG_TRUNC: the datagram was longer than its slot and was cut.
                    truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
                });
            }
            Ok(())
        })?;
        self.headers_wanted = self.received.len() * 2;
        // tokio's clock, which tests may pause: the cache counts TTLs down from this time.
        self.received_at = Some(tokio::time::Instant::now().into_std());
        Ok(())
    }
}

/// The source of a datagram, if it is an IPv4 or IPv6 address.
fn socket_addr(address: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    address
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair() -> (UdpSocket, UdpSocket) {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server.local_addr().unwrap()).await.unwrap();
        (server, client)
    }

    fn drain(batch: &mut ReceiveBatch) -> Vec<(Vec<u8>, SocketAddr, bool)> {
        let mut seen = Vec::new();
        while let Some(d) = batch.next_datagram() {
            seen.push((d.bytes.to_vec(), d.peer, d.truncated));
        }
        seen
    }

    #[tokio::test]
    async fn a_datagram_longer_than_a_slot_is_cut_and_flagged() {
        let (server, client) = pair().await;
        let long = vec![7u8; SLOT_SIZE + 1];
        let exact = vec![8u8; SLOT_SIZE];
        for packet in [&long, &exact, &b"short".to_vec()] {
            client.send(packet).await.unwrap();
        }
        let mut batch = ReceiveBatch::new();
        batch.receive(&server).await.unwrap();
        let from = client.local_addr().unwrap();
        assert_eq!(
            drain(&mut batch),
            [
                (long[..SLOT_SIZE].to_vec(), from, true),
                (exact, from, false),
                (b"short".to_vec(), from, false),
            ]
        );
    }

    #[tokio::test]
    async fn one_receive_takes_at_most_a_batch_and_the_next_takes_the_rest() {
        let (server, client) = pair().await;
        let extra = 6;
        for i in 0..BATCH + extra {
            client.send(&i.to_be_bytes()).await.unwrap();
        }
        let mut batch = ReceiveBatch::new();
        batch.receive(&server).await.unwrap();
        let first = drain(&mut batch);
        assert_eq!(first.len(), BATCH);
        assert_eq!(first[0].0, 0usize.to_be_bytes());
        assert_eq!(first[BATCH - 1].0, (BATCH - 1).to_be_bytes());
        batch.receive(&server).await.unwrap();
        let rest = drain(&mut batch);
        assert_eq!(rest.len(), extra);
        assert_eq!(rest[0].0, BATCH.to_be_bytes());
    }

    #[tokio::test]
    async fn receive_waits_for_a_datagram() {
        let (server, client) = pair().await;
        let mut batch = ReceiveBatch::new();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), batch.receive(&server))
                .await;
        assert!(waited.is_err(), "nothing was sent");
        assert!(batch.next_datagram().is_none());
        client.send(b"late").await.unwrap();
        batch.receive(&server).await.unwrap();
        assert_eq!(drain(&mut batch).len(), 1);
    }
}
