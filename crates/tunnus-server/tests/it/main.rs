//! Tunnus server tests: the real server on an ephemeral port, a real HTTP
//! client with a cookie jar (and, in `browser`, real chromium), real SQLite
//! and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod admin_api;
mod admin_tool;
mod bad_input;
mod browser;
mod device;
mod faults;
mod invitations;
mod language;
mod legacy;
mod lifecycle;
mod oidc;
mod oidc_more;
mod profile;
mod replicas;
mod rp;
mod shutdown;
mod support;
mod terms;
mod upstream;
