//! Response bodies: whole JSON documents, or streams (list pages written item by item, watch
//! events as they happen) so that a 50,000-object list never becomes one string.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::{Response, StatusCode, body::Frame, header};

use crate::status::{ApiError, reason_for, status_bytes};

/// The body type of every answer.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// A complete JSON answer.
pub(crate) fn json_response(status: StatusCode, body: Bytes) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A streamed JSON answer (sent with chunked transfer encoding).
pub(crate) fn stream_response(
    stream: impl Stream<Item = Bytes> + Send + 'static,
) -> Response<ResponseBody> {
    let frames = stream.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk)));
    let mut response = Response::new(StreamBody::new(frames).boxed_unsync());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A failure `Status` answer with the reason the real API server gives for the code.
pub(crate) fn status_response(code: u16, message: &str) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(
        status,
        status_bytes(status.as_u16(), reason_for(status.as_u16()), message),
    )
}

/// The failure `Status` answer for an error.
pub(crate) fn error_response(error: ApiError) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(
        status,
        status_bytes(status.as_u16(), error.reason, &error.message),
    )
}
