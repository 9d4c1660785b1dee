//! `tunnus-load hash-rate`: how many Argon2id hashes this machine computes
//! per second on all its cores, right now. The full sign-in hashes one
//! password per flow, so this is its ceiling, as `openssl speed` is the RS256
//! flows': the machine's speed moves from one minute to the next (a shared
//! host), and a sign-in figure means something only beside the bound
//! measured around it.
//!
//! Hashed as a Tunnus hashing thread does: with the `argon2` crate, the
//! same parameters (Tunnus's defaults unless told otherwise) and working
//! memory kept from one hash to the next.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::Serialize;

#[derive(clap::Args, Debug, Clone)]
pub struct HashRateArgs {
    /// Argon2 memory cost in KiB (Tunnus's default: 19,456, OWASP's).
    #[arg(long, default_value_t = 19_456)]
    pub memory_kib: u32,
    #[arg(long, default_value_t = 2)]
    pub iterations: u32,
    #[arg(long, default_value_t = 1)]
    pub parallelism: u32,
    /// How long to hash.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// A label for the report: `before` or `after` the flows.
    #[arg(long, default_value = "")]
    pub when: String,
}

/// One JSON line of a results file.
#[derive(Serialize, Debug)]
pub struct HashRate {
    /// Always `argon2id`: tells this line apart from the flows' and the RSA bound's.
    pub bound: &'static str,
    pub when: String,
    pub cores: usize,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub hashes_per_second: f64,
}

/// Hashes on one thread per core for `seconds` and counts.
pub fn hash_rate(args: &HashRateArgs) -> Result<HashRate, String> {
    let params = Params::new(args.memory_kib, args.iterations, args.parallelism, None).map_err(|e| e.to_string())?;
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        return Err("--seconds must be more than 0 and at most 600".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| {
                let params = params.clone();
                scope.spawn(move || {
                    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                    let mut blocks = vec![Block::default(); params.block_count()];
                    let mut out = [0u8; 32];
                    let mut hashes = 0u64;
                    while Instant::now() < deadline {
                        let salt = hashes.to_le_bytes();
                        let salt = [salt, salt].concat();
                        if argon2
                            .hash_password_into_with_memory(b"Kuusi-Hirvi-42", &salt, &mut out, &mut blocks)
                            .is_err()
                        {
                            return 0;
                        }
                        hashes += 1;
                    }
                    hashes
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or(0)).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err("no hash was computed".into());
    }
    Ok(HashRate {
        bound: "argon2id",
        when: args.when.clone(),
        cores,
        memory_kib: args.memory_kib,
        iterations: args.iterations,
        parallelism: args.parallelism,
        hashes_per_second: total as f64 / elapsed,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{HashRateArgs, hash_rate};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: HashRateArgs,
    }

    /// Without options it measures what Tunnus does by default.
    #[test]
    fn the_defaults_are_tunnus_defaults() {
        let args = Cli::parse_from(["hash-rate"]).args;
        let tunnus = tunnus_core::password::Argon2Config::default();
        assert_eq!(
            (args.memory_kib, args.iterations, args.parallelism),
            (tunnus.memory_kib, tunnus.iterations, tunnus.parallelism)
        );
    }

    #[test]
    fn counts_hashes_and_refuses_bad_parameters() {
        let args = Cli::parse_from(["hash-rate", "--memory-kib", "64", "--iterations", "1", "--seconds", "0.05"]).args;
        let rate = hash_rate(&args).unwrap();
        assert!(rate.hashes_per_second > 0.0);
        assert_eq!(rate.bound, "argon2id");
        let tiny = Cli::parse_from(["hash-rate", "--memory-kib", "1"]).args;
        assert!(hash_rate(&tiny).is_err(), "Argon2 needs at least 8 KiB per lane");
        let never = Cli::parse_from(["hash-rate", "--seconds", "0"]).args;
        assert!(hash_rate(&never).is_err());
    }
}
