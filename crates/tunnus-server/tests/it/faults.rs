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
