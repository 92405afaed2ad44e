//! HTTP routes a directive declares (`/health`, `/ready`, `/metrics`); the server serves them.

use std::sync::Arc;

use bytes::Bytes;

/// Which endpoint a route is: decides what a failed bind means and when it closes at shutdown
/// (cli-and-endpoints.md §4 and §5.1: ready closes first, health after lameduck, metrics last).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpRole {
    Ready,
    Health,
    Metrics,
}

/// The parts of a request the handlers look at.
#[derive(Clone, Debug, Default)]
pub struct HttpRequest {
    pub path: String,
    /// `Accept-Encoding` allows gzip.
    pub accept_gzip: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    /// `Content-Encoding` of `body` (`gzip` when the handler compressed it).
    pub content_encoding: Option<&'static str>,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        HttpResponse {
            status,
            content_type: "text/plain; charset=utf-8",
            content_encoding: None,
            body: body.into(),
        }
    }
}

pub type Handler = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// `GET ADDR PATH` (any method, exact path) answered by `handler`.
#[derive(Clone)]
pub struct HttpRoute {
    /// `host:port` as written in the Corefile (`:8080`, `localhost:9153`, `[::1]:8181`).
    pub addr: String,
    pub path: &'static str,
    pub role: HttpRole,
    pub handler: Handler,
}

impl std::fmt::Debug for HttpRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRoute")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("role", &self.role)
            .finish()
    }
}

/// Why an HTTP address is not `host:port`; messages are Go's `net.SplitHostPort` ones, which
/// CoreDNS passes through (`address 8080: missing port in address`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("address {0}: missing port in address")]
    MissingPort(String),
    #[error("address {0}: too many colons in address")]
    TooManyColons(String),
    #[error("address {0}: missing ']' in address")]
    MissingBracket(String),
    #[error("address {0}: unexpected '[' in address")]
    UnexpectedBracket(String),
}

/// Reads the optional `[ADDR]` argument of an HTTP directive (health, ready, prometheus):
/// None without one, the address when it is `host:port`, an error otherwise (more than one
/// argument is an ARGERR).
pub fn address_arg(d: &mut crate::Dispenser) -> Result<Option<String>, crate::ConfigError> {
    let args = d.remaining_args();
    match args.as_slice() {
        [] => Ok(None),
        [addr] => {
            split_host_port(addr).map_err(crate::ConfigError::invalid)?;
            Ok(Some(addr.clone()))
        }
        _ => Err(d.arg_err().into()),
    }
}

/// Splits `host:port` as Go's `net.SplitHostPort` does (host may be empty: `:8080`).
pub fn split_host_port(addr: &str) -> Result<(&str, &str), AddrError> {
    let err_missing = || AddrError::MissingPort(addr.to_string());
    let last = addr.rfind(':').ok_or_else(err_missing)?;
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| AddrError::MissingBracket(addr.to_string()))?;
        let after = &rest[end + 1..];
        if after.is_empty() {
            return Err(err_missing());
        }
        if !after.starts_with(':') || after[1..].contains(':') {
            return Err(if after.starts_with(':') {
                AddrError::TooManyColons(addr.to_string())
            } else {
                err_missing()
            });
        }
        (&rest[..end], &addr[last + 1..])
    } else {
        let host = &addr[..last];
        if host.contains(':') {
            return Err(AddrError::TooManyColons(addr.to_string()));
        }
        if host.contains('[') || host.contains(']') {
            return Err(AddrError::UnexpectedBracket(addr.to_string()));
        }
        (host, &addr[last + 1..])
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_go() {
        assert_eq!(split_host_port(":8080"), Ok(("", "8080")));
        assert_eq!(split_host_port("localhost:9153"), Ok(("localhost", "9153")));
        assert_eq!(split_host_port("[::1]:8181"), Ok(("::1", "8181")));
        assert_eq!(
            split_host_port("8080").unwrap_err().to_string(),
            "address 8080: missing port in address"
        );
        assert!(matches!(
            split_host_port("::1:80"),
            Err(AddrError::TooManyColons(_))
        ));
    }
}
