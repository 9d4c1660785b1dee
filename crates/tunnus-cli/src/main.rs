//! The `tunnus` command: `serve` runs the provider, `migrate` applies
//! database migrations, `import-legacy` brings accounts over from the legacy
//! account system. Configuration comes from `--config FILE` (or
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

/// The process's allocator. A request allocates and frees many small
/// buffers across two worker threads and the database writer; with glibc's
/// malloc that was 18% of the server's CPU in a code exchange, and jemalloc
/// served 12-15% more code exchanges on the same two cores, for 2 MB more
/// idle memory (docs/performance.md, 2026-12-05).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod clients;
mod demo;
mod legacy;
mod orgs;
mod terms;

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
    Serve {
        /// Also run the demo services Campus (:8081), Warehouse (:8082) and
        /// Model Sharing (:8083), registered as clients on first use.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage relying parties (OIDC clients).
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage organizations, their members and groups.
    #[command(subcommand)]
    Org(orgs::OrgCommand),
    /// Manage the entitlement catalogue and licenses.
    #[command(subcommand)]
    License(orgs::LicenseCommand),
    /// Inspect identities and grant platform administration.
    #[command(subcommand)]
    User(orgs::UserCommand),
    /// Publish new versions of the terms of service and privacy policy.
    #[command(subcommand)]
    Terms(terms::TermsCommand),
    /// Import accounts from the legacy account system (CSV or JSON Lines).
    /// Idempotent: a rerun imports only what is not yet in.
    ImportLegacy(legacy::ImportArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Activate the published next key of every algorithm, publish a new
    /// next key, retire the old active one (kept until its tokens expire).
    /// Running servers pick the change up within a minute.
    Rotate,
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
        Command::Serve { demo } => runtime.block_on(serve(config, demo)),
        Command::Migrate => migrate(&config),
        Command::Client(command) => runtime.block_on(clients::run(&config, command)),
        Command::Keys(KeysCommand::Rotate) => runtime.block_on(rotate_keys(&config)),
        Command::Org(command) => runtime.block_on(orgs::run_org(&config, command)),
        Command::License(command) => runtime.block_on(orgs::run_license(&config, command)),
        Command::User(command) => runtime.block_on(orgs::run_user(&config, command)),
        Command::Terms(command) => runtime.block_on(terms::run(&config, command)),
        Command::ImportLegacy(args) => legacy::run(&config, args),
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

async fn serve(config: Config, with_demo: bool) -> Result<(), String> {
    let issuer = config.public_url.trim_end_matches('/').to_owned();
    let server = Server::start(config, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
    println!("Tunnus is running at {issuer} — open it in a browser.");
    if server.state.dev_outbox {
        println!("No mail server configured: emails are listed at {issuer}/dev/outbox");
    }
    let demo = if with_demo {
        let services = demo::register_clients(&server.state.config, &server.state.db, &server.state.secret_key).await?;
        for s in &services {
            println!("Demo service {} at {}", s.name, s.public_url);
        }
        Some(tunnus_demo::start(tunnus_demo::DemoConfig { issuer, services }).await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let result = server.run_until_stopped().await.map_err(|e| e.to_string());
    if let Some(demo) = demo {
        demo.stop().await;
    }
    result
}

async fn rotate_keys(config: &Config) -> Result<(), String> {
    let db = tunnus_server::state::open_database(config).map_err(|e| e.to_string())?;
    let key = tunnus_server::state::load_secret_key(config).map_err(|e| e.to_string())?;
    let now = tunnus_core::Clock::now(&SystemClock);
    let o = &config.oidc;
    let keep = time::Duration::minutes(o.id_token_minutes.max(o.access_token_minutes) + 60);
    db.write(move |c| tunnus_oidc::keys::rotate(c, &key, now, keep)).await.map_err(|e| e.to_string())?;
    println!("Signing keys rotated: the next keys now sign; new next keys are published.");
    Ok(())
}

fn migrate(config: &Config) -> Result<(), String> {
    let db = Db::connect(&DbConfig::new(config.database_url())).map_err(|e| e.to_string())?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    println!("{applied} migration(s) applied to the {:?} database.", db.backend());
    Ok(())
}
