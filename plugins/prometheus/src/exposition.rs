//! `/metrics`: the whole process registry in the Prometheus text format 0.0.4, gzipped when
//! the scraper accepts it (metrics.md §1, §8).

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use plugin::http::{HttpRequest, HttpResponse, HttpRole, HttpRoute};
use plugin::metrics::MetricsHub;
use prometheus_client::encoding::prometheus_text;

pub const PATH: &str = "/metrics";

/// `text/plain; version=0.0.4; charset=utf-8`, what client_golang serves to a scraper that
/// does not negotiate protobuf or OpenMetrics.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

pub fn route(addr: &str, hub: Arc<MetricsHub>) -> HttpRoute {
    HttpRoute {
        addr: addr.to_string(),
        path: PATH,
        role: HttpRole::Metrics,
        handler: Arc::new(move |req: &HttpRequest| respond(&hub, req.accept_gzip)),
    }
}

pub fn respond(hub: &MetricsHub, accept_gzip: bool) -> HttpResponse {
    let Ok(text) = hub.encode_text() else {
        // A collector failed; client_golang answers 500 with the error too.
        return HttpResponse::text(500, "error encoding metrics\n");
    };
    // Compressing into memory cannot fail; plain text is the fallback all the same.
    let compressed = if accept_gzip {
        gzip(text.as_bytes()).ok()
    } else {
        None
    };
    let (body, content_encoding) = match compressed {
        Some(body) => (body, Some("gzip")),
        None => (Bytes::from(text), None),
    };
    HttpResponse {
        status: 200,
        content_type: CONTENT_TYPE,
        content_encoding,
        body,
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), Compression::fast());
    encoder.write_all(data)?;
    Ok(Bytes::from(encoder.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn gzip_round_trips_and_plain_stays_plain() {
        let hub = Arc::new(MetricsHub::new());
        crate::register_metrics(&hub);
        let route = route("localhost:9153", hub);
        assert_eq!((route.path, route.role), ("/metrics", HttpRole::Metrics));

        let plain = (route.handler)(&HttpRequest {
            path: PATH.into(),
            accept_gzip: false,
        });
        assert_eq!(plain.status, 200);
        assert_eq!(
            plain.content_type,
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let text = std::str::from_utf8(&plain.body).unwrap().to_string();
        assert!(text.contains("coredns_panics_total 0\n"), "{text}");

        let gz = (route.handler)(&HttpRequest {
            path: PATH.into(),
            accept_gzip: true,
        });
        assert_eq!(&gz.body[..2], &[0x1f, 0x8b]);
        let mut unzipped = String::new();
        GzDecoder::new(&gz.body[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);
    }
}
