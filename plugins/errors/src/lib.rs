//! The `errors` directive.
