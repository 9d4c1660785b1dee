//! The `tunnus-demo` binary: runs Campus (8081), Warehouse (8082) and Model Sharing (8083)
//! against a Tunnus provider until Ctrl-C; `desktop` and `device` sign in once as a native app
//! (RFC 8252) or a device without a browser (RFC 8628) and print who signed in.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tunnus_demo::native::{self, DeviceCodeInfo, SignedIn};
use tunnus_demo::{DemoConfig, default_services, start};

const DEFAULT_ISSUER: &str = "http://localhost:8080";

/// Demo relying parties showing Tunnus single sign-on.
#[derive(Debug, Parser)]
#[command(name = "tunnus-demo", version, about, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Args {
    /// Issuer URL of the Tunnus provider.
    #[arg(long, env = "TUNNUS_DEMO_ISSUER", default_value = DEFAULT_ISSUER)]
    issuer: String,
    /// Client secret of the "campus" client.
    #[arg(long, env = "TUNNUS_DEMO_CAMPUS_SECRET", required = true)]
    campus_secret: Option<String>,
    /// Client secret of the "warehouse" client.
    #[arg(long, env = "TUNNUS_DEMO_WAREHOUSE_SECRET", required = true)]
    warehouse_secret: Option<String>,
    /// Client secret of the "model-sharing" client.
    #[arg(long, env = "TUNNUS_DEMO_MODEL_SHARING_SECRET", required = true)]
    model_sharing_secret: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in as a desktop app: system browser, loopback redirect, PKCE (RFC 8252).
    Desktop {
        /// Issuer URL of the Tunnus provider.
        #[arg(long, env = "TUNNUS_DEMO_ISSUER", default_value = DEFAULT_ISSUER)]
        issuer: String,
        /// The public client to sign in as (redirect URI http://127.0.0.1/callback registered).
        #[arg(long, default_value = native::DESKTOP_CLIENT_ID)]
        client_id: String,
        /// How long to wait for the browser to come back.
        #[arg(long, default_value_t = 300)]
        timeout_seconds: u64,
        /// Only print the address; do not try to open a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Sign in as a device without a browser: enter a code elsewhere (RFC 8628).
    Device {
        /// Issuer URL of the Tunnus provider.
        #[arg(long, env = "TUNNUS_DEMO_ISSUER", default_value = DEFAULT_ISSUER)]
        issuer: String,
        /// The public client to sign in as (device code grant allowed).
        #[arg(long, default_value = native::DEVICE_CLIENT_ID)]
        client_id: String,
        /// How long to wait for someone to approve (the code may expire sooner).
        #[arg(long, default_value_t = 900)]
        timeout_seconds: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match args.command {
        Some(Command::Desktop { issuer, client_id, timeout_seconds, no_browser }) => {
            desktop(&issuer, &client_id, Duration::from_secs(timeout_seconds), !no_browser).await
        }
        Some(Command::Device { issuer, client_id, timeout_seconds }) => {
            device(&issuer, &client_id, Duration::from_secs(timeout_seconds)).await
        }
        None => {
            let (Some(campus), Some(warehouse), Some(model_sharing)) =
                (args.campus_secret, args.warehouse_secret, args.model_sharing_secret)
            else {
                eprintln!("tunnus-demo: the three client secrets are required");
                return ExitCode::FAILURE;
            };
            serve(args.issuer, &campus, &warehouse, &model_sharing).await
        }
    }
}

async fn serve(issuer: String, campus: &str, warehouse: &str, model_sharing: &str) -> ExitCode {
    let services = default_services(campus, warehouse, model_sharing);
    for s in &services {
        println!("{} → {}", s.name, s.public_url);
    }
    let handles = match start(DemoConfig { issuer, services }).await {
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

async fn desktop(issuer: &str, client_id: &str, timeout: Duration, open_browser: bool) -> ExitCode {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("tunnus-demo: cannot listen on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = native::desktop_sign_in(issuer, client_id, listener, open_browser, timeout, |url| {
        println!("Sign in in your browser. If it does not open by itself, open this address:\n\n  {url}\n");
        println!("Waiting up to {} seconds…", timeout.as_secs());
    })
    .await;
    report(result)
}

async fn device(issuer: &str, client_id: &str, timeout: Duration) -> ExitCode {
    let result = native::device_sign_in(issuer, client_id, timeout, |code: &DeviceCodeInfo| {
        println!("Open {} and enter {}", code.verification_uri, code.user_code);
        if let Some(complete) = &code.verification_uri_complete {
            println!("(or open {complete})");
        }
        println!("The code is valid for {} minutes. Waiting…", code.expires_in.as_secs().div_ceil(60));
    })
    .await;
    report(result)
}

fn report(result: Result<SignedIn, native::NativeError>) -> ExitCode {
    match result {
        Ok(signed_in) => {
            println!("Signed in as {}.", signed_in.sub);
            match serde_json::to_string_pretty(&signed_in.claims) {
                Ok(json) => println!("ID token claims:\n{json}"),
                Err(e) => eprintln!("tunnus-demo: cannot print the claims: {e}"),
            }
            let refresh = if signed_in.refresh_token.is_some() { "received" } else { "not received" };
            println!("Refresh token: {refresh}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tunnus-demo: sign-in failed: {e}");
            ExitCode::FAILURE
        }
    }
}
