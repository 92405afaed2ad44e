//! Kubernetes `Status` objects: the body of every error answer and of watch `ERROR` events
//! (API conventions, "Response Status Kind"). kube-rs turns them into `Error::Api`.

use bytes::Bytes;
use serde_json::json;

/// The `reason` the real API server gives with an HTTP status code.
pub(crate) fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// A failure `Status` as JSON.
pub(crate) fn status_json(code: u16, reason: &str, message: &str) -> serde_json::Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// A failure `Status` serialized.
pub(crate) fn status_bytes(code: u16, reason: &str, message: &str) -> Bytes {
    Bytes::from(status_json(code, reason, message).to_string())
}

/// A request the API answers with a failure `Status` (bad parameters, expired versions...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl ApiError {
    /// An error with the reason the real API server gives for `code`.
    pub fn new(code: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason_for(code),
            message: message.into(),
        }
    }

    /// 410 Expired: a resourceVersion or continue token from compacted history.
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError {
            code: 410,
            reason: "Expired",
            message: message.into(),
        }
    }

    /// 504 Timeout: a resourceVersion newer than the server has.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            code: 504,
            reason: "Timeout",
            message: message.into(),
        }
    }
}
