//! One typed struct per hosted page (templates in `templates/`), and the
//! words for domain outcomes (field problems, password rules) in the
//! person's language.

use actix_web::HttpResponse;
use askama::Template;
use tunnus_core::EmailError;
use tunnus_core::action::LinkProblem;
use tunnus_core::password::{PasswordRule, PasswordViolation};
use tunnus_core::profile::FieldProblem;
use tunnus_i18n::Tr;

use crate::error::AppError;

mod admin;
pub use admin::*;

/// Renders a page to its HTML text.
pub fn render(page: &impl Template) -> Result<String, askama::Error> {
    page.render()
}

/// A 200 HTML response for a page.
pub fn html(page: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(render(page)?))
}

/// A page with a chosen status (a form shown again with problems is 422).
pub fn html_status(status: actix_web::http::StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(render(page)?))
}

/// The header menu: who is signed in, and the token for its sign-out button.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub signed_in_as: Option<String>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tr: Tr,
    pub message: String,
    /// "Reference: <request id>", to quote to support; the same id is in the log.
    pub reference: String,
}

impl ErrorPage {
    // The layout asks every page for its menu; error pages show none.
    pub fn nav(&self) -> Nav {
        Nav::default()
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub tr: Tr,
    pub nav: Nav,
    pub title: String,
    pub body: String,
    pub link: Option<(String, String)>,
}

impl MessagePage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    /// Offer "send the link again" (the account awaits verification).
    pub offer_resend: bool,
    pub notice: Option<String>,
    /// (href, label) of a "Sign in with …" button per upstream provider.
    pub upstreams: Vec<(String, String)>,
}

impl SignInPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Debug, Clone, Default)]
pub struct SignUpValues {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub accept_terms: bool,
    pub accept_privacy: bool,
}

#[derive(Template)]
#[template(path = "sign_up.html")]
pub struct SignUpPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub values: SignUpValues,
    pub problems: Vec<String>,
    pub countries: Vec<(&'static str, &'static str)>,
    pub accept_terms_html: String,
    pub accept_privacy_html: String,
}

impl SignUpPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
pub struct ForgotPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
    /// Show the "Create new account" link next to the error.
    pub offer_sign_up: bool,
}

impl ForgotPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "set_password.html")]
pub struct SetPasswordPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub action: &'static str,
    pub token: String,
    pub intro: String,
    pub rules: Vec<String>,
    pub problems: Vec<String>,
}

impl SetPasswordPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub tr: Tr,
    pub nav: Nav,
    pub intro: String,
}

impl HomePage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "sign_out.html")]
pub struct SignOutPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    /// End-session parameters carried through the confirmation.
    pub params: Vec<(String, String)>,
}

impl SignOutPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "legal.html")]
pub struct LegalPage {
    pub tr: Tr,
    pub nav: Nav,
    pub title: String,
    pub version: String,
    pub body: String,
}

impl LegalPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

/// One email on the development outbox page.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub to: String,
    pub subject: String,
    pub links: Vec<String>,
    pub sent: bool,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "dev_outbox.html")]
pub struct OutboxPage {
    pub tr: Tr,
    pub nav: Nav,
    pub rows: Vec<OutboxRow>,
}

impl OutboxPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

pub fn field_problem(tr: &Tr, p: &FieldProblem) -> String {
    tr.t(match p {
        FieldProblem::Email(e) => email_problem_key(e),
        FieldProblem::GivenNameMissing => "given-name-missing",
        FieldProblem::FamilyNameMissing => "family-name-missing",
        FieldProblem::NameTooLong => "name-too-long",
        FieldProblem::NameHasControlCharacters => "name-control-characters",
        FieldProblem::CountryUnknown => "country-unknown",
        FieldProblem::TermsNotAccepted => "terms-not-accepted",
        FieldProblem::PrivacyNotAccepted => "privacy-not-accepted",
        FieldProblem::JobTitleInvalid => "job-title-invalid",
        FieldProblem::PhoneInvalid => "phone-invalid",
    })
}

pub fn email_problem_key(e: &EmailError) -> &'static str {
    match e {
        EmailError::Empty => "email-empty",
        EmailError::TooLong => "email-too-long",
        EmailError::LocalPart => "email-local-part",
        EmailError::Domain => "email-domain",
        _ => "email-shape",
    }
}

pub fn password_rule(tr: &Tr, r: &PasswordRule) -> String {
    match r {
        PasswordRule::MinLength(n) => tr.t_with("password-min-length", &[("min", &n.to_string())]),
        PasswordRule::MaxLength(n) => tr.t_with("password-max-length", &[("max", &n.to_string())]),
        PasswordRule::Digit => tr.t("password-digit"),
        PasswordRule::MixedCase => tr.t("password-mixed-case"),
        PasswordRule::Special(chars) => tr.t_with("password-special", &[("chars", chars)]),
        PasswordRule::OnlyAllowedCharacters(chars) => tr.t_with("password-allowed-characters", &[("chars", chars)]),
        PasswordRule::NotCommon => tr.t("password-not-common"),
        PasswordRule::NotEmailLocalPart => tr.t("password-not-email"),
    }
}

pub fn password_violation(tr: &Tr, v: &PasswordViolation) -> String {
    match v {
        PasswordViolation::TooShort { min } => tr.t_with("password-too-short", &[("min", &min.to_string())]),
        PasswordViolation::TooLong { max } => tr.t_with("password-too-long", &[("max", &max.to_string())]),
        PasswordViolation::MissingDigit => tr.t("password-missing-digit"),
        PasswordViolation::MissingLowercase => tr.t("password-missing-lowercase"),
        PasswordViolation::MissingUppercase => tr.t("password-missing-uppercase"),
        PasswordViolation::MissingSpecial { allowed } => tr.t_with("password-missing-special", &[("chars", allowed)]),
        PasswordViolation::ForbiddenCharacter(c) => {
            let shown =
                if c.is_whitespace() || c.is_control() { format!("U+{:04X}", *c as u32) } else { c.to_string() };
            tr.t_with("password-forbidden-character", &[("char", &shown)])
        }
        PasswordViolation::Common => tr.t("password-common"),
        PasswordViolation::ContainsEmailLocalPart => tr.t("password-contains-email"),
    }
}

pub fn link_problem(tr: &Tr, p: LinkProblem) -> String {
    tr.t(match p {
        LinkProblem::Unknown => "link-unknown",
        LinkProblem::Expired => "link-expired",
        LinkProblem::AlreadyUsed => "link-used",
    })
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
}

impl ConsentPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

/// The OAuth 2.0 Form Post Response Mode page: submits itself to the client.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// A person lacks the entitlement a client requires.
#[derive(Template)]
#[template(path = "access_denied.html")]
pub struct AccessDeniedPage {
    pub tr: Tr,
    pub nav: Nav,
    pub title: String,
    pub body: String,
    /// Who can grant the access (or what the person can do about it).
    pub who: String,
    /// (href, label) of a way to fix it, e.g. setting a password.
    pub remedy: Option<(String, String)>,
    pub back_label: String,
    /// Back to the client with `access_denied`: a link (query mode) or a form (form_post).
    pub back_link: Option<String>,
    pub back_action: String,
    pub back_fields: Vec<(String, String)>,
}

impl AccessDeniedPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

/// An invitation as shown to the invited person.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub id: String,
    pub title: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub name: String,
    pub email: String,
    pub details: ProfileDetails,
    /// (code, name) of every country.
    pub countries: Vec<(&'static str, &'static str)>,
    pub details_problems: Vec<String>,
    pub email_problem: Option<String>,
    pub delete_problem: Option<String>,
    pub notice: Option<String>,
    pub sessions: Vec<SessionView>,
    /// (id, name) of the internal organization.
    pub company: Option<(String, String)>,
    /// (id, name) of external memberships.
    pub external: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub licenses: Vec<String>,
    pub invitations: Vec<InvitationView>,
    /// Show "Access Admin Tool".
    pub admin: bool,
    /// (tag, name in that language) of every shipped language.
    pub languages: Vec<(&'static str, String)>,
    pub preferred: String,
    pub linked: Vec<LinkedView>,
    /// (id, "Link …" label) of upstreams not linked yet.
    pub linkable: Vec<(String, String)>,
    /// For an identity without a password: how it confirms changing its
    /// address or deleting itself instead (a recent sign-in).
    pub confirm_by_sign_in: Option<String>,
}

/// A linked upstream account on the profile.
#[derive(Debug, Clone)]
pub struct LinkedView {
    pub provider: String,
    pub name: String,
    pub email: String,
    /// Another way to sign in remains.
    pub may_unlink: bool,
}

/// "An identity with this address exists: prove it is yours."
#[derive(Template)]
#[template(path = "upstream_proof.html")]
pub struct UpstreamProofPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub proof: String,
    pub intro: String,
    pub error: Option<String>,
}

impl UpstreamProofPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

/// The editable details as shown in the form.
#[derive(Debug, Clone, Default)]
pub struct ProfileDetails {
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub job_title: String,
    pub phone: String,
}

/// One live session on the profile page.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub sid: String,
    pub device: String,
    pub ip: String,
    pub last_seen: String,
    /// The same, RFC 3339, for `<time datetime>`.
    pub last_seen_iso: String,
    /// The session of the browser looking at the page.
    pub current: bool,
}

impl ProfilePage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub invitation: InvitationView,
    /// Accepting moves the person out of their current company.
    pub leave_warning: Option<String>,
    pub confirm_label: String,
    pub problem: Option<String>,
}

impl InvitationPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

/// The device grant's "enter the code" page, and its confirmation step.
#[derive(Template)]
#[template(path = "device.html")]
pub struct DevicePage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub user_code: String,
    /// After a valid code: the application's name and the scopes in words.
    pub client: Option<(String, Vec<String>)>,
    pub problem: Option<String>,
}

impl DevicePage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "terms_accept.html")]
pub struct TermsAcceptPage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub next: String,
    /// (kind, version, title) of each document to accept.
    pub documents: Vec<(String, i32, String)>,
    pub problem: Option<String>,
}

impl TermsAcceptPage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}

#[derive(Template)]
#[template(path = "email_change.html")]
pub struct EmailChangePage {
    pub tr: Tr,
    pub nav: Nav,
    pub csrf: String,
    pub token: String,
    pub new_email: String,
}

impl EmailChangePage {
    pub fn nav(&self) -> Nav {
        self.nav.clone()
    }
}
