//! The `log` directive.
