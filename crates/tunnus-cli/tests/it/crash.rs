//! Two `tunnus serve` processes on one PostgreSQL and one Redis, the way a
//! load balancer uses them. One is killed with SIGKILL in the middle of a
//! bounded load (sign-ups, sign-ins, code exchanges, refreshes). Afterwards
//! every answer that said "done" must hold on the survivor, and no account,
//! session, refresh-token family or queued email is lost or doubled. The
//! survivor is then stopped with SIGTERM and must exit cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use reqwest::StatusCode;
use serde_json::Value;
use tunnus_core::password::{Argon2Config, PasswordHasher};
use tunnus_core::{Clock as _, Email, Password, SecretToken, SystemClock, User, UserId, UserStatus};
use tunnus_store::testing::{TestDatabase, redis_url, service_missing};
use tunnus_store::{Db, DbConfig, outbox, refresh_tokens, users};

const PASSWORD: &str = "Crash-Test-Pw1";
const REDIRECT: &str = "http://localhost:9/cb";
const SECRET: &str = "load-client-secret-0123456789";
/// Pre-made accounts that sign in during the load.
const ACCOUNTS: usize = 6;
const WORKERS: usize = 4;
const ROUNDS: usize = 6;
/// Successful steps before the kill, so it lands mid-load.
const KILL_AFTER: usize = 20;

/// A `tunnus serve` child process, killed if the test ends early.
struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_replica(config: &Path, dir: &Path) -> Replica {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tunnus"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("TUNNUS_")) {
        command.env_remove(key);
    }
    let child = command
        .args(["--config"])
        .arg(config)
        .arg("serve")
        .current_dir(dir)
        .env("TUNNUS_LISTEN", format!("127.0.0.1:{port}"))
        .env("TUNNUS_LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let replica = Replica { child, url: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{}/readyz", replica.url)).send().await
            && r.status() == StatusCode::OK
        {
            return replica;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("replica at {} did not become ready", replica.url);
}

/// Verified accounts with a password that accepted the current terms,
/// written straight to the database.
async fn seed_accounts(db: &Db) -> Vec<String> {
    let hasher = PasswordHasher::new(Argon2Config::default()).unwrap();
    let hash = hasher.hash(&Password::new(PASSWORD.into())).unwrap();
    let mut emails = Vec::new();
    for i in 0..ACCOUNTS {
        let email = format!("seed{i}@example.com");
        let now = SystemClock.now();
        let user = User {
            id: UserId::new_v7(),
            email: Email::parse(&email).unwrap(),
            email_verified_at: Some(now),
            password_hash: Some(hash.clone()),
            given_name: "Seed".into(),
            family_name: "Account".into(),
            country: tunnus_core::country::Country::parse("FI").unwrap(),
            preferred_language: None,
            status: UserStatus::Active,
            created_at: now,
            updated_at: now,
        };
        db.write(move |c| {
            users::insert(c, &user)?;
            for kind in [tunnus_core::terms::TermsKind::Terms, tunnus_core::terms::TermsKind::Privacy] {
                if let Some(doc) = tunnus_store::terms::current(c, kind, now)? {
                    tunnus_store::terms::record_acceptance(c, &user.id, &doc, now)?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
        emails.push(email);
    }
    emails
}

/// The load balancer: round robin over the replicas still alive.
struct Balancer {
    urls: [String; 2],
    first_alive: AtomicBool,
    next: AtomicUsize,
}

impl Balancer {
    fn pick(&self) -> &str {
        if !self.first_alive.load(Ordering::SeqCst) {
            return &self.urls[1];
        }
        &self.urls[self.next.fetch_add(1, Ordering::SeqCst) % 2]
    }
}

/// What the load was told had succeeded.
#[derive(Default)]
struct Ledger {
    signed_up: Vec<String>,
    /// Browsers whose sign-in answered with a session.
    sessions: Vec<reqwest::Client>,
    /// Per code exchange: the newest refresh token that an answer handed out.
    families: Vec<String>,
    /// Refresh tokens rotated away by a successful refresh.
    rotated: Vec<String>,
    successes: usize,
    failures: usize,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn field(html: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).ok()?;
    doc.select(&sel).next()?.value().attr("value").map(str::to_owned)
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers().get("location")?.to_str().ok().map(str::to_owned)
}

/// Any failure (refused connection, reset, 5xx) is `None`: not a success.
async fn sign_up(lb: &Balancer, email: &str) -> Option<()> {
    let b = browser();
    let base = lb.pick();
    let form = b.get(format!("{base}/signup")).send().await.ok()?.text().await.ok()?;
    let csrf = field(&form, "csrf")?;
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", email),
        ("given_name", "Load"),
        ("family_name", "Test"),
        ("country", "FI"),
        ("accept_terms", "yes"),
        ("accept_privacy", "yes"),
    ];
    let r = b.post(format!("{base}/signup")).form(&fields).send().await.ok()?;
    let ok = r.status() == StatusCode::OK;
    (ok && r.text().await.ok()?.contains("Check your email")).then_some(())
}

/// Authorization request → sign-in page → signed in → code, each step on
/// whichever replica the balancer picks. Returns the browser once it holds
/// a session, and the code if the flow got that far.
async fn sign_in_for_code(lb: &Balancer, email: &str, ledger: &Mutex<Ledger>) -> Option<String> {
    let b = browser();
    let query = format!(
        "response_type=code&client_id=load&redirect_uri={}&scope=openid%20offline_access&state=s&nonce=n",
        url_encode(REDIRECT)
    );
    let r = b.get(format!("{}/authorize?{query}", lb.pick())).send().await.ok()?;
    let login = location(&r).filter(|l| l.starts_with("/login"))?;
    let page = b.get(format!("{}{login}", lb.pick())).send().await.ok()?.text().await.ok()?;
    let (csrf, next) = (field(&page, "csrf")?, field(&page, "next")?);
    let fields = [("csrf", csrf.as_str()), ("email", email), ("password", PASSWORD), ("next", next.as_str())];
    let r = b.post(format!("{}/login", lb.pick())).form(&fields).send().await.ok()?;
    if r.status() != StatusCode::SEE_OTHER {
        return None;
    }
    let cont = location(&r)?;
    {
        let mut l = ledger.lock().unwrap();
        l.sessions.push(b.clone());
        l.successes += 1;
    }
    let r = b.get(format!("{}{cont}", lb.pick())).send().await.ok()?;
    let back = location(&r).filter(|l| l.starts_with(REDIRECT))?;
    let url = url::Url::parse(&back).ok()?;
    url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned())
}

async fn token(lb: &Balancer, form: &[(&str, &str)]) -> Option<String> {
    let r = reqwest::Client::new()
        .post(format!("{}/token", lb.pick()))
        .basic_auth("load", Some(SECRET))
        .form(form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    if r.status() != StatusCode::OK {
        return None;
    }
    let body: Value = r.json().await.ok()?;
    body["refresh_token"].as_str().map(str::to_owned)
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn record(ledger: &Mutex<Ledger>, ok: bool) {
    let mut l = ledger.lock().unwrap();
    if ok { l.successes += 1 } else { l.failures += 1 }
}

async fn worker(lb: Arc<Balancer>, ledger: Arc<Mutex<Ledger>>, accounts: Arc<Vec<String>>, w: usize) {
    for round in 0..ROUNDS {
        let email = format!("load-{w}-{round}@example.com");
        let signed_up = sign_up(&lb, &email).await.is_some();
        if signed_up {
            ledger.lock().unwrap().signed_up.push(email);
        }
        record(&ledger, signed_up);

        let account = &accounts[(w + round) % accounts.len()];
        let Some(code) = sign_in_for_code(&lb, account, &ledger).await else {
            record(&ledger, false);
            continue;
        };
        let exchange = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
        let Some(first) = token(&lb, &exchange).await else {
            record(&ledger, false);
            continue;
        };
        let family = {
            let mut l = ledger.lock().unwrap();
            l.families.push(first.clone());
            l.successes += 1;
            l.families.len() - 1
        };
        let refreshed = token(&lb, &[("grant_type", "refresh_token"), ("refresh_token", first.as_str())]).await;
        let mut l = ledger.lock().unwrap();
        match refreshed {
            Some(new) => {
                l.families[family] = new;
                l.rotated.push(first);
                l.successes += 1;
            }
            None => l.failures += 1,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Leased {
    #[diesel(sql_type = diesel::sql_types::Text)]
    recipient: String,
}

/// Unsent emails claimed by `owner_pid`'s outbox worker (the lease names the process).
async fn leased_by(db: &Db, owner_pid: u32) -> Vec<String> {
    db.read(move |c| {
        let sql = format!(
            "SELECT recipient FROM outbox WHERE sent_at IS NULL AND lease_owner LIKE '{owner_pid}:%' ORDER BY recipient"
        );
        Ok(diesel::sql_query(sql).load::<Leased>(c)?.into_iter().map(|r| r.recipient).collect())
    })
    .await
    .unwrap()
}

/// Recipients of the `.eml` files in the outbox folder, with how many each got.
fn delivered(folder: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if entry.path().extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Some(to) = raw.lines().find_map(|l| l.strip_prefix("To: ")) {
            let to = to.trim().trim_start_matches('<').trim_end_matches('>').to_owned();
            *counts.entry(to).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_load_loses_nothing_that_was_confirmed() {
    let Some(test_db) = TestDatabase::postgres() else { return };
    if let Err(e) = tunnus_store::ephemeral::RedisStore::connect(&redis_url(), "probe:", Duration::from_secs(2)).await {
        service_missing("Redis", &e.to_string());
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&DbConfig::new(&test_db.url)).unwrap();
    db.migrate().unwrap();
    let accounts = Arc::new(seed_accounts(&db).await);

    // One file for both, as a deployment would share it; one data folder too,
    // so the emails both write (no SMTP: .eml files) land in one place.
    let config = dir.path().join("tunnus.toml");
    let prefix = format!("crash:{}:", uuid::Uuid::now_v7().simple());
    std::fs::write(
        &config,
        format!(
            r#"public_url = "http://127.0.0.1:{lb_port}"
data_dir = "{data}"
database_url = "{db}"
redis_url = "{redis}"
redis_prefix = "{prefix}"
secret_key = "Y3Jhc2gtdGVzdC1zaGFyZWQta2V5LW9mLXRoZS1yZXBsaWNhcw=="

[database]
max_connections = 4

[throttle]
sign_in_per_ip = {{ max = 100000, window_seconds = 60 }}
sign_up_per_ip = {{ max = 100000, window_seconds = 60 }}

[[clients]]
id = "load"
name = "Load"
kind = "confidential"
secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]
first_party = true
"#,
            lb_port = free_port(),
            data = dir.path().join("data").display(),
            db = test_db.url,
            redis = redis_url(),
        ),
    )
    .unwrap();
    let mut one = start_replica(&config, dir.path()).await;
    let two = start_replica(&config, dir.path()).await;
    let victim_pid = one.child.id();
    let lb = Arc::new(Balancer {
        urls: [one.url.clone(), two.url.clone()],
        first_alive: AtomicBool::new(true),
        next: AtomicUsize::new(0),
    });
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    let load_started = Instant::now();
    let workers: Vec<_> =
        (0..WORKERS).map(|w| tokio::spawn(worker(lb.clone(), ledger.clone(), accounts.clone(), w))).collect();
    // SIGKILL mid-load: no shutdown, requests in flight on it are cut.
    let deadline = Instant::now() + Duration::from_secs(30);
    while ledger.lock().unwrap().successes < KILL_AFTER {
        assert!(Instant::now() < deadline, "the load made too little progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    one.child.kill().unwrap();
    let killed_at = load_started.elapsed();
    lb.first_alive.store(false, Ordering::SeqCst);
    let status = one.child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    for w in workers {
        tokio::time::timeout(Duration::from_secs(40), w).await.expect("the load is bounded in time").unwrap();
    }
    let load_time = load_started.elapsed();
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    eprintln!(
        "load: {} successes, {} failures in {load_time:?}, replica killed at {killed_at:?}",
        ledger.successes, ledger.failures
    );
    assert!(ledger.failures < ledger.successes, "most requests succeed, only those cut by the kill fail");
    assert!(!ledger.signed_up.is_empty() && !ledger.families.is_empty());

    // Accounts: every confirmed sign-up exists, once; each queued one email, once.
    for email in &ledger.signed_up {
        let e = Email::parse(email).unwrap();
        assert!(db.read(move |c| users::find_by_email(c, &e)).await.unwrap().is_some(), "{email} lost");
    }
    let emails = db.read(|c| outbox::recent(c, "email", 10_000)).await.unwrap();
    let mut per_recipient: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &emails {
        *per_recipient.entry(item.recipient.as_str()).or_insert(0) += 1;
    }
    for email in &ledger.signed_up {
        assert_eq!(per_recipient.get(email.as_str()), Some(&1), "exactly one email queued for {email}");
    }
    assert!(per_recipient.values().all(|n| *n == 1), "no email queued twice: {per_recipient:?}");

    // Sessions: every browser that was told "signed in" is signed in on the survivor.
    for b in &ledger.sessions {
        let home = b.get(format!("{}/", two.url)).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::OK, "a confirmed session is lost");
    }

    // Refresh-token families: one per exchange, none lost, rotation recorded.
    let mut families = BTreeSet::new();
    for token in &ledger.families {
        let hash = SecretToken::from_presented(token).expect("a refresh token").hash();
        let record = db.read(move |c| refresh_tokens::find(c, &hash)).await.unwrap().expect("refresh token stored");
        assert!(record.rotated_at.is_none() && record.revoked_at.is_none(), "the newest token is live");
        assert!(families.insert(record.family_id), "two exchanges share one family");
    }
    for token in &ledger.rotated {
        let hash = SecretToken::from_presented(token).expect("a refresh token").hash();
        let record = db.read(move |c| refresh_tokens::find(c, &hash)).await.unwrap().unwrap();
        assert!(record.rotated_at.is_some(), "a confirmed refresh is recorded");
    }
    // Each family's live token still refreshes, on the survivor.
    for token in &ledger.families {
        let body = reqwest::Client::new()
            .post(format!("{}/token", two.url))
            .basic_auth("load", Some(SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(body.status(), StatusCode::OK, "{}", body.text().await.unwrap());
    }

    // Emails: the survivor sends everything due. What the killed replica had
    // claimed waits for its lease (two minutes) to run out; we let it run out
    // in the database instead of waiting, and the survivor takes it over.
    let folder = dir.path().join("data/outbox");
    let mut stranded = Vec::new();
    for _ in 0..100 {
        let pending = db.read(outbox::pending_count).await.unwrap();
        stranded = leased_by(&db, victim_pid).await;
        if pending == stranded.len() as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        db.read(outbox::pending_count).await.unwrap(),
        stranded.len() as i64,
        "only emails claimed by the killed replica wait"
    );
    let expire =
        format!("UPDATE outbox SET lease_until = '2000-01-01 00:00:00' WHERE lease_owner LIKE '{victim_pid}:%'");
    db.write(move |c| Ok(diesel::sql_query(expire).execute(c)?)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.read(outbox::pending_count).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the survivor takes over the stranded emails");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = delivered(&folder);
    for item in &emails {
        let n = sent.get(&item.recipient).copied().unwrap_or(0);
        // At-least-once across a crash: only an email the victim had in hand
        // (sent, not yet recorded) can go out twice.
        let allowed = if stranded.contains(&item.recipient) { 2 } else { 1 };
        assert!((1..=allowed).contains(&n), "{} got {n} emails", item.recipient);
    }
    eprintln!("emails: {} queued, {} stranded by the kill and taken over", emails.len(), stranded.len());

    // The survivor stops cleanly on SIGTERM (graceful shutdown).
    let mut two = two;
    let pid = two.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stop_started = Instant::now();
    let status = loop {
        if let Some(status) = two.child.try_wait().unwrap() {
            break status;
        }
        assert!(stop_started.elapsed() < Duration::from_secs(15), "SIGTERM stops the replica");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a graceful stop exits with success: {status:?}");
    assert!(std::net::TcpStream::connect(two.url.trim_start_matches("http://")).is_err(), "no longer listening");
    eprintln!("whole test: {:?}", started.elapsed());
}
