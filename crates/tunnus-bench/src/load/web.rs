//! A minimal browser for the load generator: one shared HTTP client, a
//! cookie jar per simulated person, redirects followed by hand, and forms
//! filled in the way a person would (username, password, hidden fields).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use url::Url;

pub type Result<T> = std::result::Result<T, String>;

/// The shared HTTP client: keep-alive pool sized for the concurrency, no
/// redirects (each hop is followed and checked by the flows), no cookies
/// (each simulated browser keeps its own jar).
pub fn client(concurrency: usize) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency.max(1) * 2)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())
}

/// An answer as the flows need it.
pub struct Answer {
    pub status: u16,
    pub location: Option<Url>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).map_err(|e| format!("{e}: {}", snippet(&self.body)))
    }

    /// A string field of a JSON answer with status 200.
    pub fn field(&self, name: &str) -> Result<String> {
        if self.status != 200 {
            return Err(format!("status {}: {}", self.status, snippet(&self.body)));
        }
        self.json()?
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("no {name} in {}", snippet(&self.body)))
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &str) -> String {
    body.chars().take(300).collect::<String>().replace('\n', " ")
}

/// One simulated browser: its cookies, kept by name (paths and domains are
/// ignored: every request goes to one provider on loopback).
#[derive(Default, Clone)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// Takes in one `Set-Cookie` value; an empty value or `Max-Age=0` removes the cookie.
    pub fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { return };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let expired = parts.any(|p| p.trim().eq_ignore_ascii_case("max-age=0"));
        if value.is_empty() || expired {
            self.0.remove(&name);
        } else {
            self.0.insert(name, value);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Sends a request with the jar's cookies, keeps the cookies it sets and reads the whole answer.
pub async fn exec(http: &reqwest::Client, jar: &mut Jar, req: reqwest::RequestBuilder) -> Result<Answer> {
    let req = match jar.header() {
        Some(h) => req.header(COOKIE, h),
        None => req,
    };
    let built = req.build().map_err(|e| e.to_string())?;
    let url = built.url().clone();
    let resp = http.execute(built).await.map_err(|e| format!("{url}: {e}"))?;
    for v in resp.headers().get_all(SET_COOKIE) {
        if let Ok(v) = v.to_str() {
            jar.store(v);
        }
    }
    let location = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok()).and_then(|l| url.join(l).ok());
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
    Ok(Answer { status, location, body })
}

/// `Authorization: Basic` for a client (RFC 6749 §2.3.1: each part form-encoded first).
pub fn basic(id: &str, secret: &str) -> (reqwest::header::HeaderName, String) {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    (AUTHORIZATION, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn post_form(http: &reqwest::Client, url: &Url, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    http.post(url.clone()).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form_body(fields))
}

/// A PKCE pair (RFC 7636, S256) and fresh `state` and `nonce`.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
    pub nonce: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        Self { verifier, challenge, state, nonce }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// A form to submit: where, and the fields as a person would fill them.
#[derive(Debug, PartialEq)]
pub struct FilledForm {
    pub action: Url,
    pub fields: Vec<(String, String)>,
}

/// Finds the form to submit on a page (the one with a password field, else
/// the first POST form) and fills it: hidden fields as given, the text or
/// email field with `username`, the password field with `password`.
pub fn fill_form(page: &Url, body: &str, username: &str, password: &str) -> Result<FilledForm> {
    let doc = Html::parse_document(body);
    let forms = Selector::parse("form").map_err(|e| e.to_string())?;
    let inputs = Selector::parse("input[name]").map_err(|e| e.to_string())?;
    let password_input = Selector::parse("input[type=password]").map_err(|e| e.to_string())?;
    let all: Vec<_> = doc.select(&forms).collect();
    let form = all
        .iter()
        .find(|f| f.select(&password_input).next().is_some())
        .or_else(|| all.iter().find(|f| f.value().attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post"))))
        .ok_or_else(|| format!("no form on {page}: {}", snippet(body)))?;
    let action = page.join(form.value().attr("action").unwrap_or("")).map_err(|e| e.to_string())?;
    let mut fields = Vec::new();
    for input in form.select(&inputs) {
        let e = input.value();
        let (Some(name), kind) = (e.attr("name"), e.attr("type").unwrap_or("text").to_ascii_lowercase()) else {
            continue;
        };
        let value = match kind.as_str() {
            "hidden" => e.attr("value").unwrap_or("").to_owned(),
            "password" => password.to_owned(),
            "text" | "email" => username.to_owned(),
            "checkbox" | "radio" if e.attr("checked").is_some() => e.attr("value").unwrap_or("on").to_owned(),
            _ => continue,
        };
        fields.push((name.to_owned(), value));
    }
    Ok(FilledForm { action, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_form_is_found_and_filled() {
        let page = Url::parse("http://127.0.0.1:9/login?next=/x").unwrap();
        let body = r#"<html><form action="/lang" method="post"><input type="hidden" name="csrf" value="a"></form>
            <form action="/login" method="post"><input type="hidden" name="csrf" value="t0k"/>
            <input type="hidden" name="next" value="/authorize/continue?id=1">
            <input type="email" name="email"><input type="password" name="password">
            <input type="checkbox" name="remember"><button>Sign in</button></form></html>"#;
        let form = fill_form(&page, body, "a@example.com", "pw").unwrap();
        assert_eq!(form.action.as_str(), "http://127.0.0.1:9/login");
        let got: Vec<(&str, &str)> = form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [("csrf", "t0k"), ("next", "/authorize/continue?id=1"), ("email", "a@example.com"), ("password", "pw")]
        );
    }

    #[test]
    fn a_consent_form_without_password_is_posted_as_is() {
        let page = Url::parse("http://127.0.0.1:9/interaction/abc").unwrap();
        let body = r#"<form autocomplete="off" action="/interaction/abc/confirm" method="post">
            <input type="hidden" name="prompt" value="consent"/><button type="submit">Continue</button></form>"#;
        let form = fill_form(&page, body, "u", "p").unwrap();
        assert_eq!(form.action.path(), "/interaction/abc/confirm");
        assert_eq!(form.fields, vec![("prompt".to_owned(), "consent".to_owned())]);
        assert!(fill_form(&page, "<p>no form</p>", "u", "p").is_err());
    }

    #[test]
    fn the_jar_keeps_and_removes_cookies() {
        let mut jar = Jar::default();
        jar.store("sid=abc; Path=/; HttpOnly");
        jar.store("lang=fi");
        assert_eq!(jar.header().as_deref(), Some("lang=fi; sid=abc"));
        jar.store("sid=; Max-Age=0");
        jar.store("lang=de; Max-Age=0");
        assert!(jar.is_empty());
    }

    #[test]
    fn pkce_challenge_is_the_s256_of_the_verifier() {
        let p = Pkce::new();
        assert_eq!(p.verifier.len(), 43);
        assert_eq!(p.challenge, URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.as_bytes())));
        assert_ne!(Pkce::new().verifier, p.verifier);
    }

    #[test]
    fn basic_auth_encodes_each_part() {
        let (_, v) = basic("a b", "s:1");
        let raw = base64::engine::general_purpose::STANDARD.decode(v.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(String::from_utf8(raw).unwrap(), "a+b:s%3A1");
    }
}
