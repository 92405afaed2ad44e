//! Where the fake upstream reports what it ignored (garbage, failed sends): stderr, which the
//! test harness shows for a failing test.

/// Report something the server skipped and carried on after.
pub(crate) fn skipped(what: std::fmt::Arguments<'_>) {
    eprintln!("fake-upstream: {what}");
}
