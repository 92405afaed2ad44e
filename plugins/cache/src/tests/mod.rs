//! Option parsing, the C-cases of plugins-resolution.md §9 (a scripted next plugin standing
//! in for `forward . U1`), sharding, concurrency and metrics.

mod cases;
mod more_cases;
mod options;
mod sharding;
mod support;
