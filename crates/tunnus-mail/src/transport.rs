//! How emails leave: `.eml` files in a folder (the embedded default) or SMTP.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::RenderedEmail;

/// SMTP connection security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refuses servers without it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a mail catcher on localhost.
    None,
}

/// SMTP settings from the configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Seconds before a connection or command is given up.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    10
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where emails go.
#[derive(Clone)]
pub enum Transport {
    Folder { dir: PathBuf, transport: AsyncFileTransport<Tokio1Executor> },
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Folder { dir, .. } => write!(f, "Transport::Folder({})", dir.display()),
            Self::Smtp(_) => f.write_str("Transport::Smtp"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The From or To address is not a valid mailbox.
    #[error("invalid address: {0}")]
    Address(String),
    /// The message could not be assembled.
    #[error("cannot build message: {0}")]
    Build(String),
    /// The folder or the SMTP server refused or failed.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

impl Transport {
    pub fn folder(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self::Folder { transport: AsyncFileTransport::new(&dir), dir })
    }

    pub fn smtp(s: &SmtpSettings) -> Result<Self, TransportError> {
        let builder = match s.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)),
        }
        .map_err(|e| TransportError::Delivery(e.to_string()))?;
        let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(s.timeout_seconds)));
        if let (Some(user), Some(pass)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Self::Smtp(builder.build()))
    }

    pub async fn send(&self, from: &str, email: &RenderedEmail) -> Result<(), TransportError> {
        let from: Mailbox =
            from.parse().map_err(|e: lettre::address::AddressError| TransportError::Address(e.to_string()))?;
        let to: Mailbox =
            email.to.parse().map_err(|e: lettre::address::AddressError| TransportError::Address(e.to_string()))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| TransportError::Build(e.to_string()))?;
        match self {
            Self::Folder { transport, .. } => {
                transport.send(message).await.map(|_| ()).map_err(|e| TransportError::Delivery(e.to_string()))
            }
            Self::Smtp(transport) => {
                transport.send(message).await.map(|_| ()).map_err(|e| TransportError::Delivery(e.to_string()))
            }
        }
    }

    /// Whether emails stay on this machine (enables the development outbox page).
    pub fn is_local_folder(&self) -> bool {
        matches!(self, Self::Folder { .. })
    }
}
