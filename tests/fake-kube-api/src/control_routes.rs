//! The HTTP control routes under `/fake/`, for benchmark scripts driving the binary from
//! outside: apply and delete objects, expire history, drop watches, read the state. They are
//! not recorded, not delayed and never failed by injected faults.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::{Method, Request, Response, StatusCode, body::Incoming};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    body::{ResponseBody, json_response, status_response},
    resource::ResourceKind,
    shared::{Shared, lock},
};

/// Largest control request body (a batch of objects to apply).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

#[derive(Deserialize)]
struct DeleteRequest {
    kind: String,
    #[serde(default)]
    namespace: String,
    name: String,
}

/// Answers a request whose path starts with `/fake/`.
pub(crate) async fn handle(shared: &Shared, request: Request<Incoming>) -> Response<ResponseBody> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return status_response(400, &format!("cannot read request body: {e}")),
    };
    match (method, path.as_str()) {
        (Method::POST, "/fake/apply") => apply(shared, &body),
        (Method::POST, "/fake/delete") => delete(shared, &body),
        (Method::POST, "/fake/expire-history") => {
            shared.expire_history();
            state(shared)
        }
        (Method::POST, "/fake/drop-watches") => {
            shared.drop_watches();
            state(shared)
        }
        (Method::POST, "/fake/relist") => {
            shared.expire_history();
            shared.drop_watches();
            state(shared)
        }
        (Method::GET, "/fake/state") => state(shared),
        _ => status_response(404, &format!("no control route {path}")),
    }
}

/// Applies one object, a JSON array of objects, or a `*List` object's items.
fn apply(shared: &Shared, body: &Bytes) -> Response<ResponseBody> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return status_response(400, &format!("body is not JSON: {e}")),
    };
    let objects = match value {
        Value::Array(items) => items,
        Value::Object(mut map)
            if map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List")) =>
        {
            match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => return status_response(400, "list has no items array"),
            }
        }
        other => vec![other],
    };
    for object in objects {
        if let Err(e) = shared.apply(object) {
            return status_response(400, &e.to_string());
        }
    }
    state(shared)
}

fn delete(shared: &Shared, body: &Bytes) -> Response<ResponseBody> {
    let request: DeleteRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            return status_response(
                400,
                &format!("expected {{\"kind\",\"namespace\",\"name\"}}: {e}"),
            );
        }
    };
    let kind: ResourceKind = match request.kind.parse() {
        Ok(kind) => kind,
        Err(e) => return status_response(400, &e.to_string()),
    };
    match shared.delete(kind, &request.namespace, &request.name) {
        Ok(_) => state(shared),
        Err(e) => status_response(404, &e.to_string()),
    }
}

/// The current resourceVersion, open watches and object counts.
fn state(shared: &Shared) -> Response<ResponseBody> {
    let (resource_version, counts) = {
        let store = lock(&shared.store);
        let counts: serde_json::Map<String, Value> = ResourceKind::ALL
            .into_iter()
            .map(|k| (k.kind().to_string(), json!(store.count(k))))
            .collect();
        (store.resource_version(), counts)
    };
    let open_watches = *shared.open_watches.borrow();
    let body = json!({
        "resourceVersion": resource_version.to_string(),
        "openWatches": open_watches,
        "objects": counts,
    });
    json_response(StatusCode::OK, Bytes::from(body.to_string()))
}
