//! Tunnus server tests: the real server on an ephemeral port, a real HTTP
//! client with a cookie jar as the browser, real SQLite and PostgreSQL.

mod bad_input;
mod lifecycle;
mod support;
