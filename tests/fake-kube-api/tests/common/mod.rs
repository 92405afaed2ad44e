//! A minimal HTTP/1.1 client over hyper for the raw-protocol tests: one connection per
//! request, like a client that does not pool, so each answer stands alone.
#![allow(dead_code)]

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use fake_kube_api::FakeApi;
use http_body_util::{BodyExt, Full};
use hyper::{Request, body::Incoming, client::conn::http1};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// Something listening: a `FakeApi` in this process or the address of the binary's.
pub trait Server {
    fn address(&self) -> SocketAddr;
}

impl Server for FakeApi {
    fn address(&self) -> SocketAddr {
        FakeApi::address(self)
    }
}

impl Server for SocketAddr {
    fn address(&self) -> SocketAddr {
        *self
    }
}

/// Sends one request without a body; returns the response with its body still streaming.
pub async fn send(
    api: &impl Server,
    method: &str,
    path_and_query: &str,
) -> std::io::Result<hyper::Response<Incoming>> {
    send_body(api, method, path_and_query, Bytes::new()).await
}

/// Sends one request with `body`; returns the response with its body still streaming.
pub async fn send_body(
    api: &impl Server,
    method: &str,
    path_and_query: &str,
    body: Bytes,
) -> std::io::Result<hyper::Response<Incoming>> {
    let stream = TcpStream::connect(api.address()).await?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("host", api.address().to_string())
        .body(Full::new(body))
        .map_err(std::io::Error::other)?;
    sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)
}

/// GET and parse the JSON body; returns the HTTP status and the body.
pub async fn get_json(api: &impl Server, path_and_query: &str) -> (u16, Value) {
    json_of(send(api, "GET", path_and_query).await.expect("request")).await
}

/// POST `body` and parse the JSON answer; returns the HTTP status and the body.
pub async fn post_json(api: &impl Server, path: &str, body: &Value) -> (u16, Value) {
    let body = Bytes::from(body.to_string());
    json_of(send_body(api, "POST", path, body).await.expect("request")).await
}

/// The status and parsed JSON body of a response.
async fn json_of(response: hyper::Response<Incoming>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value =
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    (status, value)
}

/// The names of a list's items, in order.
pub fn item_names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_string())
        .collect()
}

/// A watch response read event by event.
pub struct Watch {
    body: Incoming,
    buffer: BytesMut,
}

impl Watch {
    pub async fn open(api: &impl Server, path_and_query: &str) -> Watch {
        let response = send(api, "GET", path_and_query)
            .await
            .expect("watch request");
        assert_eq!(response.status().as_u16(), 200, "watch status");
        Watch {
            body: response.into_body(),
            buffer: BytesMut::new(),
        }
    }

    /// A watch of `path` (no query) from the fake's current resourceVersion.
    pub async fn open_now(api: &FakeApi, path: &str) -> Watch {
        let rv = api.resource_version();
        Watch::open(api, &format!("{path}?watch=true&resourceVersion={rv}")).await
    }

    /// The next event, or `None` when the server ends the response.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line = self.buffer.split_to(end + 1);
                return Some(serde_json::from_slice(&line[..end]).expect("event is JSON"));
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.extend_from_slice(&data);
            }
        }
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self) -> Option<Value> {
        loop {
            let event = self.next().await?;
            if event["type"] != "BOOKMARK" {
                return Some(event);
            }
        }
    }
}

/// A Service object.
pub fn service(namespace: &str, name: &str, labels: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
    })
}

/// The `metadata.resourceVersion` of an object or list, as a number.
pub fn rv(value: &Value) -> u64 {
    value["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .parse()
        .expect("numeric resourceVersion")
}
