//! Losing a dependency: a replica whose Redis or PostgreSQL goes away
//! answers 503 with a clear page and a failing /readyz, and recovers by
//! itself when it returns; emails wait for a mail server that is down.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use tunnus_store::testing::service_missing;

use crate::support::{Backend, GOOD_PASSWORD, TestApp, sign_in, verified_account};

struct RedisProcess(Child);

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> Option<RedisProcess> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(c) => Some(RedisProcess(c)),
        Err(e) => {
            service_missing("redis-server binary", &e.to_string());
            None
        }
    }
}

async fn wait_until_up(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_loss_gives_clear_503s_and_recovers_without_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let Some(redis) = start_redis(port) else { return };
    wait_until_up(port).await;
    let app =
        TestApp::start(Backend::Sqlite, |c| c.redis_url = Some(format!("redis://127.0.0.1:{port}"))).await.unwrap();
    verified_account(&app, "up@example.com").await;
    let b = app.browser();
    assert_eq!(sign_in(&b, "up@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/readyz").await.status, StatusCode::OK);

    drop(redis);
    let ready = b.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body.contains("\"short_lived_store\":\"unavailable\""), "{}", ready.body);
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::SERVICE_UNAVAILABLE, "{}", home.body);
    assert!(home.body.contains("temporarily unavailable"));
    let attempt = sign_in(&app.browser(), "up@example.com", GOOD_PASSWORD).await;
    assert_eq!(attempt.status, StatusCode::SERVICE_UNAVAILABLE);

    // Redis comes back (empty, as after a restart): service resumes, no restart of Tunnus.
    let _redis = start_redis(port).unwrap();
    wait_until_up(port).await;
    let mut recovered = false;
    for _ in 0..50 {
        if b.get("/readyz").await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "/readyz recovers by itself");
    // Sessions lived in Redis and are gone; signing in works again.
    assert_eq!(b.get("/").await.location.as_deref(), Some("/login"));
    assert_eq!(sign_in(&b, "up@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.status, StatusCode::OK);
}

/// A real SMTP sink (Python's aiosmtpd, writing a Maildir), stopped and started.
struct SmtpSink(Child);

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink(port: u16, maildir: &std::path::Path) -> Option<SmtpSink> {
    let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        service_missing("python3 with aiosmtpd", "python3 -m pip install aiosmtpd");
        return None;
    }
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(SmtpSink(child))
}

fn delivered(maildir: &std::path::Path) -> usize {
    std::fs::read_dir(maildir.join("new")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_wait_while_smtp_is_down_and_go_out_once_when_it_returns() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let maildir = std::env::temp_dir().join(format!("tunnus-maildir-{}", uuid::Uuid::now_v7().simple()));
    let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        service_missing("python3 with aiosmtpd", "python3 -m pip install aiosmtpd");
        return;
    }
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.mail.smtp = Some(tunnus_mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: tunnus_mail::SmtpSecurity::None,
            username: None,
            password: None,
            timeout_seconds: 2,
        });
    })
    .await
    .unwrap();
    // Sign-up succeeds although the mail server is down: the email waits in the outbox.
    let page = app
        .browser()
        .submit(
            "/signup",
            &[
                ("email", "queued@example.com"),
                ("given_name", "Q"),
                ("family_name", "Ueued"),
                ("country", "FI"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert!(page.contains("Check your email"));
    let db = app.state().db.clone();
    let mut failed_once = false;
    for _ in 0..100 {
        let items = db.read(|c| tunnus_store::outbox::recent(c, "email", 10)).await.unwrap();
        if items.iter().any(|i| i.attempts >= 1 && i.last_error.is_some() && i.sent_at.is_none()) {
            failed_once = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed_once, "a failed attempt is recorded and the email kept");

    let _sink = start_sink(port, &maildir).unwrap();
    wait_until_up(port).await;
    app.clock.advance(time::Duration::minutes(5));
    app.state().mail_waker.notify_one();
    let mut sent = false;
    for _ in 0..100 {
        if delivered(&maildir) == 1 {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "delivered once the server is back");
    // And only once, whatever the worker does next.
    app.clock.advance(time::Duration::hours(2));
    app.state().mail_waker.notify_one();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(delivered(&maildir), 1);
    let items = db.read(|c| tunnus_store::outbox::recent(c, "email", 10)).await.unwrap();
    assert!(items.iter().all(|i| i.sent_at.is_some()));
    let _ = std::fs::remove_dir_all(&maildir);
}

/// A PostgreSQL server of the test's own (initdb in a temporary folder, a
/// free port), so stopping it disturbs no other test. `initdb` refuses to run
/// as root; as root the server runs as the `postgres` system user instead.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
    run_as: Option<&'static str>,
}

impl PrivatePostgres {
    /// Initialises and starts one, or `None` (skipped) without the binaries.
    fn start() -> Option<Self> {
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
            .max()
        else {
            service_missing("PostgreSQL server binaries", "no /usr/lib/postgresql/*/bin/initdb");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let run_as = is_root.then_some("postgres");
        if let Some(user) = run_as {
            let owned = Command::new("chown").args(["-R", user]).arg(dir.path()).status();
            if !owned.is_ok_and(|s| s.success()) {
                service_missing("a `postgres` system user", "running as root and cannot hand the folder over");
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = Self { dir, bin, port, run_as };
        let data = pg.data();
        let init = pg.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        pg.up();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let program = self.bin.join(tool);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        command.args(args).current_dir(self.dir.path()).stdin(Stdio::null()).output().unwrap()
    }

    fn up(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        let out = self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &options, "-w", "-t", "30", "start"]);
        assert!(out.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&out.stdout));
    }

    /// A fast shutdown: open sessions are ended, as in a real restart.
    fn down(&self) {
        let out = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

/// Counts what a steady trickle of requests got back while PostgreSQL went away and returned.
#[derive(Default, Debug)]
struct Seen {
    ok: usize,
    unavailable: usize,
    other: Vec<u16>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_gives_clear_503s_and_recovers_without_restart() {
    let Some(pg) = PrivatePostgres::start() else { return };
    if let Err(e) = tunnus_store::ephemeral::RedisStore::connect(
        &tunnus_store::testing::redis_url(),
        "probe:",
        Duration::from_secs(2),
    )
    .await
    {
        service_missing("Redis", &e.to_string());
        return;
    }
    let prefix = format!("pgrestart:{}:", uuid::Uuid::now_v7().simple());
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.database_url = Some(pg.url());
        c.database.acquire_timeout_seconds = 2;
        c.redis_url = Some(tunnus_store::testing::redis_url());
        c.redis_prefix = prefix;
    })
    .await
    .unwrap();
    verified_account(&app, "durable@example.com").await;
    let b = app.browser();
    assert_eq!(sign_in(&b, "durable@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/readyz").await.status, StatusCode::OK);

    // A steady load: the account page (session in Redis, person in PostgreSQL).
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let load = {
        let (client, url, stop, seen) = (b.client.clone(), app.url.clone(), stop.clone(), seen.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let status = match client.get(format!("{url}/")).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                {
                    let mut s = seen.lock().unwrap();
                    match status {
                        200 => s.ok += 1,
                        503 => s.unavailable += 1,
                        other => s.other.push(other),
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    pg.down();
    let ready = b.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body.contains("\"database\":\"unavailable\""), "{}", ready.body);
    assert!(ready.body.contains("\"short_lived_store\":\"ok\""), "{}", ready.body);
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::SERVICE_UNAVAILABLE, "{}", home.body);
    assert!(home.body.contains("temporarily unavailable"), "{}", home.body);
    let attempt = sign_in(&app.browser(), "durable@example.com", GOOD_PASSWORD).await;
    assert_eq!(attempt.status, StatusCode::SERVICE_UNAVAILABLE, "{}", attempt.body);
    let token = reqwest::Client::new()
        .post(format!("{}/token", app.url))
        .basic_auth("some-client", Some("some-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE, "the token endpoint answers 503 too");
    assert!(token.text().await.unwrap().contains("\"temporarily_unavailable\""));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Back, with the same data: Tunnus recovers by itself.
    let restarted = std::time::Instant::now();
    pg.up();
    let mut recovered = None;
    for _ in 0..100 {
        if b.get("/readyz").await.status == StatusCode::OK && b.get("/").await.status == StatusCode::OK {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("/readyz and pages recover without restarting Tunnus");
    // Every pooled connection works again, not just the first one tried.
    for _ in 0..20 {
        assert_eq!(b.get("/").await.status, StatusCode::OK);
    }
    let fresh = app.browser();
    assert_eq!(sign_in(&fresh, "durable@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    let seen = seen.lock().unwrap();
    eprintln!("during the restart: {seen:?}; recovered {recovered:?} after PostgreSQL was back");
    assert!(seen.other.is_empty(), "only 200 or 503, never a 500 or a dropped request: {seen:?}");
    assert!(seen.ok > 0 && seen.unavailable > 0, "{seen:?}");
}
