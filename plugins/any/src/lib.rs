//! The `any` directive.
