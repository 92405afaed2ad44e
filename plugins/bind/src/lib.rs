//! The `bind` directive.
