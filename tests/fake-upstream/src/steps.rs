//! An [`Action`] flattened into the steps a transport performs in order, so Delay and Several
//! nest freely without recursive async code.

use std::net::SocketAddr;
use std::time::Duration;

use crate::Action;
use crate::log::skipped;

#[derive(Debug)]
pub(crate) enum Step {
    Sleep(Duration),
    /// One DNS message (framed over TCP/TLS).
    Send(Vec<u8>),
    /// Bytes written as they are, no framing.
    SendUnframed(Vec<u8>),
    Reset,
    Close,
    Relay(SocketAddr),
}

impl Step {
    /// Whether this step waits on something (a timer, another server), so the UDP server
    /// must not do it inline.
    pub(crate) fn waits(&self) -> bool {
        matches!(self, Step::Sleep(_) | Step::Relay(_))
    }
}

/// The steps for `action`, answering the query with ID `query_id`.
pub(crate) fn steps(action: Action, query_id: u16) -> Vec<Step> {
    let mut out = Vec::new();
    flatten(action, query_id, &mut out);
    out
}

fn flatten(action: Action, query_id: u16, out: &mut Vec<Step>) {
    match action {
        Action::Reply(mut message) => {
            message.metadata.id = query_id;
            match message.to_vec() {
                Ok(wire) => out.push(Step::Send(wire)),
                Err(e) => skipped(format_args!("cannot encode the scripted reply: {e}")),
            }
        }
        Action::Raw(bytes) => out.push(Step::Send(bytes)),
        Action::Unframed(bytes) => out.push(Step::SendUnframed(bytes)),
        Action::Drop => {}
        Action::Delay(after, inner) => {
            out.push(Step::Sleep(after));
            flatten(*inner, query_id, out);
        }
        Action::Several(actions) => {
            for action in actions {
                flatten(action, query_id, out);
            }
        }
        Action::ResetTcp => out.push(Step::Reset),
        Action::Close => out.push(Step::Close),
        Action::Relay(to) => out.push(Step::Relay(to)),
    }
}
