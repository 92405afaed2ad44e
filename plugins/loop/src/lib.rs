//! The `loop` directive (plugins-core.md, loop).
#![forbid(unsafe_code)]

pub const NAME: &str = "loop";
