//! Test support for this crate's tests and for the plugins built on it (`k8s_external`,
//! `autopath`): the contract's fixture set K fed into a [`Cache`](crate::Cache), a
//! `kubernetes` stanza set up in a test block, and the answer-table comparison of
//! kubernetes.md §18.2. Only with the `test-util` feature.

pub mod answers;
pub mod fixture;
