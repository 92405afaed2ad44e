//! The `reload` directive.
