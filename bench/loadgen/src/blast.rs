//! The measured loop: keeps `outstanding` queries in flight over a few connected UDP sockets,
//! sending in batches with one `sendmmsg` and polling the sockets without ever sleeping.
//!
//! dnsperf sends and receives one datagram per system call from two threads that sleep and
//! wake; on a 2-core machine it saturates its core near the rate the servers under test
//! reach, so it cannot show which one is faster. This loop spends its core on the kernel's
//! UDP path and little else, and never sleeps, so the server under test pays no wake-ups of
//! the load generator either (the same for every server measured).

use std::io::{self, IoSlice};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags};

use crate::flights::{Flights, Tally};

/// Queries per `sendmmsg`, and replies read from one socket before polling the next.
const BATCH: usize = 32;

/// How often queries past the timeout are looked for.
const EXPIRY_INTERVAL: Duration = Duration::from_millis(10);

pub struct Plan {
    pub server: SocketAddr,
    pub queries: Vec<Vec<u8>>,
    pub sockets: usize,
    pub outstanding: usize,
    pub duration: Duration,
    pub timeout: Duration,
}

/// The run's counts. The rate is `completed_in_window / window`: replies that arrive while
/// the last queries drain count as completed (not lost), not towards the rate.
pub struct Outcome {
    pub tally: Tally,
    pub completed_in_window: u64,
    pub window: Duration,
}

pub fn run(plan: &Plan) -> io::Result<Outcome> {
    let sockets = (0..plan.sockets.max(1))
        .map(|_| connect(plan.server))
        .collect::<io::Result<Vec<_>>>()?;
    let mut flights = Flights::new(plan.outstanding, plan.timeout);
    let mut batch: Vec<Vec<u8>> = vec![Vec::new(); BATCH];
    let mut ids: Vec<u16> = Vec::with_capacity(BATCH);
    let mut reply = vec![0u8; 65_535];
    let mut next_query = 0usize;
    let mut next_socket = 0usize;
    let start = Instant::now();
    let end = start + plan.duration;
    let mut next_expiry = start + EXPIRY_INTERVAL;
    // Noted when the sending window closes.
    let mut completed_in_window: Option<u64> = None;
    loop {
        let now = Instant::now();
        let sending = now < end;
        if !sending {
            completed_in_window.get_or_insert(flights.tally.completed);
            if flights.in_flight() == 0 || now >= end + plan.timeout {
                break;
            }
        }
        for socket in &sockets {
            for _ in 0..BATCH {
                match socket.recv(&mut reply) {
                    Ok(len) => flights.arrive(&reply[..len], now),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    // An ICMP port unreachable (no server yet, or it stopped): the query is
                    // lost, which the timeout counts.
                    Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => break,
                    Err(error) => return Err(error),
                }
            }
        }
        if now >= next_expiry {
            flights.expire(now);
            next_expiry = now + EXPIRY_INTERVAL;
        }
        if !sending {
            continue;
        }
        ids.clear();
        for buffer in &mut batch {
            let Some(id) = flights.depart(now) else { break };
            let query = &plan.queries[next_query];
            next_query = (next_query + 1) % plan.queries.len();
            buffer.clear();
            buffer.extend_from_slice(query);
            buffer[..2].copy_from_slice(&id.to_be_bytes());
            ids.push(id);
        }
        if ids.is_empty() {
            continue;
        }
        let socket = &sockets[next_socket];
        next_socket = (next_socket + 1) % sockets.len();
        let sent = send_batch(socket, &batch[..ids.len()]).unwrap_or(0);
        for id in &ids[sent..] {
            flights.cancel(*id);
        }
    }
    flights.abandon();
    Ok(Outcome {
        completed_in_window: completed_in_window.unwrap_or(flights.tally.completed),
        tally: flights.tally,
        window: plan.duration,
    })
}

fn connect(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(io::Error::other)?
    } else {
        "[::]:0".parse().map_err(io::Error::other)?
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// One `sendmmsg` of `queries` on a connected socket: how many the kernel took.
fn send_batch(socket: &UdpSocket, queries: &[Vec<u8>]) -> io::Result<usize> {
    let payloads: Vec<[IoSlice<'_>; 1]> = queries.iter().map(|q| [IoSlice::new(q)]).collect();
    let mut no_control: Vec<SendAncillaryBuffer<'_, '_, '_>> = queries
        .iter()
        .map(|_| SendAncillaryBuffer::default())
        .collect();
    let mut messages: Vec<MMsgHdr<'_>> = payloads
        .iter()
        .zip(&mut no_control)
        .map(|(payload, control)| MMsgHdr::new(payload, control))
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;

    /// A responder on 127.0.0.1 that echoes each query back as a response (QR set), skipping
    /// every `drop_every`-th one when given; stops when the flag is set.
    fn responder(drop_every: Option<usize>) -> (SocketAddr, Arc<AtomicBool>, JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let address = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let mut seen = 0;
            while !stopped.load(Ordering::Relaxed) {
                let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                seen += 1;
                if drop_every.is_some_and(|n| seen % n == 0) {
                    continue;
                }
                buf[2] |= 0x80;
                let _ = socket.send_to(&buf[..len], peer);
            }
        });
        (address, stop, thread)
    }

    fn plan(server: SocketAddr, timeout: Duration) -> Plan {
        Plan {
            server,
            queries: crate::queries::parse("a.example A\nb.example AAAA\n").unwrap(),
            sockets: 2,
            outstanding: 8,
            duration: Duration::from_millis(300),
            timeout,
        }
    }

    #[test]
    fn every_query_to_a_server_that_answers_completes() {
        let (server, stop, thread) = responder(None);
        let outcome = run(&plan(server, Duration::from_secs(2))).unwrap();
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
        let tally = &outcome.tally;
        assert!(outcome.completed_in_window > 0);
        assert_eq!((tally.lost, tally.unexpected), (0, 0));
        assert_eq!(tally.completed, tally.sent);
        assert_eq!(tally.rcodes[0], tally.completed, "NOERROR");
    }

    #[test]
    fn queries_a_server_drops_are_lost_after_the_timeout() {
        let (server, stop, thread) = responder(Some(3));
        let outcome = run(&plan(server, Duration::from_millis(50))).unwrap();
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
        let tally = &outcome.tally;
        assert!(tally.lost > 0 && tally.completed > 0);
        assert_eq!(tally.completed + tally.lost, tally.sent);
    }
}
