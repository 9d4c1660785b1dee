//! End-to-end flow of the demo services against a small in-test OpenID provider: lazy
//! discovery, sign-in (code + PKCE, RS256/ES256/EdDSA ID tokens with at_hash), userinfo,
//! RP-initiated logout and back-channel logout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use josekit::jwk::alg::ed::EdCurve;
use josekit::jwk::{Jwk, JwkSet, KeyPair};
use josekit::jws::{ES256, EdDSA, JwsHeader, JwsSigner, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};
use tunnus_demo::{DemoConfig, DemoService, default_services, start_on};

struct Grant {
    client_id: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct Op {
    issuer: String,
    keys: HashMap<&'static str, Jwk>,
    jwks: JwkSet,
    grants: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, String>>,
}

fn alg_for(client_id: &str) -> &'static str {
    match client_id {
        "campus" => "RS256",
        "warehouse" => "ES256",
        _ => "EdDSA",
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn random() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

impl Op {
    fn new(issuer: String) -> Self {
        let mut keys = HashMap::new();
        let mut jwks = JwkSet::new();
        let pairs: [(&str, Box<dyn KeyPair>); 3] = [
            ("RS256", Box::new(RS256.generate_key_pair(2048).unwrap())),
            ("ES256", Box::new(ES256.generate_key_pair().unwrap())),
            ("EdDSA", Box::new(EdDSA.generate_key_pair(EdCurve::Ed25519).unwrap())),
        ];
        for (alg, pair) in pairs {
            let mut public = pair.to_jwk_public_key();
            public.set_key_id(format!("{alg}-1"));
            public.set_algorithm(alg);
            public.set_key_use("sig");
            jwks.push_key(public);
            let mut private = pair.to_jwk_private_key();
            private.set_key_id(format!("{alg}-1"));
            keys.insert(alg, private);
        }
        Self { issuer, keys, jwks, grants: Mutex::default(), tokens: Mutex::default() }
    }

    fn sign(&self, alg: &str, typ: &str, claims: Value) -> String {
        let key = &self.keys[alg];
        let signer: Box<dyn JwsSigner> = match alg {
            "RS256" => Box::new(RS256.signer_from_jwk(key).unwrap()),
            "ES256" => Box::new(ES256.signer_from_jwk(key).unwrap()),
            _ => Box::new(EdDSA.signer_from_jwk(key).unwrap()),
        };
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        let Value::Object(map) = claims else { unreachable!() };
        jwt::encode_with_signer(&JwtPayload::from_map(map).unwrap(), &header, signer.as_ref()).unwrap()
    }

    fn logout_token(&self, client_id: &str, sid: &str) -> String {
        self.sign(
            alg_for(client_id),
            "logout+jwt",
            json!({
                "iss": self.issuer, "aud": client_id, "iat": now(), "exp": now() + 120, "jti": random(),
                "sub": "user-1", "sid": sid,
                "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
            }),
        )
    }
}

async fn discovery(op: web::Data<Op>) -> HttpResponse {
    let i = &op.issuer;
    HttpResponse::Ok().content_type("application/json").json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    }))
}

async fn jwks(op: web::Data<Op>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(op.jwks.to_string())
}

async fn authorize(op: web::Data<Op>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    for wanted in ["openid", "profile", "email", "organization", "entitlements"] {
        assert!(scopes.contains(&wanted), "scope {wanted} missing from {scopes:?}");
    }
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    let code = random();
    op.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            client_id: q["client_id"].clone(),
            nonce: q["nonce"].clone(),
            challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
        },
    );
    let mut url = url::Url::parse(&q["redirect_uri"]).unwrap();
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", &q["state"]).append_pair("iss", &op.issuer);
    HttpResponse::SeeOther().insert_header(("Location", url.to_string())).finish()
}

fn half_hash(alg: &str, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        "EdDSA" => Sha512::digest(token.as_bytes()).to_vec(),
        _ => Sha256::digest(token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

async fn token(req: HttpRequest, op: web::Data<Op>, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let auth = req.headers().get("Authorization").unwrap().to_str().unwrap();
    let decoded = String::from_utf8(STANDARD.decode(auth.strip_prefix("Basic ").unwrap()).unwrap()).unwrap();
    let (client_id, secret) = decoded.split_once(':').unwrap();
    assert_eq!(secret, format!("{client_id}-secret"));
    let grant = op.grants.lock().unwrap().remove(&form["code"]).unwrap();
    assert_eq!(grant.client_id, client_id);
    assert_eq!(grant.redirect_uri, form["redirect_uri"]);
    assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(form["code_verifier"].as_bytes())), grant.challenge);
    let access_token = random();
    op.tokens.lock().unwrap().insert(access_token.clone(), client_id.to_owned());
    let alg = alg_for(client_id);
    let entitlements = if client_id == "model-sharing" { json!([]) } else { json!(["campus", "warehouse:premium"]) };
    let id_token = op.sign(
        alg,
        "JWT",
        json!({
            "iss": op.issuer, "aud": client_id, "sub": "user-1", "iat": now(), "exp": now() + 300,
            "nonce": grant.nonce, "sid": format!("sid-{client_id}"), "at_hash": half_hash(alg, &access_token),
            "name": "Ada <Lovelace>", "email": "ada@example.com", "entitlements": entitlements,
        }),
    );
    HttpResponse::Ok().content_type("application/json").insert_header(("Cache-Control", "no-store")).json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
    }))
}

async fn userinfo(req: HttpRequest, op: web::Data<Op>) -> HttpResponse {
    let auth = req.headers().get("Authorization").unwrap().to_str().unwrap();
    assert!(op.tokens.lock().unwrap().contains_key(auth.strip_prefix("Bearer ").unwrap()));
    HttpResponse::Ok().content_type("application/json").json(json!({
        "sub": "user-1", "name": "Ada <Lovelace>", "email": "ada@example.com",
        "organization": { "id": "org-1", "name": "Acme" },
    }))
}

fn serve_op(op: Arc<Op>, listener: TcpListener) {
    let data = web::Data::from(op);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/.well-known/openid-configuration", web::get().to(discovery))
            .route("/jwks", web::get().to(jwks))
            .route("/authorize", web::get().to(authorize))
            .route("/token", web::post().to(token))
            .route("/userinfo", web::get().to(userinfo))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
}

fn location(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "{res:?}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn status(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/status.json")).send().await.unwrap().json().await.unwrap()
}

async fn sign_in(http: &reqwest::Client, base: &str) -> String {
    let to_op = location(&http.get(format!("{base}/login")).send().await.unwrap());
    let to_callback = location(&http.get(&to_op).send().await.unwrap());
    assert!(to_callback.starts_with(&format!("{base}/callback?")), "{to_callback}");
    let home = location(&http.get(&to_callback).send().await.unwrap());
    assert_eq!(home, "/", "sign-in failed: {home}");
    http.get(format!("{base}/")).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_flow() {
    // Reserve a port for the provider, but leave it closed until later.
    let op_addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let issuer = format!("http://{op_addr}");

    let mut listeners = Vec::new();
    let mut services: Vec<DemoService> = default_services("campus-secret", "warehouse-secret", "model-sharing-secret");
    for s in &mut services {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        s.listen = listener.local_addr().unwrap();
        s.public_url = format!("http://{}", s.listen);
        listeners.push(listener);
    }
    let bases: Vec<String> = services.iter().map(|s| s.public_url.clone()).collect();
    let handles = start_on(DemoConfig { issuer: issuer.clone(), services }, listeners).await.unwrap();
    assert_eq!(handles.addrs().len(), 3);

    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // The provider is not serving yet: sign-in reports it, and works once it is up.
    let res = http.get(format!("{}/login", bases[0])).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("cannot be reached"));
    let op = Arc::new(Op::new(issuer.clone()));
    serve_op(op.clone(), TcpListener::bind(op_addr).unwrap());

    // Campus (RS256) and Warehouse (ES256): premium unlocked; Model Sharing (EdDSA): locked.
    let page = sign_in(&http, &bases[0]).await;
    assert!(page.contains("Signed in as <strong>Ada &lt;Lovelace&gt;</strong> (ada@example.com)"), "{page}");
    assert!(page.contains("Premium content unlocked"));
    assert!(page.contains("<th scope=\"row\">sid</th><td>sid-campus</td>"));
    assert!(page.contains("Userinfo response"));
    assert!(page.contains("{&quot;id&quot;:&quot;org-1&quot;,&quot;name&quot;:&quot;Acme&quot;}"));
    let page = sign_in(&http, &bases[1]).await;
    assert!(page.contains("Premium content unlocked"), "{page}");
    let page = sign_in(&http, &bases[2]).await;
    assert!(page.contains("Premium content requires the <strong>model-sharing</strong> license"), "{page}");
    for base in &bases {
        assert_eq!(status(&http, base).await, json!({"sessions": 1, "backchannel_logouts": 0}));
    }

    // Back-channel logout ends the Warehouse session only.
    let res = http
        .post(format!("{}/backchannel-logout", bases[1]))
        .form(&[("logout_token", op.logout_token("warehouse", "sid-warehouse"))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(status(&http, &bases[1]).await, json!({"sessions": 0, "backchannel_logouts": 1}));
    let page = http.get(format!("{}/", bases[1])).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("href=\"/login\""));
    // A token for another client is refused.
    let res = http
        .post(format!("{}/backchannel-logout", bases[0]))
        .form(&[("logout_token", op.logout_token("warehouse", "sid-campus"))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"error": "invalid_request"}));
    assert_eq!(status(&http, &bases[0]).await, json!({"sessions": 1, "backchannel_logouts": 0}));

    // RP-initiated logout from Campus goes to the provider with id_token_hint.
    let to_op = location(&http.post(format!("{}/logout", bases[0])).send().await.unwrap());
    let url = url::Url::parse(&to_op).unwrap();
    assert_eq!(url.path(), "/logout");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["post_logout_redirect_uri"], format!("{}/", bases[0]));
    assert_eq!(q["client_id"], "campus");
    assert!(q["id_token_hint"].split('.').count() == 3);
    assert!(!q["state"].is_empty());
    assert_eq!(status(&http, &bases[0]).await["sessions"], 0);

    // A provider error comes back readably.
    let home = location(
        &http.get(format!("{}/callback?error=access_denied&error_description=Nope", bases[2])).send().await.unwrap(),
    );
    let page = http.get(format!("{}{home}", bases[2])).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("access was denied") && page.contains("Nope"), "{page}");

    handles.stop().await;
}
