//! Micro-benchmarks of Tunnus's hot paths live in `benches/`; run them with
//! `cargo bench -p tunnus-bench`. Figures and what they mean for capacity:
//! `docs/performance.md`. This library is deliberately empty so that
//! `cargo test --workspace` does not pay for the benchmarks.
