//! `tunnus-load run …` drives one flow and prints a JSON line;
//! `tunnus-load hash-rate` prints the machine's Argon2id bound as one;
//! `tunnus-load report FILE` turns such lines into Markdown tables.

use std::process::ExitCode;

use clap::Parser;
use tunnus_bench::hash_rate::{HashRateArgs, hash_rate};
use tunnus_bench::load::{RunArgs, report, run};

#[derive(Parser)]
#[command(name = "tunnus-load", about = "End-to-end load generator for OpenID Connect providers")]
enum Cli {
    /// Drive one flow and print its figures as one JSON line.
    Run(Box<RunArgs>),
    /// Hash passwords with Argon2id on every core and print hashes/s as one JSON line.
    HashRate(HashRateArgs),
    /// Print Markdown tables (with Tunnus/peer ratios) from a file of JSON lines.
    Report { file: std::path::PathBuf },
}

/// Prints `figures` as one JSON line, or the error on stderr.
fn print_json_line<T: serde::Serialize>(figures: Result<T, String>) -> ExitCode {
    match figures.and_then(|f| serde_json::to_string(&f).map_err(|e| e.to_string())) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tunnus-load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse() {
        Cli::Run(args) => {
            // The set-up runs here; the measured load runs on threads of its own (load::run).
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|runtime| runtime.block_on(run(*args)).map_err(|e| e.to_string()));
            print_json_line(outcome)
        }
        Cli::HashRate(args) => print_json_line(hash_rate(&args)),
        Cli::Report { file } => match std::fs::read_to_string(&file) {
            Ok(text) => {
                let outcomes = report::parse_lines(&text);
                print!("{}", report::markdown(&outcomes));
                print!("{}", report::rsa_shares(&outcomes, &report::parse_bounds(&text)));
                print!("{}", report::argon2_shares(&outcomes, &report::parse_argon2_bounds(&text)));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tunnus-load: {}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    }
}
