//! The send side of a UDP reader: the replies of a batch, sent with one `sendmmsg`, and the
//! reused buffers they are encoded into.
//!
//! Each datagram still costs the kernel its route lookup and delivery (on loopback the sender
//! pays for the receiver's side too); one system call per batch saves the kernel entry, the
//! socket lookup and tokio's readiness check for every reply but the first.

use std::io::{self, IoSlice};
use std::net::SocketAddr;

use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::udp_recv::BATCH;

/// Reply buffers larger than this are freed rather than kept: a rare huge reply should not
/// pin its memory in every slot of every socket.
const MAX_KEPT_CAPACITY: usize = 16 * 1024;

/// What a new reply buffer reserves: most UDP replies fit in 512 bytes (RFC 1035 §4.2.1).
const INITIAL_CAPACITY: usize = 512;

/// Replies ready to send and the buffers to encode the next ones into.
#[derive(Default)]
pub(super) struct Replies {
    ready: Vec<(Vec<u8>, SocketAddr)>,
    spare: Vec<Vec<u8>>,
}

impl Replies {
    pub fn new() -> Self {
        Replies {
            ready: Vec::with_capacity(BATCH),
            spare: Vec::with_capacity(BATCH),
        }
    }

    /// An empty buffer for the next reply.
    pub fn buffer(&mut self) -> Vec<u8> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(INITIAL_CAPACITY))
    }

    /// Gives back a buffer that carried no reply.
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if buffer.capacity() <= MAX_KEPT_CAPACITY && self.spare.len() < BATCH {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    /// Queues `reply` for `peer` until the next [`Self::flush`].
    pub fn push(&mut self, reply: Vec<u8>, peer: SocketAddr) {
        self.ready.push((reply, peer));
    }

    /// Sends every queued reply: all at once with `sendmmsg` when the socket takes them,
    /// one by one (waiting for the socket) for whatever it did not take.
    pub async fn flush(&mut self, socket: &UdpSocket) {
        let sent = match self.ready.len() {
            0 => return,
            // sendmmsg costs its message headers; one reply goes out as it always did.
            1 => 0,
            _ => socket
                .try_io(Interest::WRITABLE, || send_all(socket, &self.ready))
                // WouldBlock (the send buffer is full) or an error on the first reply (that
                // peer's): the loop below sends them one by one, waiting where it must.
                .unwrap_or(0),
        };
        for (reply, peer) in self.ready.get(sent..).unwrap_or_default() {
            // A client that went away is not our error; UDP has no one to tell.
            let _ = socket.send_to(reply, *peer).await;
        }
        while let Some((reply, _)) = self.ready.pop() {
            self.recycle(reply);
        }
    }
}

/// One `sendmmsg` of `replies`: how many the kernel took (from the first on; it stops at the
/// first one that fails, reporting the error only when that is the first).
fn send_all(socket: &UdpSocket, replies: &[(Vec<u8>, SocketAddr)]) -> io::Result<usize> {
    let addresses: Vec<SocketAddrAny> = replies
        .iter()
        .map(|(_, peer)| SocketAddrAny::from(*peer))
        .collect();
    let payloads: Vec<[IoSlice<'_>; 1]> = replies
        .iter()
        .map(|(reply, _)| [IoSlice::new(reply)])
        .collect();
    let mut no_control: Vec<SendAncillaryBuffer<'_, '_, '_>> = replies
        .iter()
        .map(|_| SendAncillaryBuffer::default())
        .collect();
    let mut messages: Vec<MMsgHdr<'_>> = addresses
        .iter()
        .zip(&payloads)
        .zip(&mut no_control)
        .map(|((address, payload), control)| MMsgHdr::new_with_addr(address, payload, control))
        .collect();
    Ok(rustix::net::sendmmsg(
        socket,
        &mut messages,
        SendFlags::DONTWAIT,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn recv_one(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
        let mut buf = vec![0u8; 2048];
        let (len, from) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
            .await
            .expect("a reply within 2s")
            .unwrap();
        buf.truncate(len);
        (buf, from)
    }

    #[tokio::test]
    async fn every_queued_reply_reaches_its_own_peer() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut peers = Vec::new();
        for _ in 0..3 {
            peers.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        }
        let mut replies = Replies::new();
        // Two replies for the first peer, one for each other: one sendmmsg of four.
        for (i, peer) in [0, 1, 0, 2].into_iter().enumerate() {
            let mut out = replies.buffer();
            out.extend_from_slice(format!("reply {i}").as_bytes());
            replies.push(out, peers[peer].local_addr().unwrap());
        }
        replies.flush(&server).await;
        let from = server.local_addr().unwrap();
        assert_eq!(recv_one(&peers[0]).await, (b"reply 0".to_vec(), from));
        assert_eq!(recv_one(&peers[0]).await, (b"reply 2".to_vec(), from));
        assert_eq!(recv_one(&peers[1]).await, (b"reply 1".to_vec(), from));
        assert_eq!(recv_one(&peers[2]).await, (b"reply 3".to_vec(), from));
        // Flushed: nothing queued, and the buffers came back empty for the next batch.
        assert!(replies.ready.is_empty());
        assert_eq!(replies.spare.len(), 4);
        assert!(replies.buffer().is_empty());
    }

    #[tokio::test]
    async fn a_single_reply_goes_out_too() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut replies = Replies::new();
        let mut out = replies.buffer();
        out.extend_from_slice(b"alone");
        replies.push(out, peer.local_addr().unwrap());
        replies.flush(&server).await;
        assert_eq!(recv_one(&peer).await.0, b"alone");
    }

    #[tokio::test]
    async fn a_reply_the_kernel_refuses_does_not_stop_the_others() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // Port 0 is not a destination (EINVAL). First: sendmmsg fails as a whole; in the
        // middle: it stops there. Either way the rest go out one by one.
        for refused_at in [0, 1] {
            let mut replies = Replies::new();
            let mut wanted = Vec::new();
            for i in 0..3 {
                if i == refused_at {
                    replies.push(b"nowhere".to_vec(), SocketAddr::from(([127, 0, 0, 1], 0)));
                } else {
                    let text = format!("reply {i}").into_bytes();
                    replies.push(text.clone(), peer.local_addr().unwrap());
                    wanted.push(text);
                }
            }
            replies.flush(&server).await;
            for text in wanted {
                assert_eq!(recv_one(&peer).await.0, text, "refused at {refused_at}");
            }
        }
    }

    #[test]
    fn big_buffers_are_not_kept() {
        let mut replies = Replies::new();
        replies.recycle(Vec::with_capacity(MAX_KEPT_CAPACITY + 1));
        assert!(replies.spare.is_empty());
        replies.recycle(vec![1, 2, 3]);
        assert_eq!(replies.spare.len(), 1);
        assert!(
            replies.buffer().is_empty(),
            "recycled buffers come back cleared"
        );
    }
}
