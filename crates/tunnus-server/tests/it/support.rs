//! `TestApp`: starts the real server on an ephemeral port over a fresh
//! database (SQLite file or PostgreSQL schema), with a movable clock; reads
//! the emails it sends from its outbox folder; and a `Browser` that keeps
//! cookies and does not follow redirects, so tests see every step.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use scraper::{Html, Selector};
use tunnus_core::ManualClock;
use tunnus_server::{Config, Server};
use tunnus_store::testing::TestDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub server: Option<Server>,
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    pub data_dir: PathBuf,
    db: Arc<TestDatabase>,
}

/// Runs `$body(app)` as two tests, `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::support::TestApp::start($crate::support::Backend::Sqlite, |_| {}).await.unwrap();
                $body(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::support::TestApp::start($crate::support::Backend::Postgres, |_| {}).await
                else {
                    return;
                };
                $body(app).await;
            }
        }
    };
}

impl TestApp {
    /// A server on `backend`, configured by `adjust`; `None` when PostgreSQL
    /// is wanted but unreachable outside CI (the test is then skipped).
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres()?,
        };
        let data_dir = std::env::temp_dir().join(format!("tunnus-app-{}", uuid::Uuid::now_v7().simple()));
        let mut config = Config::default();
        config.data_dir = data_dir.clone();
        config.database_url = Some(db.url.clone());
        config.database.max_connections = 4;
        adjust(&mut config);
        let clock = Arc::new(ManualClock::starting_now());
        let mut app = Self { server: None, url: String::new(), clock, config, data_dir, db: Arc::new(db) };
        app.boot().await;
        Some(app)
    }

    async fn boot(&mut self) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = self.config.clone();
        config.listen = format!("127.0.0.1:{port}");
        config.public_url = format!("http://127.0.0.1:{port}");
        let server = Server::start_on(config, self.clock.clone(), listener).await.unwrap();
        self.url = server.url();
        self.server = Some(server);
    }

    /// Stops the server and starts a new one over the same data (a restart).
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        let old_url = self.url.clone();
        let port = old_url.rsplit(':').next().unwrap().to_owned();
        // Same port, so cookies set for the old address still apply.
        let listener = loop {
            match std::net::TcpListener::bind(format!("127.0.0.1:{port}")) {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let mut config = self.config.clone();
        config.listen = format!("127.0.0.1:{port}");
        config.public_url = old_url;
        let server = Server::start_on(config, self.clock.clone(), listener).await.unwrap();
        self.url = server.url();
        self.server = Some(server);
    }

    pub fn state(&self) -> &tunnus_server::AppState {
        &self.server.as_ref().unwrap().state
    }

    /// Runs one SQL statement on the app's database: for a test that needs
    /// a state no page or command leads to.
    pub async fn execute_sql(&self, sql: &'static str) {
        use diesel::RunQueryDsl as _;
        self.state()
            .db
            .write(move |c| {
                diesel::sql_query(sql).execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
    }

    pub fn clock_now_unix(&self) -> i64 {
        use tunnus_core::Clock as _;
        self.clock.now().unix_timestamp()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.url)
    }

    /// Every email sent so far (parsed from the outbox folder's .eml files), oldest first.
    pub fn sent_emails(&self) -> Vec<Email> {
        let dir = self.data_dir.join("outbox");
        let mut emails: Vec<(std::time::SystemTime, Email)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .map(|e| {
                        let raw = std::fs::read(e.path()).unwrap();
                        (e.metadata().unwrap().modified().unwrap(), Email::parse(&raw))
                    })
                    .collect()
            })
            .unwrap_or_default();
        emails.sort_by_key(|e| e.0);
        emails.into_iter().map(|e| e.1).collect()
    }

    /// Waits (bounded) until `n` emails have gone to `to`; returns the newest.
    pub async fn wait_for_email(&self, to: &str, n: usize) -> Email {
        for _ in 0..100 {
            let to_them: Vec<Email> = self.sent_emails().into_iter().filter(|e| e.to == to).collect();
            if to_them.len() >= n {
                return to_them.into_iter().last().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let queued = self.state().db.read(|c| tunnus_store::outbox::recent(c, "email", 20)).await.unwrap();
        let queued: Vec<_> =
            queued.iter().map(|i| (&i.recipient, i.attempts, i.sent_at, &i.last_error, i.next_attempt_at)).collect();
        panic!(
            "no email #{n} to {to}; sent: {:?}; outbox: {queued:?}",
            self.sent_emails().iter().map(|e| (&e.to, &e.subject)).collect::<Vec<_>>()
        );
    }

    pub fn emails_to(&self, to: &str) -> Vec<Email> {
        self.sent_emails().into_iter().filter(|e| e.to == to).collect()
    }

    pub async fn user_count(&self) -> i64 {
        self.state().db.read(|c| tunnus_store::users::count(c)).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// An email as the recipient sees it.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    fn parse(raw: &[u8]) -> Self {
        let mail = mailparse::parse_mail(raw).unwrap();
        let header = |name: &str| {
            mail.headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        let to = header("To");
        let to = to.trim_start_matches('<').trim_end_matches('>').to_owned();
        let mut text = String::new();
        let mut html = String::new();
        for part in mail.subparts.iter().chain(std::iter::once(&mail)) {
            match part.ctype.mimetype.as_str() {
                "text/plain" => text = part.get_body().unwrap(),
                "text/html" => html = part.get_body().unwrap(),
                _ => {}
            }
        }
        Self { to, subject: header("Subject"), text, html }
    }

    /// The first link in the text part.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no link in {}", self.text))
            .to_owned()
    }

    /// The link's path and query, to open on the test server.
    pub fn link_path(&self) -> String {
        let url = url::Url::parse(&self.link()).unwrap();
        format!("{}?{}", url.path(), url.query().unwrap_or(""))
    }
}

/// A page as fetched.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn doc(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        self.field("csrf")
    }

    pub fn field(&self, name: &str) -> String {
        let sel = Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
        self.doc()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value"))
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            .to_owned()
    }

    /// Text of every element matching `selector`, joined.
    pub fn text_of(&self, selector: &str) -> String {
        let sel = Selector::parse(selector).unwrap();
        self.doc().select(&sel).map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }
}

/// A browser: cookies kept, redirects not followed.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { base: base.to_owned(), client }
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        Page { status, location, body, headers }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    /// GETs an absolute URL (e.g. another server's) with this browser's cookies.
    pub async fn get_url(&self, url: &str) -> Page {
        Self::page(self.client.get(url).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::page(self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap()).await
    }

    /// Posts raw bytes as a form body.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Page {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        Self::page(resp).await
    }

    /// GETs `path` for its CSRF token, then posts the form with it.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(path).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

pub const GOOD_PASSWORD: &str = "Tunnus-Test1";

/// Signs up `email` and returns the set-password link path from the email.
pub async fn sign_up(app: &TestApp, b: &Browser, email: &str) -> String {
    let normalised = email.trim().to_ascii_lowercase();
    let n = app.emails_to(&normalised).len() + 1;
    let page = b
        .submit(
            "/signup",
            &[
                ("email", email),
                ("given_name", "Aino"),
                ("family_name", "Virtanen"),
                ("country", "FI"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("Check your email"), "{}", page.body);
    app.wait_for_email(&normalised, n).await.link_path()
}

/// Sets the password through a link path; returns the response.
pub async fn set_password(b: &Browser, link_path: &str, password: &str) -> Page {
    let form = b.get(link_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let action = link_path.split('?').next().unwrap();
    b.post(
        action,
        &[("csrf", &form.csrf()), ("token", &form.field("token")), ("password", password), ("confirm", password)],
    )
    .await
}

/// A verified account with `GOOD_PASSWORD`, signed out.
pub async fn verified_account(app: &TestApp, email: &str) {
    let b = app.browser();
    let link = sign_up(app, &b, email).await;
    let done = set_password(&b, &link, GOOD_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

pub async fn sign_in(b: &Browser, email: &str, password: &str) -> Page {
    b.submit("/login", &[("email", email), ("password", password)]).await
}

/// Accepts the outstanding terms on the page `/terms/accept?next=…`.
pub async fn accept_terms(b: &Browser, path: &str) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut fields = vec![("csrf".to_owned(), page.csrf()), ("next".to_owned(), page.field("next"))];
    for kind in ["terms", "privacy"] {
        let name = format!("{kind}_version");
        if page.body.contains(&format!("name=\"{name}\"")) {
            fields.push((name.clone(), page.field(&name)));
        }
    }
    fields.push(("accept".into(), "yes".into()));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post("/terms/accept", &borrowed).await
}
