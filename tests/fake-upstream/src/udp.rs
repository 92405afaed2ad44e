//! The UDP side: one datagram, one query. The script runs in arrival order on the receiving
//! task; replies that wait (Delay, Relay) run in their own task so other queries are served
//! meanwhile.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hickory_proto::op::Message;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;

use crate::log::skipped;
use crate::relay::relay;
use crate::shared::Shared;
use crate::steps::{Step, steps};
use crate::{Proto, Seen};

/// Serve `socket` until this task is aborted; replies still waiting are aborted with it
/// (their JoinSet is dropped).
pub(crate) async fn serve(socket: UdpSocket, shared: Arc<Shared>) {
    let socket = Arc::new(socket);
    let mut waiting = JoinSet::new();
    let mut buf = vec![0u8; 65535];
    loop {
        while waiting.try_join_next().is_some() {}
        let (len, source) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                skipped(format_args!("udp receive: {e}"));
                continue;
            }
        };
        let wire = buf[..len].to_vec();
        let message = match Message::from_vec(&wire) {
            Ok(message) => message,
            Err(e) => {
                skipped(format_args!(
                    "udp: {len} bytes from {source} are not DNS: {e}"
                ));
                continue;
            }
        };
        let query_id = message.metadata.id;
        let seen = Seen {
            proto: Proto::Udp,
            source,
            message,
            wire: wire.clone(),
            at: Instant::now(),
        };
        let steps = steps(shared.decide(seen), query_id);
        if steps.iter().any(Step::waits) {
            waiting.spawn(perform(Arc::clone(&socket), source, wire, steps));
        } else {
            perform(Arc::clone(&socket), source, wire, steps).await;
        }
    }
}

async fn perform(socket: Arc<UdpSocket>, to: SocketAddr, query: Vec<u8>, steps: Vec<Step>) {
    for step in steps {
        match step {
            Step::Sleep(after) => tokio::time::sleep(after).await,
            Step::Send(bytes) | Step::SendUnframed(bytes) => send(&socket, to, &bytes).await,
            // Resetting or closing means nothing on UDP: no answer.
            Step::Reset | Step::Close => {}
            Step::Relay(upstream) => {
                if let Some(reply) = relay(&query, upstream).await {
                    send(&socket, to, &reply).await;
                }
            }
        }
    }
}

async fn send(socket: &UdpSocket, to: SocketAddr, bytes: &[u8]) {
    if let Err(e) = socket.send_to(bytes, to).await {
        skipped(format_args!(
            "udp send of {} bytes to {to}: {e}",
            bytes.len()
        ));
    }
}
