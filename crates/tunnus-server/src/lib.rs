//! The Tunnus HTTP server: routing, middleware, hosted pages, and the
//! account services behind them. [`Server::start`] builds everything from a
//! [`Config`] and serves until stopped.

pub mod config;
pub mod error;
mod handlers;
pub mod hashing;
pub mod http;
pub mod pages;
pub mod services;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::error::{QueryPayloadError, UrlencodedError};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio::sync::{Notify, watch};
use tunnus_core::Clock;
use tunnus_mail::Transport;

pub use config::Config;
pub use error::{AppError, StartError};
pub use state::AppState;

/// Largest form body accepted; sign-up forms are far smaller.
const FORM_LIMIT: usize = 16 * 1024;

/// A running server: its address, and how to stop it.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    handle: ServerHandle,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_workers: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(FORM_LIMIT).error_handler(|err, _req| {
        match err {
            UrlencodedError::Overflow { .. } => AppError::TooLarge,
            _ => AppError::BadRequest,
        }
        .into()
    })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_: QueryPayloadError, _req| AppError::BadRequest.into())
}

impl Server {
    /// Builds state, binds `config.listen`, starts the outbox worker and serves.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let listener = std::net::TcpListener::bind(&config.listen)
            .map_err(|e| StartError::Listen(format!("{}: {e}", config.listen)))?;
        Self::start_on(config, clock, listener).await
    }

    /// Like [`Server::start`] on an already bound listener (tests bind port 0).
    pub async fn start_on(
        config: Config,
        clock: Arc<dyn Clock>,
        listener: std::net::TcpListener,
    ) -> Result<Self, StartError> {
        let transport = match &config.mail.smtp {
            Some(smtp) => Transport::smtp(smtp).map_err(|e| StartError::Mail(e.to_string()))?,
            None => Transport::folder(config.data_dir.join("outbox")).map_err(|e| StartError::Mail(e.to_string()))?,
        };
        let from = config.mail.from.clone();
        let waker = Arc::new(Notify::new());
        let _ = http::metrics::handle();
        let state = AppState::build(config, clock.clone(), waker.clone()).await?;
        for declared in &state.config.clients {
            let created = services::clients::ensure(
                &state.db,
                &state.secret_key,
                &declared.spec(),
                declared.secret.clone(),
                clock.now(),
            )
            .await
            .map_err(|e| StartError::Config(format!("client {}: {e}", declared.id)))?;
            tracing::info!(client_id = %declared.id, created, "client from configuration");
        }
        let (stop_workers, stopped) = watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let email = tunnus_mail::email_worker(state.db.clone(), transport, from, clock.clone(), waker);
        let backchannel = services::backchannel::worker(
            state.db.clone(),
            state.provider.clone(),
            clock,
            state.backchannel_waker.clone(),
        )
        .map_err(|e| StartError::Config(format!("HTTP client: {e}")))?;
        let keys = state.clone();
        let workers = vec![
            tokio::spawn(email.run(until_stopped())),
            tokio::spawn(backchannel.run(until_stopped())),
            tokio::spawn(reload_keys_periodically(keys, until_stopped())),
        ];

        let addr = listener.local_addr().map_err(|e| StartError::Listen(e.to_string()))?;
        let data = web::Data::new(state.clone());
        let secure = state.config.secure_cookies();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(form_config())
                .app_data(query_config())
                .app_data(web::PayloadConfig::new(FORM_LIMIT))
                .wrap(from_fn(http::csrf::middleware))
                .wrap(http::headers::security_headers())
                .wrap(actix_web::middleware::Condition::new(
                    secure,
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains")),
                ))
                .wrap(from_fn(http::context::middleware))
                .configure(handlers::configure)
                .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::NotFound) }))
        })
        .listen(listener)
        .map_err(|e| StartError::Listen(e.to_string()))?
        .shutdown_timeout(30)
        .run();
        let handle = server.handle();
        let served = tokio::spawn(server);
        tracing::info!(%addr, public_url = %state.config.public_url, "Tunnus is serving");
        Ok(Self { addr, state, handle, served, stop_workers, workers })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes requests in flight, then lets the outbox
    /// worker finish its batch.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.served.await;
        finish(&self.state, self.stop_workers, self.workers).await;
    }

    /// Serves until the process is asked to stop (Ctrl-C / SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self { served, state, stop_workers, workers, .. } = self;
        let result = served.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        finish(&state, stop_workers, workers).await;
        result
    }
}

/// After the last request: stops the background workers and writes the
/// short-lived store's pending changes, so sessions survive the restart.
async fn finish(
    state: &AppState,
    stop_workers: tokio::sync::watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
) {
    let _ = stop_workers.send(true);
    for w in workers {
        let _ = w.await;
    }
    if let Err(e) = state.ephemeral.flush().await {
        tracing::error!(error = %e, "could not write the short-lived state at shutdown");
    }
}

/// Housekeeping every minute: picks up signing keys rotated by `tunnus
/// keys rotate` or another replica, deletes audit events past retention and
/// expired refresh-token families and tokens. Idempotent, so every replica may run it.
async fn reload_keys_periodically(state: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {
                if let Err(e) = state.provider.keys.reload(&state.db).await {
                    tracing::warn!(error = %e, "cannot reload signing keys");
                }
                let now = state.clock.now();
                let cutoff = now - time::Duration::days(state.config.audit_retention_days);
                let cleaned = state
                    .db
                    .write(move |c| Ok((tunnus_store::audit::delete_before(c, cutoff)?, tunnus_store::refresh_tokens::delete_expired(c, now)?)))
                    .await;
                match cleaned {
                    Ok((0, 0)) => {}
                    Ok((audit, tokens)) => tracing::info!(audit, tokens, "housekeeping removed expired records"),
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
                }
            }
        }
    }
}
