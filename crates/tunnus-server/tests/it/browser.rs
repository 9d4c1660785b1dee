//! A real browser (Debian's headless Chromium through chromedriver, driven
//! with fantoccini) walks the hosted pages: sign up, the emailed link from
//! the development outbox, a refused and an accepted password, sign out, and
//! an unknown address on "forgot password". Screenshots of each page go to
//! `docs/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::json;

use crate::support::{Backend, TestApp};

/// How long any one page or element may take to appear.
const WAIT: Duration = Duration::from_secs(20);

/// The browser's flags. The machine has no outside network and tests may run
/// as root, so: no sandbox, no QUIC, no background fetching of anything.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
];

/// `TUNNUS_TEST_<VAR>` if set, else `default` if it exists, else `name` on PATH.
fn find_program(var: &str, default: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(format!("{var}={} does not exist", path.display())) };
    }
    if Path::new(default).is_file() {
        return Ok(PathBuf::from(default));
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|p| p.is_file()))
        .ok_or_else(|| format!("no {name}: set {var}, or install it at {default} or on PATH"))
}

/// A running chromedriver and the browser profile it uses; both are removed
/// when this is dropped, also when the test panics.
struct Chromedriver {
    child: Child,
    url: String,
    profile: PathBuf,
    log: PathBuf,
}

impl Chromedriver {
    async fn start(chromedriver: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let id = uuid::Uuid::now_v7().simple();
        let profile = std::env::temp_dir().join(format!("tunnus-chromium-{id}"));
        let log = std::env::temp_dir().join(format!("tunnus-chromedriver-{id}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        // Its own process group, so the browsers it starts can be ended with it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), profile, log };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&self) {
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().unwrap();
        let started = Instant::now();
        loop {
            if let Ok(resp) = http.get(format!("{}/status", self.url)).send().await
                && resp.status().is_success()
            {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not answer at {} within {WAIT:?}; log: {}",
                self.url,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser still running.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        } else {
            eprintln!("chromedriver log kept at {}", self.log.display());
        }
    }
}

/// Saves numbered screenshots of the browser's window.
struct Screenshots {
    dir: PathBuf,
}

impl Screenshots {
    fn new() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    async fn save(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        std::fs::write(self.dir.join(name), png).unwrap();
    }
}

/// Waits for the element `css` to exist.
async fn element(c: &Client, css: &str) -> Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(element) => element,
        Err(e) => panic!("no {css} within {WAIT:?} ({e}) at {}:\n{}", url(c).await, source(c).await),
    }
}

/// Waits for a `tag` element whose text contains `text` (which must not
/// contain a `'`), so a click that loads a new page is waited for too.
async fn element_with_text(c: &Client, tag: &str, text: &str) -> Element {
    let xpath = format!("//{tag}[contains(normalize-space(.), '{text}')]");
    match c.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await {
        Ok(element) => element,
        Err(e) => panic!("no {tag} with “{text}” within {WAIT:?} ({e}) at {}:\n{}", url(c).await, source(c).await),
    }
}

async fn url(c: &Client) -> String {
    c.current_url().await.map(|u| u.to_string()).unwrap_or_default()
}

async fn source(c: &Client) -> String {
    c.source().await.unwrap_or_default()
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let field = element(c, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Chromedriver and a headless Chromium session, or `None` (reported as a
/// missing service) when they are not installed.
async fn start_browser() -> Option<(Chromedriver, Client)> {
    let found = find_program("TUNNUS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
        .and_then(|d| find_program("TUNNUS_TEST_CHROMIUM", "/usr/bin/chromium", "chromium").map(|c| (d, c)));
    let (chromedriver, chromium) = match found {
        Ok(paths) => paths,
        Err(reason) => {
            tunnus_store::testing::service_missing("chromium", &reason);
            return None;
        }
    };
    let driver = Chromedriver::start(&chromedriver).await;
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
    args.push(format!("--user-data-dir={}", driver.profile.display()));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), json!({ "binary": chromium, "args": args }));
    let c =
        ClientBuilder::native().capabilities(capabilities).connect(&driver.url).await.unwrap_or_else(|e| {
            panic!("no browser session: {e}; log: {}", std::fs::read_to_string(&driver.log).unwrap())
        });
    Some((driver, c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_forgot_password_in_chromium() {
    let Some((driver, c)) = start_browser().await else { return };
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let shots = Screenshots::new();

    // Sign up.
    c.goto(&format!("{}/signup", app.url)).await.unwrap();
    element_with_text(&c, "h1", "Create your Tunnus account").await;
    type_into(&c, "#email", "Browser.User@Example.com").await;
    type_into(&c, "#given_name", "Aino").await;
    type_into(&c, "#family_name", "Virtanen").await;
    element(&c, "select#country").await.select_by_value("FI").await.unwrap();
    for checkbox in ["input[name=accept_terms]", "input[name=accept_privacy]"] {
        let checkbox = element(&c, checkbox).await;
        checkbox.click().await.unwrap();
        assert!(checkbox.is_selected().await.unwrap());
    }
    assert_eq!(element(&c, "select#country").await.prop("value").await.unwrap().as_deref(), Some("FI"));
    shots.save(&c, "01-sign-up.png").await;
    element(&c, "form[action='/signup'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "h1", "Check your email").await;
    assert!(source(&c).await.contains("browser.user@example.com"), "{}", source(&c).await);
    shots.save(&c, "02-check-email.png").await;

    // The email, as listed by the development outbox.
    app.wait_for_email("browser.user@example.com", 1).await;
    c.goto(&format!("{}/dev/outbox", app.url)).await.unwrap();
    let link = element(&c, "a.outbox-link").await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    assert!(href.starts_with(&format!("{}/password/set?token=", app.url)), "{href}");
    assert!(element(&c, "table").await.text().await.unwrap().contains("browser.user@example.com"));
    shots.save(&c, "03-dev-outbox.png").await;
    link.click().await.unwrap();

    // A weak password is refused with the broken rules named.
    element_with_text(&c, "h1", "Set your password").await;
    type_into(&c, "#password", "weak").await;
    type_into(&c, "#confirm", "weak").await;
    element(&c, "form button[type=submit]:not(.link)").await.click().await.unwrap();
    let problems = element(&c, "#problems").await.text().await.unwrap();
    for expected in ["shorter than 8 characters", "no digit", "no uppercase"] {
        assert!(problems.contains(expected), "“{expected}” missing in {problems}");
    }
    shots.save(&c, "04-set-password-problems.png").await;

    // A good one signs the new account in.
    type_into(&c, "#password", "Tunnus-Browser1").await;
    type_into(&c, "#confirm", "Tunnus-Browser1").await;
    element(&c, "form button[type=submit]:not(.link)").await.click().await.unwrap();
    let heading = element(&c, "h1#signed-in").await;
    assert!(heading.text().await.unwrap().contains("You are signed in"));
    let body = element(&c, "body").await.text().await.unwrap();
    assert!(body.contains("browser.user@example.com"), "{body}");
    assert!(!body.contains("Browser.User@Example.com"), "{body}");
    shots.save(&c, "05-signed-in.png").await;

    // Sign out from the header.
    element(&c, "header form[action='/logout'] button").await.click().await.unwrap();
    element_with_text(&c, "h1", "You are signed out").await;
    c.goto(&format!("{}/", app.url)).await.unwrap();
    element(&c, "form[action='/login'] #password").await;
    assert!(c.current_url().await.unwrap().path().starts_with("/login"), "{}", url(&c).await);
    shots.save(&c, "06-sign-in.png").await;

    // Forgot password, for an address nobody signed up with.
    c.goto(&format!("{}/password/forgot", app.url)).await.unwrap();
    type_into(&c, "#email", "nobody@example.com").await;
    element(&c, "form[action='/password/forgot'] button[type=submit]").await.click().await.unwrap();
    let error = element(&c, "#forgot-error").await.text().await.unwrap();
    assert!(error.contains("Sorry, we didn't recognise this user"), "{error}");
    shots.save(&c, "07-forgot-unknown.png").await;

    assert!(app.emails_to("nobody@example.com").is_empty());
    assert_eq!(app.user_count().await, 1);
    c.close().await.unwrap();
    drop(driver);
}

/// The profile page in Finnish: the language chosen on the page itself,
/// details edited (a phone number without a country code refused in
/// Finnish), an address change asked for, the sessions listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_in_finnish_in_chromium() {
    let Some((driver, c)) = start_browser().await else { return };
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    crate::support::verified_account(&app, "aino@example.com").await;
    let shots = Screenshots::new();

    c.goto(&format!("{}/login?next=/profile", app.url)).await.unwrap();
    type_into(&c, "#email", "aino@example.com").await;
    type_into(&c, "#password", crate::support::GOOD_PASSWORD).await;
    element(&c, "form[action='/login'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "h1", "Your profile").await;
    element(&c, "select#lang").await.select_by_value("fi").await.unwrap();
    element(&c, "form[action='/profile/language'] button").await.click().await.unwrap();
    element_with_text(&c, "h1", "Profiilisi").await;
    assert_eq!(element(&c, "html").await.attr("lang").await.unwrap().as_deref(), Some("fi"));

    type_into(&c, "#job_title", "Pääsuunnittelija").await;
    type_into(&c, "#phone", "040 123 4567").await;
    element(&c, "#details-form button[type=submit]").await.click().await.unwrap();
    let problems = element(&c, "#details-problems").await.text().await.unwrap();
    assert!(problems.contains("maatunnuksen"), "{problems}");
    assert_eq!(element(&c, "#job_title").await.prop("value").await.unwrap().as_deref(), Some("Pääsuunnittelija"));
    shots.save(&c, "30-profile-fi-problem.png").await;
    type_into(&c, "#phone", "+358 40 123 4567").await;
    element(&c, "#details-form button[type=submit]").await.click().await.unwrap();
    // Wait for the new page's notice by its text: the old page may still be there.
    let notice = element_with_text(&c, "p[@id='notice']", "tallennettu").await.text().await.unwrap();
    assert!(notice.contains("tallennettu"), "{notice}");
    assert_eq!(element(&c, "#phone").await.prop("value").await.unwrap().as_deref(), Some("+358401234567"));
    shots.save(&c, "31-profile-fi.png").await;

    type_into(&c, "#new_email", "aino.uusi@example.com").await;
    type_into(&c, "#email_password", crate::support::GOOD_PASSWORD).await;
    element(&c, "#email-form button[type=submit]").await.click().await.unwrap();
    let notice = element_with_text(&c, "p[@id='notice']", "vahvistuslinkin").await.text().await.unwrap();
    assert!(notice.contains("aino.uusi@example.com") && notice.contains("vahvistuslinkin"), "{notice}");
    let confirmation = app.wait_for_email("aino.uusi@example.com", 1).await;
    assert!(confirmation.subject.contains("Vahvista"), "the email is in Finnish too: {}", confirmation.subject);
    let rows = c.find_all(Locator::Css("#sessions tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "this browser and the one that set the password");
    let current = element(&c, "#sessions tr.current").await.text().await.unwrap();
    assert!(current.contains("tämä selain") && current.contains("Chrome"), "{current}");
    element(&c, "#sessions").await.click().await.unwrap();
    shots.save(&c, "32-profile-fi-email-and-sessions.png").await;
    c.close().await.unwrap();
    drop(driver);
}
