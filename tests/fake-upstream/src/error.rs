//! Why a fake upstream could not start.

/// Setting up a fake upstream failed; `start*` return it inside a `std::io::Error`.
#[derive(Debug, thiserror::Error)]
pub enum FakeUpstreamError {
    #[error("generating the test certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("setting up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl From<FakeUpstreamError> for std::io::Error {
    fn from(e: FakeUpstreamError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
