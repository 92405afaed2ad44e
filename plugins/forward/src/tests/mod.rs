//! Tests of the whole plugin against scripted upstreams on 127.0.0.1
//! (plugins-resolution.md §9, F1–F24, and the fault list of issue #4).

mod dot;
mod faults;
mod harness;
mod parse;
mod queries;
mod readme;
