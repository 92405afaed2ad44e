//! The `health` directive.
