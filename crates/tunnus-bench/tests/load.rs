//! The load generator against a real Tunnus: every flow `bench/run` drives
//! completes without an error, so a change to the server or to the
//! generator that breaks a benchmark flow fails here, not in a benchmark.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use scraper::{Html, Selector};
use tunnus_bench::load::web::{Http, Jar, exec, post_form};
use tunnus_bench::load::{RunArgs, run};
use tunnus_core::client::{ClientKind, GrantType, SigningAlg};
use tunnus_core::{Clock as _, SystemClock};
use tunnus_server::config::Limit;
use tunnus_server::services::clients::{ClientSpec, register};
use tunnus_server::{Config, Server};
use tunnus_store::testing::TestDatabase;
use url::Url;

const EMAIL: &str = "aino@example.com";
const PASSWORD: &str = "Kuusi-Hirvi-42";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn csrf(page: &str) -> String {
    let doc = Html::parse_document(page);
    let input = doc.select(&Selector::parse(r#"input[name="csrf"]"#).unwrap()).next().expect("a csrf field");
    input.value().attr("value").unwrap().to_owned()
}

/// The set-password token of the newest email in the outbox
/// (quoted-printable: soft line breaks and `=3D` undone).
fn set_password_token(outbox: &Path) -> Option<String> {
    let mut files: Vec<_> = std::fs::read_dir(outbox).ok()?.flatten().map(|e| e.path()).collect();
    files.sort();
    let text = std::fs::read_to_string(files.last()?).ok()?;
    let text = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = text.find("password/set?token=")? + "password/set?token=".len();
    Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
}

/// Signs a person up through the pages and sets the password from the
/// emailed link, as `bench/run` does.
async fn sign_up(base: &Url, outbox: &Path) {
    let (http, mut jar) = (Http::new(), Jar::default());
    let signup = base.join("/signup").unwrap();
    let page = exec(&http, &mut jar, http.get(signup.clone())).await.unwrap();
    let token = csrf(&page.body);
    let fields = [
        ("csrf", token.as_str()),
        ("email", EMAIL),
        ("given_name", "Aino"),
        ("family_name", "Virtanen"),
        ("country", "FI"),
        ("accept_terms", "yes"),
        ("accept_privacy", "yes"),
    ];
    let done = exec(&http, &mut jar, post_form(&http, &signup, &fields)).await.unwrap();
    assert!(done.status < 400, "sign-up: {} {}", done.status, done.body);
    let mut link = None;
    for _ in 0..100 {
        link = set_password_token(outbox);
        if link.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let link = link.expect("a set-password email");
    let mut set = base.join("/password/set").unwrap();
    set.query_pairs_mut().append_pair("token", &link);
    let page = exec(&http, &mut jar, http.get(set.clone())).await.unwrap();
    let token = csrf(&page.body);
    let fields = [("csrf", token.as_str()), ("token", &link), ("password", PASSWORD), ("confirm", PASSWORD)];
    let done = exec(&http, &mut jar, post_form(&http, &base.join("/password/set").unwrap(), &fields)).await.unwrap();
    assert_eq!(done.status, 303, "setting the password: {}", done.body);
}

fn bench_client() -> ClientSpec {
    ClientSpec {
        id: "bench-es256".into(),
        name: "Bench".into(),
        kind: ClientKind::Confidential,
        auth_method: None,
        jwks: None,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
        scopes: vec!["profile".into(), "email".into(), "api".into()],
        strict_scopes: false,
        first_party: true,
        id_token_alg: SigningAlg::ES256,
        required_entitlement: None,
        accepts_federated_only: false,
    }
}

fn args(flow: &str, issuer: &str, secret: &str, extra: &[&str]) -> RunArgs {
    // A secret may start with `-`: given as `--client-secret=…`, it is not taken for an option.
    let secret_arg = format!("--client-secret={secret}");
    let mut argv = vec![
        "tunnus-load",
        "--flow",
        flow,
        "--issuer",
        issuer,
        "--client-id",
        "bench-es256",
        &secret_arg,
        "--redirect-uri",
        REDIRECT,
        "--username",
        EMAIL,
        "--password",
        PASSWORD,
        "--concurrency",
        "2",
    ];
    argv.extend_from_slice(extra);
    RunArgs::try_parse_from(argv).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_benchmark_flow_runs_against_tunnus_without_an_error() {
    let db = TestDatabase::sqlite();
    let data_dir = std::env::temp_dir().join(format!("tunnus-load-{}", uuid::Uuid::now_v7().simple()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config {
        data_dir: data_dir.clone(),
        database_url: Some(db.url.clone()),
        listen: format!("127.0.0.1:{port}"),
        public_url: format!("http://127.0.0.1:{port}"),
        ..Config::default()
    };
    // All the load comes from one address, as in bench/run.
    config.throttle.sign_in_per_ip = Limit { max: 1_000_000, window_seconds: 60 };
    let server = Server::start_on(config, Arc::new(SystemClock), listener).await.unwrap();
    let base = Url::parse(&server.url()).unwrap();
    let issuer = base.as_str().trim_end_matches('/').to_owned();
    let state = &server.state;
    let (_, secret) = register(&state.db, &state.secret_key, &bench_client(), None, SystemClock.now()).await.unwrap();
    let secret = secret.unwrap();
    sign_up(&base, &data_dir.join("outbox")).await;

    // The server runs in this process: its CPU is this process's.
    let pid = std::process::id().to_string();
    let timed = ["--seconds", "0.3", "--warmup", "0.1", "--cc-scope", "api", "--pid", &pid];
    for flow in ["discovery", "jwks", "client-credentials", "code", "sign-in", "refresh", "userinfo", "introspect"] {
        let outcome = run(args(flow, &issuer, &secret, &timed)).await.unwrap_or_else(|e| panic!("{flow}: {e}"));
        assert_eq!(outcome.errors, 0, "{flow}: {:?}", outcome.first_error);
        assert!(outcome.ok > 0, "{flow}: no flow completed");
        assert!(outcome.server_cpu_pct > 0.0, "{flow}: the server's CPU was not measured");
    }
    let outcome = run(args("sessions", &issuer, &secret, &["--count", "3", "--warmup", "0"])).await.unwrap();
    assert_eq!((outcome.ok, outcome.errors), (3, 0), "{:?}", outcome.first_error);

    // A wrong secret is an error the generator reports, not a success.
    let outcome = run(args("client-credentials", &issuer, "wrong", &timed)).await.unwrap();
    assert_eq!(outcome.ok, 0);
    assert!(outcome.errors > 0 && outcome.first_error.is_some());

    server.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
