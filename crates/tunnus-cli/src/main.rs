//! The `tunnus` command: `serve` runs the provider, `migrate` applies
//! database migrations. Configuration comes from `--config FILE` (or
//! `TUNNUS_CONFIG`) and `TUNNUS_*` variables; with neither, the embedded
//! default runs from `./data`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tunnus_core::SystemClock;
use tunnus_server::Server;
use tunnus_server::config::{Config, LogFormat};
use tunnus_store::{Db, DbConfig};

#[derive(Parser)]
#[command(name = "tunnus", version, about = "Tunnus — OpenID Connect single sign-on")]
struct Cli {
    /// TOML configuration file (see docs/tunnus.example.toml).
    #[arg(long, short, env = "TUNNUS_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the identity provider (migrations are applied first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log.format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Pretty => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tunnus: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tunnus: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Migrate => migrate(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("tunnus: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let server = Server::start(config, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
    println!("Tunnus is running at {} — open it in a browser.", server.state.config.public_url);
    if server.state.dev_outbox {
        println!("No mail server configured: emails are listed at {}/dev/outbox", server.state.config.base_url());
    }
    server.run_until_stopped().await.map_err(|e| e.to_string())
}

fn migrate(config: &Config) -> Result<(), String> {
    let db = Db::connect(&DbConfig::new(config.database_url())).map_err(|e| e.to_string())?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    println!("{applied} migration(s) applied to the {:?} database.", db.backend());
    Ok(())
}
