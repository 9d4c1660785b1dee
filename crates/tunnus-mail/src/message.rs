//! What each email says, rendered in the recipient's language from the
//! templates in `templates/email/`. Most emails are rendered when queued, so
//! the outbox holds exactly what will be sent; the welcome emails of a legacy
//! import are stored by their parts and their link is minted when sent.

use askama::Template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tunnus_core::UserId;
use tunnus_core::action::ActionPurpose;
use tunnus_i18n::Tr;
use tunnus_store::{DbConnection, StoreError, outbox, tokens, users};

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
    /// An account imported from the legacy account system: set your password.
    LegacyImported,
    /// An imported account whose password came along: just sign in.
    LegacyImportedWithPassword,
    /// Someone signed in through an upstream provider (`org` names it) with
    /// this address: follow the link to link that account to this identity.
    ConfirmUpstreamLink,
}

impl ActionEmailKind {
    const ALL: [Self; 6] = [
        Self::SetPassword,
        Self::ResetPassword,
        Self::AccountExists,
        Self::Invitation,
        Self::LegacyImported,
        Self::LegacyImportedWithPassword,
    ];

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    fn key(self) -> &'static str {
        match self {
            Self::SetPassword => "set-password",
            Self::ResetPassword => "reset-password",
            Self::AccountExists => "account-exists",
            Self::Invitation => "invitation",
            Self::ConfirmEmailChange => "confirm-email-change",
            Self::EmailChangeNotice => "email-change-notice",
            Self::LegacyImported => "legacy-imported",
            Self::LegacyImportedWithPassword => "legacy-imported-password",
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

/// A link email stored by its parts and rendered when it is sent. A
/// million-account import queues a million welcome emails: by their parts
/// they take a few hundred bytes each instead of kilobytes of HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredEmail {
    /// The kind's message key (`legacy-imported`).
    pub kind: String,
    /// The language tag (`fi`); English when not offered.
    pub lang: String,
    pub to: String,
    pub name: String,
    pub link: String,
    pub valid_hours: Option<i64>,
    /// Set when the link sets this identity's password: its token is minted
    /// when the email is sent and appended to `link` (which ends `token=`).
    /// So no usable link waits in the outbox — a large import queues emails
    /// for a day or more — and the link's lifetime starts when it leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_password_for: Option<String>,
}

impl DeferredEmail {
    pub fn new(email: &ActionEmail<'_>, lang: &str) -> Self {
        Self {
            kind: email.kind.key().to_owned(),
            lang: lang.to_owned(),
            to: email.to.to_owned(),
            name: email.name.to_owned(),
            link: email.link.to_owned(),
            valid_hours: email.valid_hours,
            set_password_for: None,
        }
    }

    /// An email whose link, `email.link` followed by a token minted when it
    /// is sent, sets `user_id`'s password.
    pub fn minting_set_password(email: &ActionEmail<'_>, lang: &str, user_id: &str) -> Self {
        Self { set_password_for: Some(user_id.to_owned()), ..Self::new(email, lang) }
    }

    fn render(&self, link: &str, to: &str) -> Result<RenderedEmail, String> {
        let kind = ActionEmailKind::parse(&self.kind).ok_or_else(|| format!("unknown email kind {}", self.kind))?;
        let lang = tunnus_i18n::Lang::from_tag(&self.lang).unwrap_or(tunnus_i18n::Lang::En);
        ActionEmail { kind, to, name: &self.name, link, valid_hours: self.valid_hours, org: None }
            .render(&Tr::new(lang))
            .map_err(|e| format!("email template: {e}"))
    }
}

/// What an outbox payload of kind `email` holds.
#[derive(Deserialize)]
#[serde(untagged)]
enum Payload {
    Rendered(RenderedEmail),
    Deferred(DeferredEmail),
}

fn parse(payload: &str) -> Result<Payload, String> {
    serde_json::from_str::<Payload>(payload).map_err(|e| format!("unreadable payload: {e}"))
}

/// The email an outbox payload stands for, to show it (the development
/// outbox page). A link minted when the email is sent does not exist yet and
/// is left out.
pub fn decode_payload(payload: &str) -> Result<RenderedEmail, String> {
    match parse(payload)? {
        Payload::Rendered(email) => Ok(email),
        Payload::Deferred(d) if d.set_password_for.is_some() => d.render("", &d.to),
        Payload::Deferred(d) => d.render(&d.link, &d.to),
    }
}

/// The email to send for an outbox payload, inside the sender's transaction:
/// a set-password link is minted now (retiring one minted for an earlier,
/// failed attempt) and the email goes to the identity's current address.
/// `Ok(None)`: not to be sent, as that identity no longer exists.
pub fn prepare_for_sending(
    conn: &mut DbConnection,
    payload: &str,
    now: OffsetDateTime,
) -> Result<Option<RenderedEmail>, PrepareError> {
    let deferred = match parse(payload).map_err(PrepareError::Payload)? {
        Payload::Rendered(email) => return Ok(Some(email)),
        Payload::Deferred(d) => d,
    };
    let Some(user_id) = deferred.set_password_for.as_deref() else {
        return deferred.render(&deferred.link, &deferred.to).map(Some).map_err(PrepareError::Payload);
    };
    let user_id = UserId::from_stored(user_id.to_owned());
    let Some(user) = users::find_by_id(conn, &user_id)? else {
        return Ok(None);
    };
    let hours = deferred.valid_hours.ok_or_else(|| PrepareError::Payload("a minted link needs valid_hours".into()))?;
    let secret = tokens::issue(conn, &user_id, ActionPurpose::SetPassword, now, time::Duration::hours(hours))?;
    let link = format!("{}{}", deferred.link, secret.expose());
    deferred.render(&link, user.email.as_str()).map(Some).map_err(PrepareError::Payload)
}

/// Why an outbox payload could not be made into an email.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("{0}")]
    Payload(String),
    #[error(transparent)]
    Store(#[from] StoreError),
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

    #[test]
    fn payloads_decode_rendered_or_by_parts() {
        let action = ActionEmail {
            kind: ActionEmailKind::LegacyImported,
            to: "aino@example.com",
            name: "Aino",
            link: "http://localhost:8080/password/set?token=abc",
            valid_hours: Some(168),
            org: None,
        };
        let rendered = action.render(&Tr::new(Lang::Fi)).unwrap();
        let stored = serde_json::to_string(&rendered).unwrap();
        assert_eq!(decode_payload(&stored).unwrap(), rendered);
        let parts = serde_json::to_string(&DeferredEmail::new(&action, "fi")).unwrap();
        assert!(parts.len() < stored.len() / 4, "{} vs {}", parts.len(), stored.len());
        assert_eq!(decode_payload(&parts).unwrap(), rendered);
        let minting = DeferredEmail::minting_set_password(&action, "fi", "some-user-id");
        let shown = decode_payload(&serde_json::to_string(&minting).unwrap()).unwrap();
        assert!(!shown.text.contains("token="), "the link does not exist until it is sent: {}", shown.text);
        assert!(decode_payload("{\"kind\": \"nope\", \"lang\": \"en\", \"to\": \"a\", \"name\": \"b\", \"link\": \"c\", \"valid_hours\": null}").is_err());
        assert!(decode_payload("[]").is_err());
    }
}
