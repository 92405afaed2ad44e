//! The request log: what clients asked, so tests can assert that a client used only GET
//! list/watch requests, which paths and which parameters.

/// One request a client sent to the API (control routes under `/fake/` are not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method ("GET").
    pub method: String,
    /// Path without the query ("/api/v1/services").
    pub path: String,
    /// The raw query string ("" if none).
    pub query: String,
    /// The `Authorization` header, if the client sent one.
    pub authorization: Option<String>,
}

impl RecordedRequest {
    /// The first value of a query parameter, percent-decoded.
    pub fn query_param(&self, key: &str) -> Option<String> {
        crate::query::Query::parse(Some(&self.query))
            .get(key)
            .map(str::to_string)
    }

    /// Whether this was a watch (`watch=true` or `watch=1`).
    pub fn is_watch(&self) -> bool {
        crate::query::Query::parse(Some(&self.query)).flag("watch")
    }
}
