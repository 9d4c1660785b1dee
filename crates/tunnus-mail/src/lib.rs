//! Tunnus email. Callers decide *when* to send (inside their own
//! transaction, through [`queue`]); this crate decides *what* an email says
//! (localized templates) and *how* it leaves (the [`OutboxWorker`] over a
//! file or SMTP [`Transport`]), retrying until it is delivered.

mod message;
mod transport;
mod worker;

pub use message::{ActionEmail, ActionEmailKind, DeferredEmail, RenderedEmail, decode_payload, queue};
pub use transport::{SmtpSecurity, SmtpSettings, Transport};
pub use worker::email_worker;

/// The outbox `kind` of emails.
pub const OUTBOX_KIND_EMAIL: &str = "email";
