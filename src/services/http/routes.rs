//! The paths one address serves, matched as Go's `http.ServeMux` matches a plain pattern:
//! exactly, whatever the method, query string ignored (cli-and-endpoints.md §6).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use plugin::http::{Handler, HttpRequest, HttpResponse, HttpRole, HttpRoute};

/// Go's `http.NotFound` body.
const NOT_FOUND_BODY: &str = "404 page not found\n";

struct Entry {
    path: &'static str,
    role: HttpRole,
    handler: Handler,
}

/// The routes of one address.
#[derive(Default)]
pub struct RouteTable {
    entries: Vec<Entry>,
}

impl RouteTable {
    /// A table of `routes`. A path declared twice keeps its first handler, as CoreDNS keeps the
    /// first instance registered for an address (its `uniq` set); the handlers of one path are
    /// equivalent anyway (same process-wide registry, readiness or constant answer).
    pub fn new<'r>(routes: impl IntoIterator<Item = &'r HttpRoute>) -> Self {
        let mut entries: Vec<Entry> = Vec::new();
        for route in routes {
            if entries.iter().all(|e| e.path != route.path) {
                entries.push(Entry {
                    path: route.path,
                    role: route.role,
                    handler: route.handler.clone(),
                });
            }
        }
        RouteTable { entries }
    }

    pub fn has_role(&self, role: HttpRole) -> bool {
        self.entries.iter().any(|e| e.role == role)
    }

    pub fn only_role(&self, role: HttpRole) -> bool {
        self.entries.iter().all(|e| e.role == role)
    }

    /// This table without the routes of `role`.
    pub fn without(&self, role: HttpRole) -> Self {
        RouteTable {
            entries: self
                .entries
                .iter()
                .filter(|e| e.role != role)
                .map(|e| Entry {
                    path: e.path,
                    role: e.role,
                    handler: e.handler.clone(),
                })
                .collect(),
        }
    }

    pub fn respond<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let Some(entry) = self.entries.iter().find(|e| e.path == path) else {
            return not_found();
        };
        let accept_gzip = req
            .headers()
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(accepts_gzip);
        let request = HttpRequest {
            path: path.to_string(),
            accept_gzip,
        };
        to_hyper((entry.handler)(&request))
    }
}

/// True when an `Accept-Encoding` value allows gzip (RFC 9110 §12.5.3): `gzip` or `*` listed
/// without `q=0`.
pub fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q")
                    && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            })
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

fn not_found() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(NOT_FOUND_BODY.as_bytes())));
    *resp.status_mut() = StatusCode::NOT_FOUND;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn to_hyper(r: HttpResponse) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    if let Some(encoding) = r.content_encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::sync::Arc;

    fn route(path: &'static str, role: HttpRole, body: &'static str) -> HttpRoute {
        HttpRoute {
            addr: ":0".into(),
            path,
            role,
            handler: Arc::new(move |_req: &HttpRequest| HttpResponse::text(200, body)),
        }
    }

    async fn call(table: &RouteTable, method: &str, uri: &str) -> (u16, String) {
        let req = Request::builder().method(method).uri(uri).body(()).unwrap();
        let resp = table.respond(&req);
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn paths_match_exactly_with_any_method() {
        let table = RouteTable::new(&[route("/health", HttpRole::Health, "OK")]);
        let cases = [
            ("GET", "/health", 200, "OK"),
            ("POST", "/health", 200, "OK"),
            ("DELETE", "/health", 200, "OK"),
            ("GET", "/health?verbose=1", 200, "OK"),
            ("GET", "http://example.org/health", 200, "OK"),
            ("GET", "/health/", 404, "404 page not found\n"),
            ("GET", "/Health", 404, "404 page not found\n"),
            ("GET", "/", 404, "404 page not found\n"),
            ("GET", "/healthz", 404, "404 page not found\n"),
        ];
        for (method, uri, status, body) in cases {
            assert_eq!(
                call(&table, method, uri).await,
                (status, body.to_string()),
                "{method} {uri}"
            );
        }
    }

    #[test]
    fn first_handler_of_a_path_wins() {
        let table = RouteTable::new(&[
            route("/metrics", HttpRole::Metrics, "first"),
            route("/metrics", HttpRole::Metrics, "second"),
        ]);
        let req = Request::builder().uri("/metrics").body(()).unwrap();
        let body = futures_util::FutureExt::now_or_never(table.respond(&req).into_body().collect())
            .unwrap()
            .unwrap()
            .to_bytes();
        assert_eq!(body, "first");
    }

    #[test]
    fn roles_are_removed_from_a_table() {
        let table = RouteTable::new(&[
            route("/health", HttpRole::Health, "OK"),
            route("/ready", HttpRole::Ready, "OK"),
        ]);
        assert!(!table.only_role(HttpRole::Ready));
        let rest = table.without(HttpRole::Ready);
        assert!(rest.only_role(HttpRole::Health));
        assert!(!rest.has_role(HttpRole::Ready));
        assert!(!rest.without(HttpRole::Health).has_role(HttpRole::Health));
    }

    #[test]
    fn accept_encoding_is_negotiated() {
        let cases = [
            ("gzip", true),
            ("gzip, deflate, br", true),
            ("deflate, GZIP;q=0.5", true),
            ("*", true),
            ("identity", false),
            ("gzip;q=0", false),
            ("gzip; q=0.0, deflate", false),
            ("", false),
        ];
        for (value, want) in cases {
            assert_eq!(accepts_gzip(value), want, "{value:?}");
        }
    }

    #[test]
    fn content_encoding_is_the_handlers_word() {
        let gz = HttpResponse {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            content_encoding: Some("gzip"),
            body: Bytes::from_static(&[0x1f, 0x8b, 8, 0]),
        };
        let labelled = to_hyper(gz);
        assert_eq!(labelled.headers()[header::CONTENT_ENCODING], "gzip");
        let plain = to_hyper(HttpResponse::text(200, "OK"));
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(
            plain.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
}
