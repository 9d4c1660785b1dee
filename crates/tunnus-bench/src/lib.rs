//! Benchmarks of Tunnus. Criterion micro-benchmarks of the hot paths live in
//! `benches/` (`cargo bench -p tunnus-bench`); the `load` module is the
//! end-to-end load generator behind the `tunnus-load` binary, driven by
//! `bench/run` against Tunnus and peer providers. Figures and how to read
//! them: `docs/performance.md`.

pub mod hash_rate;
pub mod load;
