//! Routes one API request: records it, applies injected faults, then answers discovery,
//! health, list, watch or get. Only GET is served (the clients under test must only read).

use std::{convert::Infallible, sync::Arc};

use bytes::{Bytes, BytesMut};
use hyper::{Method, Request, Response, StatusCode, body::Incoming, header};
use tokio_util::sync::CancellationToken;

use crate::{
    body::{ResponseBody, error_response, json_response, status_response},
    control_routes, discovery,
    list::handle_list,
    query::Query,
    requests::RecordedRequest,
    resource::ResourceKind,
    shared::{Shared, lock},
    watch::handle_watch,
};

/// What a path names.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Collection {
        kind: ResourceKind,
        namespace: Option<&'a str>,
    },
    Object {
        kind: ResourceKind,
        namespace: Option<&'a str>,
        name: &'a str,
    },
    Unknown,
}

/// Resolves `/api/v1/...` and `/apis/<group>/v1/...` resource paths.
fn resolve(path: &str) -> Target<'_> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, "v1", rest @ ..] => (*group, rest),
        _ => return Target::Unknown,
    };
    let kind = |plural: &str| ResourceKind::from_group_plural(group, plural);
    match rest {
        [plural] => kind(plural).map_or(Target::Unknown, |kind| Target::Collection {
            kind,
            namespace: None,
        }),
        [plural, name] => match kind(plural) {
            Some(kind) if !kind.namespaced() => Target::Object {
                kind,
                namespace: None,
                name,
            },
            _ => Target::Unknown,
        },
        ["namespaces", namespace, plural] => match kind(plural) {
            Some(kind) if kind.namespaced() => Target::Collection {
                kind,
                namespace: Some(namespace),
            },
            _ => Target::Unknown,
        },
        ["namespaces", namespace, plural, name] => match kind(plural) {
            Some(kind) if kind.namespaced() => Target::Object {
                kind,
                namespace: Some(namespace),
                name,
            },
            _ => Target::Unknown,
        },
        _ => Target::Unknown,
    }
}

/// Answers one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    server_address: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let path = request.uri().path().to_string();
    if path.starts_with("/fake/") {
        return Ok(control_routes::handle(&shared, request).await);
    }
    let raw_query = request.uri().query().unwrap_or("").to_string();
    lock(&shared.requests).push(RecordedRequest {
        method: request.method().to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    let delay = lock(&shared.faults).delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = lock(&shared.faults).failure_for(&path) {
        return Ok(status_response(
            code,
            &format!("injected failure for {path}"),
        ));
    }
    if request.method() != Method::GET {
        return Ok(status_response(
            405,
            &format!(
                "the fake API server only serves GET (got {} {path})",
                request.method()
            ),
        ));
    }
    let query = Query::parse(Some(&raw_query));
    if matches!(path.as_str(), "/healthz" | "/readyz" | "/livez") {
        return Ok(Response::new(http_body_util::BodyExt::boxed_unsync(
            http_body_util::Full::new(Bytes::from_static(b"ok")),
        )));
    }
    if let Some(document) = discovery::document(&path, &server_address) {
        return Ok(json_response(
            StatusCode::OK,
            Bytes::from(document.to_string()),
        ));
    }
    Ok(match resolve(&path) {
        Target::Collection { kind, namespace } if query.flag("watch") => {
            handle_watch(&shared, kind, namespace, &query, shutdown).unwrap_or_else(error_response)
        }
        Target::Collection { kind, namespace } => {
            handle_list(&shared, kind, namespace, &query).unwrap_or_else(error_response)
        }
        Target::Object {
            kind,
            namespace,
            name,
        } => match lock(&shared.store).get(kind, namespace.unwrap_or(""), name) {
            Some(object) => {
                let mut body = BytesMut::with_capacity(object.body.len() + 64);
                object.write_typed(&mut body);
                json_response(StatusCode::OK, body.freeze())
            }
            None => status_response(404, &format!("{} \"{name}\" not found", kind.plural())),
        },
        Target::Unknown => status_response(404, "the server could not find the requested resource"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_resource_paths() {
        use ResourceKind::*;
        let cases: &[(&str, Target)] = &[
            (
                "/api/v1/services",
                Target::Collection {
                    kind: Service,
                    namespace: None,
                },
            ),
            (
                "/api/v1/namespaces",
                Target::Collection {
                    kind: Namespace,
                    namespace: None,
                },
            ),
            (
                "/api/v1/namespaces/kube-system",
                Target::Object {
                    kind: Namespace,
                    namespace: None,
                    name: "kube-system",
                },
            ),
            (
                "/api/v1/namespaces/ns1/services",
                Target::Collection {
                    kind: Service,
                    namespace: Some("ns1"),
                },
            ),
            (
                "/api/v1/namespaces/ns1/pods/p",
                Target::Object {
                    kind: Pod,
                    namespace: Some("ns1"),
                    name: "p",
                },
            ),
            (
                "/apis/discovery.k8s.io/v1/endpointslices",
                Target::Collection {
                    kind: EndpointSlice,
                    namespace: None,
                },
            ),
            (
                "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices",
                Target::Collection {
                    kind: EndpointSlice,
                    namespace: Some("a"),
                },
            ),
            ("/api/v1/services/x", Target::Unknown),
            ("/api/v1/namespaces/a/namespaces", Target::Unknown),
            ("/apis/discovery.k8s.io/v1/services", Target::Unknown),
            ("/api/v2/services", Target::Unknown),
            ("/api/v1/configmaps", Target::Unknown),
        ];
        for (path, expected) in cases {
            assert_eq!(&resolve(path), expected, "{path}");
        }
    }
}
