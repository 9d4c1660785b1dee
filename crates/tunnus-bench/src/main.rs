//! `tunnus-load run …` drives one flow and prints a JSON line;
//! `tunnus-load report FILE` turns such lines into Markdown tables.

use std::process::ExitCode;

use clap::Parser;
use tunnus_bench::load::{RunArgs, report, run};

#[derive(Parser)]
#[command(name = "tunnus-load", about = "End-to-end load generator for OpenID Connect providers")]
enum Cli {
    /// Drive one flow and print its figures as one JSON line.
    Run(Box<RunArgs>),
    /// Print Markdown tables (with Tunnus/peer ratios) from a file of JSON lines.
    Report { file: std::path::PathBuf },
}

fn main() -> ExitCode {
    match Cli::parse() {
        Cli::Run(args) => {
            // The set-up runs here; the measured load runs on threads of its own (load::run).
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("tunnus-load: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run(*args)) {
                Ok(outcome) => match serde_json::to_string(&outcome) {
                    Ok(line) => {
                        println!("{line}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("tunnus-load: {e}");
                        ExitCode::FAILURE
                    }
                },
                Err(e) => {
                    eprintln!("tunnus-load: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cli::Report { file } => match std::fs::read_to_string(&file) {
            Ok(text) => {
                let outcomes = report::parse_lines(&text);
                print!("{}", report::markdown(&outcomes));
                print!("{}", report::rsa_shares(&outcomes, &report::parse_bounds(&text)));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tunnus-load: {}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    }
}
