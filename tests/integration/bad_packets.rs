//! Malformed input gets CoreDNS's answer (or silence) and the server keeps serving.

use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

use crate::harness::*;

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        p.extend_from_slice(&c.to_be_bytes());
    }
    p
}

/// A valid question for `example.org. A IN`.
fn question() -> Vec<u8> {
    let mut q = vec![7];
    q.extend_from_slice(b"example");
    q.push(3);
    q.extend_from_slice(b"org");
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

fn assert_still_serving(server: &Server) {
    assert_eq!(
        rcode(&server.udp("still.serving.", RecordType::A)),
        ResponseCode::NoError
    );
}

fn reply_rcode(server: &Server, packet: &[u8]) -> Option<ResponseCode> {
    udp_exchange(server.addr(), packet, Duration::from_millis(500)).map(|r| {
        assert!(r.len() >= 12, "reply shorter than a header");
        ResponseCode::from_low(r[3] & 0x0f)
    })
}

#[test]
fn bad_packets_each_get_the_expected_answer_and_the_server_survives() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let mut loop_packet = header(3, 0x0100, [1, 0, 0, 0]);
    loop_packet.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // name pointing at itself
    let mut garbage_body = header(4, 0x0100, [1, 0, 0, 0]);
    garbage_body.extend_from_slice(&[0x3f, 1, 2, 3]);
    let mut response = header(5, 0x8100, [1, 0, 0, 0]);
    response.extend_from_slice(&question());
    let mut two_questions = header(6, 0x0100, [2, 0, 0, 0]);
    two_questions.extend_from_slice(&question());
    two_questions.extend_from_slice(&question());
    let mut update = header(7, 5 << 11, [1, 0, 0, 0]);
    update.extend_from_slice(&question());
    let mut no_question = header(8, 0x0100, [0, 0, 0, 0]);
    no_question.truncate(12);

    let cases: Vec<(&str, Vec<u8>, Option<ResponseCode>)> = vec![
        ("truncated header", vec![0x12, 0x34, 0x01], None),
        ("empty datagram", vec![], None),
        ("QR=1 response", response, None),
        ("compression loop", loop_packet, Some(ResponseCode::FormErr)),
        ("garbage body", garbage_body, Some(ResponseCode::FormErr)),
        ("two questions", two_questions, Some(ResponseCode::FormErr)),
        ("no question", no_question, Some(ResponseCode::FormErr)),
        ("opcode UPDATE", update, Some(ResponseCode::NotImp)),
        (
            "random bytes",
            (0..300u32).map(|i| (i * 7919 % 251) as u8).collect(),
            None,
        ),
    ];
    for (what, packet, want) in cases {
        let got = reply_rcode(&server, &packet);
        if what != "random bytes" {
            assert_eq!(got, want, "{what}");
        }
        assert_still_serving(&server);
    }
}

#[test]
fn formerr_reply_keeps_the_id() {
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let packet = header(0xbeef, 0x0100, [2, 0, 0, 0]);
    let reply =
        udp_exchange(server.addr(), &packet, Duration::from_secs(2)).expect("FORMERR reply");
    assert_eq!(&reply[0..2], &[0xbe, 0xef]);
    let parsed = Message::from_vec(&reply).unwrap();
    assert_eq!(parsed.metadata.response_code, ResponseCode::FormErr);
}

#[test]
fn tcp_garbage_does_not_stop_the_listener() {
    use std::io::Write;
    let server = Server::start(".:PORT {\n    whoami\n}\n");
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream.write_all(&[0, 5, 1, 2, 3, 4, 5]).unwrap();
    drop(stream);
    let reply = server.tcp("after.garbage.", RecordType::A);
    assert_eq!(rcode(&reply), ResponseCode::NoError);
}
