//! The `prometheus` directive.
