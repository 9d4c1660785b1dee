//! The `tunnus-demo` binary: runs Campus (8081), Warehouse (8082) and Model Sharing (8083)
//! against a Tunnus provider until Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use tunnus_demo::{DemoConfig, default_services, start};

/// Demo relying parties showing Tunnus single sign-on.
#[derive(Debug, Parser)]
#[command(name = "tunnus-demo", version, about)]
struct Args {
    /// Issuer URL of the Tunnus provider.
    #[arg(long, env = "TUNNUS_DEMO_ISSUER", default_value = "http://localhost:8080")]
    issuer: String,
    /// Client secret of the "campus" client.
    #[arg(long, env = "TUNNUS_DEMO_CAMPUS_SECRET")]
    campus_secret: String,
    /// Client secret of the "warehouse" client.
    #[arg(long, env = "TUNNUS_DEMO_WAREHOUSE_SECRET")]
    warehouse_secret: String,
    /// Client secret of the "model-sharing" client.
    #[arg(long, env = "TUNNUS_DEMO_MODEL_SHARING_SECRET")]
    model_sharing_secret: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let services = default_services(&args.campus_secret, &args.warehouse_secret, &args.model_sharing_secret);
    for s in &services {
        println!("{} → {}", s.name, s.public_url);
    }
    let handles = match start(DemoConfig { issuer: args.issuer, services }).await {
        Ok(handles) => handles,
        Err(e) => {
            eprintln!("tunnus-demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    // actix stops the servers on Ctrl-C / SIGTERM; this returns once they have.
    match handles.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tunnus-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
