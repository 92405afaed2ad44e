//! The `debug` directive.
