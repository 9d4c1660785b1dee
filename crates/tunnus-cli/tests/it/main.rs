//! The `tunnus` binary's integration tests, one test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod crash;
mod deploy;
mod legacy;
