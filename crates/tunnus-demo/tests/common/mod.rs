//! What the demo's end-to-end tests share: the real Tunnus provider started in-process on an
//! ephemeral port over a fresh SQLite database, accounts made through its pages and emailed
//! links, and a windowless HTTP browser.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tunnus_server::{Config, Server};
use tunnus_store::testing::TestDatabase;
use url::Url;

pub const PASSWORD: &str = "Tunnus-Test1";

/// The provider, started in-process on an ephemeral port.
pub struct Provider {
    server: Option<Server>,
    pub url: String,
    data_dir: PathBuf,
    _db: TestDatabase,
}

impl Provider {
    /// `name` tells the test's data folder apart in the temporary directory.
    pub async fn start(name: &str) -> Self {
        let db = TestDatabase::sqlite();
        let data_dir = std::env::temp_dir().join(format!("tunnus-demo-{name}-{}", tunnus_demo::store::random_id()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = Config {
            data_dir: data_dir.clone(),
            database_url: Some(db.url.clone()),
            listen: format!("127.0.0.1:{port}"),
            public_url: format!("http://127.0.0.1:{port}"),
            ..Config::default()
        };
        config.database.max_connections = 4;
        let server = Server::start_on(config, Arc::new(tunnus_core::SystemClock), listener).await.unwrap();
        let url = server.url();
        assert_eq!(url, format!("http://127.0.0.1:{port}"));
        Self { server: Some(server), url, data_dir, _db: db }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    pub async fn wait_for_email(&self, to: &str) -> String {
        let dir = self.data_dir.join("outbox");
        let started = Instant::now();
        loop {
            let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                        .filter_map(|e| {
                            let raw = std::fs::read(e.path()).ok()?;
                            let text = email_text_to(&raw, to)?;
                            Some((e.metadata().ok()?.modified().ok()?, text))
                        })
                        .collect()
                })
                .unwrap_or_default();
            found.sort_by_key(|(modified, _)| *modified);
            if let Some((_, text)) = found.pop() {
                return text;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no email to {to} in {}", dir.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs up `email` and sets its password through the emailed link: a verified account,
    /// signed in only in a throwaway client.
    pub async fn verified_account(&self, email: &str, given_name: &str, family_name: &str) {
        let http = http_client();
        let form = get(&http, &format!("{}/signup", self.url)).await;
        assert_eq!(form.status, StatusCode::OK);
        let page = post(
            &http,
            &format!("{}/signup", self.url),
            &[
                ("csrf", &hidden(&form.body, "csrf")),
                ("email", email),
                ("given_name", given_name),
                ("family_name", family_name),
                ("country", "FI"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let text = self.wait_for_email(email).await;
        let link = text
            .split_whitespace()
            .find(|w| w.starts_with(&format!("{}/", self.url)))
            .unwrap_or_else(|| panic!("no link in {text}"));
        let form = get(&http, link).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let action = link.split('?').next().unwrap();
        let done = post(
            &http,
            action,
            &[
                ("csrf", &hidden(&form.body, "csrf")),
                ("token", &hidden(&form.body, "token")),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The text part of an email, if it is addressed to `to`.
pub fn email_text_to(raw: &[u8], to: &str) -> Option<String> {
    let mail = mailparse::parse_mail(raw).ok()?;
    let recipient = mail.headers.iter().find(|h| h.get_key().eq_ignore_ascii_case("To"))?.get_value();
    if recipient.trim().trim_start_matches('<').trim_end_matches('>') != to {
        return None;
    }
    mail.subparts
        .iter()
        .chain(std::iter::once(&mail))
        .find(|part| part.ctype.mimetype == "text/plain")
        .and_then(|part| part.get_body().ok())
}

/// The value of the first field `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

/// A browser without a window: keeps cookies, does not follow redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One response: status, where it redirects to (absolute), body.
pub struct Hop {
    pub status: StatusCode,
    pub location: Option<Url>,
    pub body: String,
}

impl Hop {
    async fn from(res: reqwest::Response) -> Self {
        let status = res.status();
        let location = res.headers().get("location").map(|l| res.url().join(l.to_str().unwrap()).unwrap());
        let body = res.text().await.unwrap();
        Self { status, location, body }
    }

    /// The target of this 303, which must start with `prefix`.
    pub fn see_other(&self, prefix: &str) -> Url {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "expected a redirect to {prefix}…; body:\n{}", self.body);
        let location = self.location.clone().unwrap();
        assert!(location.as_str().starts_with(prefix), "redirect to {location}, expected {prefix}…");
        location
    }
}

pub async fn get(http: &reqwest::Client, url: &str) -> Hop {
    Hop::from(http.get(url).send().await.unwrap()).await
}

pub async fn post(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Hop {
    Hop::from(http.post(url).form(form).send().await.unwrap()).await
}
