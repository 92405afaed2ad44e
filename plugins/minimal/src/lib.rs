//! The `minimal` directive.
