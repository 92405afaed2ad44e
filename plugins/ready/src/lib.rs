//! The `ready` directive.
