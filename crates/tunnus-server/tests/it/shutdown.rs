//! Graceful shutdown: once asked to stop, the server takes no new
//! connections, answers the request it is in the middle of, and lets the
//! outbox worker finish the email it is sending (recorded as sent) before
//! it returns. A mail server that holds its greeting keeps the worker busy
//! for as long as the test wants.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::{Backend, TestApp};

/// Just enough SMTP to take messages; says hello only when released.
struct SlowSmtp {
    port: u16,
    connected: Arc<Notify>,
    release: Arc<Notify>,
    received: Arc<AtomicUsize>,
}

impl SlowSmtp {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (connected, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let received = Arc::new(AtomicUsize::new(0));
        let (c, r, n) = (connected.clone(), release.clone(), Arc::clone(&received));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                c.notify_one();
                r.notified().await;
                tokio::spawn(converse(socket, n.clone()));
            }
        });
        Self { port, connected, release, received }
    }
}

async fn converse(socket: TcpStream, received: Arc<AtomicUsize>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 slow.example ESMTP\r\n").await;
    let mut in_data = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            received.fetch_add(1, Ordering::SeqCst);
            b"250 queued\r\n"
        } else {
            match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                Some("DATA") => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                Some("QUIT") => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"250 ok\r\n",
            }
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_the_request_in_flight_and_the_email_being_sent() {
    let smtp = SlowSmtp::start().await;
    let mut app = TestApp::start(Backend::Sqlite, |c| {
        c.mail.smtp = Some(tunnus_mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: tunnus_mail::SmtpSecurity::None,
            username: None,
            password: None,
            timeout_seconds: 10,
        });
    })
    .await
    .unwrap();
    let page = app
        .browser()
        .submit(
            "/signup",
            &[
                ("email", "last@example.com"),
                ("given_name", "L"),
                ("family_name", "Ast"),
                ("country", "FI"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert!(page.contains("Check your email"));
    // The outbox worker is now connected and waiting for the greeting.
    tokio::time::timeout(Duration::from_secs(10), smtp.connected.notified()).await.expect("the worker connects");

    // A request in flight: headers sent, the body only half.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let body = b"grant_type=refresh_token&refresh_token=abc";
    let mut inflight = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    inflight.write_all(head.as_bytes()).await.unwrap();
    inflight.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let db = app.state().db.clone();
    let server = app.server.take().unwrap();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(TcpStream::connect(&addr).await.is_err(), "no new connections once stopping");
    assert!(!stopping.is_finished(), "waits for the request in flight");

    inflight.write_all(&body[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), inflight.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "the request in flight is answered in full: {answer}");
    assert!(answer.contains("invalid_client"), "{answer}");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stopping.is_finished(), "waits for the email being sent");
    assert_eq!(smtp.received.load(Ordering::SeqCst), 0);
    smtp.release.notify_one();
    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("stops once the email is out").unwrap();
    assert_eq!(smtp.received.load(Ordering::SeqCst), 1, "the email went out once");
    let items = db.read(|c| tunnus_store::outbox::recent(c, "email", 5)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].sent_at.is_some(), "and was recorded as sent before the process ended");
}
