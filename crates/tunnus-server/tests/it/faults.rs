//! Losing a dependency: a replica whose Redis goes away answers 503 with a
//! clear page and a failing /readyz, and recovers by itself when Redis returns.

use std::process::{Child, Command, Stdio};
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
