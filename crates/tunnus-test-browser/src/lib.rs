//! A real browser for end-to-end tests: Debian's headless Chromium through
//! chromedriver, driven with fantoccini. [`start_browser`] starts both (or
//! reports them as a missing service); the helpers wait for what a page
//! should show and, when it does not, fail with the page's address and
//! source.

// Test support: a failure to drive the browser is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::ClientBuilder;
pub use fantoccini::{Client, Locator, elements::Element};
use serde_json::json;

/// How long any one page or element may take to appear.
pub const WAIT: Duration = Duration::from_secs(20);

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
pub struct Chromedriver {
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

/// Saves screenshots of the browser's window to `docs/screenshots/`, where
/// the docs show them.
pub struct Screenshots {
    dir: PathBuf,
}

impl Screenshots {
    pub fn in_docs() -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    pub async fn save(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        std::fs::write(self.dir.join(name), png).unwrap();
    }
}

/// Waits for the element `css` to exist.
pub async fn element(c: &Client, css: &str) -> Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(element) => element,
        Err(e) => panic!("no {css} within {WAIT:?} ({e}) at {}:\n{}", current_url(c).await, source(c).await),
    }
}

/// Waits for a `tag` element whose text contains `text` (which must not
/// contain a `'`), so a click that loads a new page is waited for too.
pub async fn element_with_text(c: &Client, tag: &str, text: &str) -> Element {
    let xpath = format!("//{tag}[contains(normalize-space(.), '{text}')]");
    match c.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await {
        Ok(element) => element,
        Err(e) => {
            panic!("no {tag} with “{text}” within {WAIT:?} ({e}) at {}:\n{}", current_url(c).await, source(c).await)
        }
    }
}

pub async fn current_url(c: &Client) -> String {
    c.current_url().await.map(|u| u.to_string()).unwrap_or_default()
}

pub async fn source(c: &Client) -> String {
    c.source().await.unwrap_or_default()
}

pub async fn type_into(c: &Client, css: &str, text: &str) {
    let field = element(c, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Chromedriver and a headless Chromium session, or `None` (reported as a
/// missing service) when they are not installed.
pub async fn start_browser() -> Option<(Chromedriver, Client)> {
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
