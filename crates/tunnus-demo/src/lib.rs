//! Demo relying parties for Tunnus single sign-on — Campus (e-learning), Warehouse
//! (downloadable content) and Model Sharing (collaboration) — from one code base: this module
//! owns [`start`] and the running [`DemoHandles`].
//!
//! Each service is a confidential OpenID Connect client (authorization code flow with PKCE
//! S256, state and nonce, `client_secret_basic`) with RP-initiated and back-channel logout.
//! Discovery happens lazily on first use, so the provider may start after [`start`].

pub mod backchannel;
pub mod config;
pub mod native;
pub mod oidc_client;
pub mod pages;
pub mod service;
pub mod store;

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use tokio::task::JoinHandle;

pub use config::{DemoConfig, DemoService, backchannel_uri, default_services, post_logout_uri, redirect_uri};
pub use oidc_client::OidcError;
pub use pages::escape_html;

/// Why the demo services could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The configuration is unusable (bad URL, duplicate slug, …).
    #[error("invalid demo configuration: {0}")]
    Config(String),
    /// A listen address could not be bound.
    #[error("{slug}: cannot listen on {addr}: {source}")]
    Bind {
        /// The service.
        slug: String,
        /// Its listen address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The OpenID Connect client could not be built.
    #[error("{slug}: {source}")]
    Client {
        /// The service.
        slug: String,
        /// The cause.
        source: OidcError,
    },
    /// A server failed while running.
    #[error("{slug}: server error: {source}")]
    Server {
        /// The service.
        slug: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// One running demo service.
struct Running {
    slug: String,
    addr: SocketAddr,
    handle: ServerHandle,
    served: JoinHandle<std::io::Result<()>>,
}

/// The running demo services: their addresses, and how to stop or await them.
pub struct DemoHandles {
    running: Vec<Running>,
}

impl DemoHandles {
    /// `(slug, bound address)` of every service, in configuration order.
    pub fn addrs(&self) -> Vec<(String, SocketAddr)> {
        self.running.iter().map(|r| (r.slug.clone(), r.addr)).collect()
    }

    /// Stops every service (gracefully: requests in flight finish) and waits for them.
    pub async fn stop(self) {
        for r in &self.running {
            r.handle.stop(true).await;
        }
        for r in self.running {
            let _ = r.served.await;
        }
    }

    /// Waits until every service has stopped (e.g. on Ctrl-C / SIGTERM, which actix handles).
    pub async fn wait(self) -> Result<(), DemoError> {
        let mut first_error = None;
        for r in self.running {
            let result = r.served.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
            if let Err(source) = result
                && first_error.is_none()
            {
                first_error = Some(DemoError::Server { slug: r.slug, source });
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn validate(config: &DemoConfig) -> Result<(), DemoError> {
    url::Url::parse(&config.issuer).map_err(|e| DemoError::Config(format!("issuer {:?}: {e}", config.issuer)))?;
    let mut slugs = HashSet::new();
    for s in &config.services {
        if s.slug.is_empty() || !s.slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(DemoError::Config(format!(
                "slug {:?} must be non-empty ASCII letters, digits, - or _",
                s.slug
            )));
        }
        if !slugs.insert(s.slug.as_str()) {
            return Err(DemoError::Config(format!("duplicate slug {:?}", s.slug)));
        }
        url::Url::parse(&s.public_url)
            .map_err(|e| DemoError::Config(format!("{}: public_url {:?}: {e}", s.slug, s.public_url)))?;
    }
    Ok(())
}

/// Starts every service; returns handles so the caller can stop them or await them.
pub async fn start(config: DemoConfig) -> Result<DemoHandles, DemoError> {
    let mut listeners = Vec::with_capacity(config.services.len());
    for s in &config.services {
        let listener = TcpListener::bind(s.listen).map_err(|source| DemoError::Bind {
            slug: s.slug.clone(),
            addr: s.listen.to_string(),
            source,
        })?;
        listeners.push(listener);
    }
    start_on(config, listeners).await
}

/// Like [`start`] on already bound listeners, one per service in the same order (tests bind
/// port 0 and put the resulting address into `public_url`); `listen` is then ignored.
pub async fn start_on(config: DemoConfig, listeners: Vec<TcpListener>) -> Result<DemoHandles, DemoError> {
    validate(&config)?;
    if listeners.len() != config.services.len() {
        return Err(DemoError::Config(format!("{} listeners for {} services", listeners.len(), config.services.len())));
    }
    let mut running: Vec<Running> = Vec::with_capacity(listeners.len());
    for (service, listener) in config.services.into_iter().zip(listeners) {
        match serve(&config.issuer, service, listener) {
            Ok(r) => running.push(r),
            Err(e) => {
                DemoHandles { running }.stop().await;
                return Err(e);
            }
        }
    }
    Ok(DemoHandles { running })
}

fn serve(issuer: &str, service: DemoService, listener: TcpListener) -> Result<Running, DemoError> {
    let slug = service.slug.clone();
    let listen = service.listen.to_string();
    let addr = listener.local_addr().map_err(|source| DemoError::Bind { slug: slug.clone(), addr: listen, source })?;
    let oidc = oidc_client::OidcClient::new(issuer, &service)
        .map_err(|source| DemoError::Client { slug: slug.clone(), source })?;
    let public_url = service.public_url.clone();
    let data = web::Data::new(service::ServiceState::new(service, oidc));
    let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(service::configure))
        .workers(1)
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|source| DemoError::Bind { slug: slug.clone(), addr: addr.to_string(), source })?
        .run();
    let handle = server.handle();
    let served = tokio::spawn(server);
    tracing::info!(service = %slug, %addr, %public_url, "demo service is serving");
    Ok(Running { slug, addr, handle, served })
}
