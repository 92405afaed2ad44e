//! The `loadbalance` directive (plugins-resolution.md §5).
#![forbid(unsafe_code)]

pub const NAME: &str = "loadbalance";
