//! What each email says, rendered in the recipient's language from the
//! templates in `templates/email/`. Emails are rendered when queued, so the
//! outbox holds exactly what will be sent.

use askama::Template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tunnus_i18n::Tr;
use tunnus_store::{DbConnection, StoreError, outbox};

use crate::OUTBOX_KIND_EMAIL;

/// An email ready to send: what the outbox stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The emails that carry one link for the recipient to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionEmailKind {
    SetPassword,
    ResetPassword,
    /// Someone tried to sign up with an address that already has an account.
    AccountExists,
    /// An invitation to join an organization (`org` names it).
    Invitation,
    /// Sent to a new address: follow the link to make it the sign-in address.
    ConfirmEmailChange,
    /// Sent to the old address when a change is asked for: if it wasn't you, reset your password.
    EmailChangeNotice,
    /// Someone signed in through an upstream provider (`org` names it) with
    /// this address: follow the link to link that account to this identity.
    ConfirmUpstreamLink,
}

impl ActionEmailKind {
    fn key(self) -> &'static str {
        match self {
            Self::SetPassword => "set-password",
            Self::ResetPassword => "reset-password",
            Self::AccountExists => "account-exists",
            Self::Invitation => "invitation",
            Self::ConfirmEmailChange => "confirm-email-change",
            Self::EmailChangeNotice => "email-change-notice",
            Self::ConfirmUpstreamLink => "confirm-upstream-link",
        }
    }
}

/// One link email to one person.
#[derive(Debug, Clone)]
pub struct ActionEmail<'a> {
    pub kind: ActionEmailKind,
    pub to: &'a str,
    pub name: &'a str,
    pub link: &'a str,
    /// How long the link works, if it expires.
    pub valid_hours: Option<i64>,
    /// The organization an invitation is for (`$org` in the texts).
    pub org: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/action.txt", escape = "none")]
struct ActionText<'a> {
    greeting: &'a str,
    body: &'a str,
    button: &'a str,
    link: &'a str,
    validity: Option<&'a str>,
    ignore: &'a str,
    signature: &'a str,
}

#[derive(Template)]
#[template(path = "email/action.html")]
struct ActionHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    greeting: &'a str,
    body: &'a str,
    button: &'a str,
    link: &'a str,
    validity: Option<&'a str>,
    ignore: &'a str,
    signature: &'a str,
}

impl ActionEmail<'_> {
    pub fn render(&self, tr: &Tr) -> Result<RenderedEmail, askama::Error> {
        let key = self.kind.key();
        let org = [("org", self.org.unwrap_or(""))];
        let subject = tr.t_with(&format!("email-{key}-subject"), &org);
        let greeting = tr.t_with("email-greeting", &[("name", self.name)]);
        let body = tr.t_with(&format!("email-{key}-body"), &org);
        let button = tr.t(&format!("email-{key}-button"));
        let validity = self.valid_hours.map(|h| tr.t_with("email-valid-for", &[("hours", &h.to_string())]));
        let ignore = tr.t("email-ignore");
        let signature = tr.t("email-signature");
        let text = ActionText {
            greeting: &greeting,
            body: &body,
            button: &button,
            link: self.link,
            validity: validity.as_deref(),
            ignore: &ignore,
            signature: &signature,
        }
        .render()?;
        let html = ActionHtml {
            lang: tr.lang_tag(),
            subject: &subject,
            greeting: &greeting,
            body: &body,
            button: &button,
            link: self.link,
            validity: validity.as_deref(),
            ignore: &ignore,
            signature: &signature,
        }
        .render()?;
        Ok(RenderedEmail { to: self.to.to_owned(), subject, text, html })
    }
}

/// Puts an email in the outbox, inside the caller's transaction: the email
/// exists if and only if the change that caused it was stored.
pub fn queue(conn: &mut DbConnection, email: &RenderedEmail, now: OffsetDateTime) -> Result<(), StoreError> {
    let payload = serde_json::to_string(email).map_err(|e| StoreError::corrupt(e.to_string()))?;
    outbox::enqueue(conn, OUTBOX_KIND_EMAIL, &email.to, &payload, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnus_i18n::Lang;

    #[test]
    fn renders_text_and_html_with_the_link() {
        let email = ActionEmail {
            kind: ActionEmailKind::SetPassword,
            to: "aino@example.com",
            name: "Aino <b>",
            link: "http://localhost:8080/password/set?token=abc&x=1",
            valid_hours: Some(24),
            org: None,
        }
        .render(&Tr::new(Lang::En))
        .unwrap();
        assert_eq!(email.subject, "Set your Tunnus password");
        assert!(email.text.contains("Hello Aino <b>,"));
        assert!(email.text.contains("http://localhost:8080/password/set?token=abc&x=1"));
        assert!(email.text.contains("24 hours"));
        assert!(email.html.contains("Aino &#60;b&#62;") || email.html.contains("Aino &lt;b&gt;"), "{}", email.html);
        assert!(email.html.contains("token=abc&#38;x=1") || email.html.contains("token=abc&amp;x=1"));
    }
}
