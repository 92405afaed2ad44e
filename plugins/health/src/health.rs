//! The `/health` endpoint: always `200 OK` while the process runs, lameduck included; it
//! checks nothing (cli-and-endpoints.md §6).

use std::sync::Arc;

use plugin::http::{HttpRequest, HttpResponse, HttpRole, HttpRoute};

pub const PATH: &str = "/health";

pub fn route(addr: &str) -> HttpRoute {
    HttpRoute {
        addr: addr.to_string(),
        path: PATH,
        role: HttpRole::Health,
        handler: Arc::new(|_req: &HttpRequest| HttpResponse::text(200, "OK")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_ok_as_plain_text() {
        let route = route(":8080");
        assert_eq!(
            (route.addr.as_str(), route.path, route.role),
            (":8080", "/health", HttpRole::Health)
        );
        let resp = (route.handler)(&HttpRequest::default());
        assert_eq!(resp, HttpResponse::text(200, "OK"));
        assert_eq!(resp.content_type, "text/plain; charset=utf-8");
    }
}
