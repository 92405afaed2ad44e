//! The `whoami` directive.
