//! Process-wide services the server runs beside the DNS listeners: the HTTP endpoints the
//! `health`, `ready` and `prometheus` directives declare, and the process metrics collector.
//!
//! Both outlive configuration instances: a reload hands the HTTP servers a new set of routes
//! (addresses that stay are not re-bound) and metric values live in the one process registry.

pub mod http;
pub mod process;

pub use http::{HttpError, HttpServers};
pub use process::register_process_metrics;
