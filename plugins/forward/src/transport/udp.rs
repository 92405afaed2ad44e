//! One connected UDP socket to an upstream and its reused buffer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::Message;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::error::ExchangeError;
use super::{id_of, reply, set_id};

/// A UDP socket connected to one upstream: the kernel picks a random source port and drops
/// datagrams from any other address (§1.7).
#[derive(Debug)]
pub struct UdpConn {
    socket: UdpSocket,
    /// Holds the query, then the reply; grows to the largest size needed and stays.
    buf: Vec<u8>,
}

impl UdpConn {
    pub fn dial(addr: SocketAddr, source: Option<IpAddr>) -> io::Result<UdpConn> {
        let local = SocketAddr::new(
            source.unwrap_or(match addr {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            }),
            0,
        );
        let socket = std::net::UdpSocket::bind(local)?;
        socket.connect(addr)?;
        socket.set_nonblocking(true)?;
        Ok(UdpConn {
            socket: UdpSocket::from_std(socket)?,
            buf: Vec::new(),
        })
    }

    /// Sends `query` with `id` and reads until a datagram with that ID arrives or `deadline`
    /// passes. Datagrams with another ID, or too short for a header, are ignored (§1.9:
    /// a spoofed or late reply neither ends the wait nor reaches the client).
    ///
    /// `limit` is the largest reply the client can take over UDP (§1.10); anything larger
    /// becomes a TC=1 header.
    pub async fn exchange(
        &mut self,
        addr: SocketAddr,
        query: &[u8],
        id: u16,
        limit: usize,
        write_timeout: Duration,
        deadline: Instant,
    ) -> Result<Message, ExchangeError> {
        // One byte beyond the limit tells an overflowing datagram from one that fits.
        let needed = query.len().max(limit + 1);
        if self.buf.len() < needed {
            self.buf.resize(needed, 0);
        }
        self.buf[..query.len()].copy_from_slice(query);
        set_id(&mut self.buf[..query.len()], id);
        match tokio::time::timeout(write_timeout, self.socket.send(&self.buf[..query.len()])).await
        {
            Err(_) => return Err(ExchangeError::WriteTimeout(addr)),
            Ok(Err(source)) => return Err(ExchangeError::Write { addr, source }),
            Ok(Ok(_)) => {}
        }
        loop {
            let received =
                tokio::time::timeout_at(deadline, self.socket.recv(&mut self.buf[..=limit])).await;
            let n = match received {
                Err(_) => return Err(ExchangeError::ReadTimeout(addr)),
                Ok(Err(source)) => return Err(ExchangeError::Read { addr, source }),
                Ok(Ok(n)) => n,
            };
            if n < plugin::wire::HEADER_LEN || id_of(&self.buf[..n]) != Some(id) {
                continue;
            }
            let overflowed = n > limit;
            return reply::decode(&self.buf[..n.min(limit)], true, overflowed)
                .map_err(|source| ExchangeError::Decode { addr, source });
        }
    }
}
