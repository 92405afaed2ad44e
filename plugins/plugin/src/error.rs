//! Errors of the contract: a plugin's query-time [`Error`], the [`Failure`] a chain returns
//! when it wrote no reply, and the [`ConfigError`] a directive's setup returns.

use std::fmt;

use hickory_proto::op::ResponseCode;

use crate::dispenser::ParseError;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A query-time error, displayed as CoreDNS prints it: `plugin/forward: no healthy proxies`.
#[derive(Debug)]
pub struct Error {
    plugin: Option<&'static str>,
    source: BoxError,
}

impl Error {
    /// An error raised by `plugin`, shown with its `plugin/NAME: ` prefix.
    pub fn new(plugin: &'static str, source: impl Into<BoxError>) -> Self {
        Error {
            plugin: Some(plugin),
            source: source.into(),
        }
    }

    /// An error passed on as it is (e.g. an I/O error), shown without prefix.
    pub fn bare(source: impl Into<BoxError>) -> Self {
        Error {
            plugin: None,
            source: source.into(),
        }
    }

    pub fn plugin(&self) -> Option<&'static str> {
        self.plugin
    }

    /// The underlying error, for tests that check the failure by type.
    pub fn source_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.source.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.plugin {
            Some(name) => write!(f, "plugin/{}: {}", name, self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// `Next::serve` past the last plugin (CoreDNS's `NextOrFailure`).
#[derive(Debug, thiserror::Error)]
#[error("no next plugin found")]
pub struct NoNextPlugin;

/// What a chain returns when it did not write a reply. The server core writes an empty reply
/// with `rcode` when it is SERVFAIL, REFUSED, FORMERR or NOTIMP, and nothing otherwise
/// (corefile.md §7.2 step 10). `error`, when set, is what the `errors` plugin logs.
#[derive(Debug)]
pub struct Failure {
    pub rcode: ResponseCode,
    pub error: Option<Error>,
}

impl Failure {
    /// Not written, no error to log (e.g. REFUSED for a query outside every zone).
    pub fn rcode(rcode: ResponseCode) -> Self {
        Failure { rcode, error: None }
    }

    /// Not written, with an error for the `errors` plugin.
    pub fn error(rcode: ResponseCode, error: Error) -> Self {
        Failure {
            rcode,
            error: Some(error),
        }
    }

    /// SERVFAIL with an error: the common case of a plugin that cannot answer.
    pub fn servfail(error: Error) -> Self {
        Failure::error(ResponseCode::ServFail, error)
    }

    /// True when the server core answers this failure itself with an empty reply.
    pub fn core_writes_reply(&self) -> bool {
        matches!(
            self.rcode,
            ResponseCode::ServFail
                | ResponseCode::Refused
                | ResponseCode::FormErr
                | ResponseCode::NotImp
        )
    }
}

/// Why a directive's setup failed. The assembler prints it as `plugin/NAME: <this>`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A token-level error with file and line.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A second occurrence of a once-per-block directive.
    #[error("this plugin can only be used once per Server Block")]
    Once,
    /// A directive CoreDNS knows but this build does not implement.
    #[error("not supported by this build")]
    NotSupported,
    /// A bad value, with the plugin's own error type underneath.
    #[error(transparent)]
    Invalid(BoxError),
}

impl From<crate::dispenser::Once> for ConfigError {
    fn from(_: crate::dispenser::Once) -> Self {
        ConfigError::Once
    }
}

impl ConfigError {
    pub fn invalid(e: impl Into<BoxError>) -> Self {
        ConfigError::Invalid(e.into())
    }
}
