//! The `bufsize` directive.
