//! A minimal browser for the load generator: one shared HTTP client, a
//! cookie jar per simulated person, redirects followed by hand, and forms
//! filled in the way a person would (username, password, hidden fields).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, HeaderName, LOCATION, SET_COOKIE};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use url::Url;

pub type Result<T> = std::result::Result<T, String>;

/// One worker's HTTP client: a single keep-alive HTTP/1.1 connection of
/// its own (hyper's connection API, no shared pool), no redirects (each hop
/// is followed and checked by the flows) and no cookies (each simulated
/// browser keeps its own jar). A pooled client shared by all workers cost
/// the generator about 60 µs per request, twice what the server spent on a
/// discovery request (docs/performance.md).
pub struct Http {
    wire: tokio::sync::Mutex<Option<Wire>>,
}

/// The open connection and the `host:port` it goes to.
struct Wire {
    authority: String,
    sender: SendRequest<Full<Bytes>>,
}

/// A request as the flows build it.
pub struct Req {
    method: Method,
    url: Url,
    headers: Vec<(HeaderName, String)>,
    body: Bytes,
}

impl Req {
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: String) -> Self {
        self.body = Bytes::from(body);
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header(CONTENT_TYPE, "application/json").body(value.to_string())
    }

    /// The wire request for `authority`, with `Host` and the jar's cookies.
    fn to_http(&self, authority: &str, cookies: Option<&str>) -> Result<http::Request<Full<Bytes>>> {
        let target = match self.url.query() {
            Some(q) => format!("{}?{q}", self.url.path()),
            None => self.url.path().to_owned(),
        };
        let mut b = http::Request::builder().method(self.method.clone()).uri(target).header(HOST, authority);
        if let Some(c) = cookies {
            b = b.header(COOKIE, c);
        }
        for (name, value) in &self.headers {
            b = b.header(name, value);
        }
        b.body(Full::new(self.body.clone())).map_err(|e| format!("{}: {e}", self.url))
    }
}

const TIMEOUT: Duration = Duration::from_secs(60);

impl Http {
    pub fn new() -> Self {
        Self { wire: tokio::sync::Mutex::new(None) }
    }

    /// Closes the connection; the next request opens one on the runtime it
    /// runs on (a connection is driven by a task of the runtime that opened it).
    pub fn disconnect(&mut self) {
        *self.wire.get_mut() = None;
    }

    fn request(&self, method: Method, url: Url) -> Req {
        Req { method, url, headers: Vec::new(), body: Bytes::new() }
    }

    pub fn get(&self, url: Url) -> Req {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: Url) -> Req {
        self.request(Method::POST, url)
    }

    pub fn put(&self, url: Url) -> Req {
        self.request(Method::PUT, url)
    }

    async fn connect(url: &Url, authority: &str) -> Result<Wire> {
        let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
        let port = url.port_or_known_default().ok_or_else(|| format!("{url}: no port"))?;
        if url.scheme() != "http" {
            return Err(format!("{url}: only http:// on loopback is supported"));
        }
        let tcp = TcpStream::connect((host, port)).await.map_err(|e| format!("{url}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| format!("{url}: {e}"))?;
        // Drives the connection until either side closes it.
        tokio::spawn(connection);
        Ok(Wire { authority: authority.to_owned(), sender })
    }

    /// Sends on the worker's connection, opening one if there is none (or
    /// it goes elsewhere, or the server closed it). A request that failed
    /// before any answer came back on a kept-alive connection is sent once
    /// more on a new one: the server may have closed it while idle.
    async fn send(&self, req: &Req, cookies: Option<&str>) -> Result<http::Response<Incoming>> {
        let authority = match self.url_authority(&req.url) {
            Some(a) => a,
            None => return Err(format!("{}: no host", req.url)),
        };
        let mut slot = self.wire.lock().await;
        for attempt in 0..2 {
            let reuse = slot.as_ref().is_some_and(|w| w.authority == authority && !w.sender.is_closed());
            if !reuse {
                *slot = Some(Self::connect(&req.url, &authority).await?);
            }
            let wire = slot.as_mut().ok_or("no connection")?;
            let request = req.to_http(&authority, cookies)?;
            let sent = async {
                wire.sender.ready().await?;
                wire.sender.send_request(request).await
            };
            match tokio::time::timeout(TIMEOUT, sent).await {
                Err(_) => return Err(format!("{}: no answer within {TIMEOUT:?}", req.url)),
                Ok(Ok(resp)) => return Ok(resp),
                Ok(Err(_)) if reuse && attempt == 0 => *slot = None,
                Ok(Err(e)) => return Err(format!("{}: {e}", req.url)),
            }
        }
        Err(format!("{}: the connection kept closing", req.url))
    }

    fn url_authority(&self, url: &Url) -> Option<String> {
        Some(format!("{}:{}", url.host_str()?, url.port_or_known_default()?))
    }
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

/// An answer as the flows need it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<Url>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).map_err(|e| format!("{e}: {}", snippet(&self.body)))
    }

    /// A string field of a JSON answer with status 200.
    pub fn field(&self, name: &str) -> Result<String> {
        if self.status != 200 {
            return Err(format!("status {}: {}", self.status, snippet(&self.body)));
        }
        self.json()?
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("no {name} in {}", snippet(&self.body)))
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &str) -> String {
    body.chars().take(300).collect::<String>().replace('\n', " ")
}

/// One simulated browser: its cookies, kept by name (paths and domains are
/// ignored: every request goes to one provider on loopback).
#[derive(Default, Clone)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// Takes in one `Set-Cookie` value; an empty value or `Max-Age=0` removes the cookie.
    pub fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { return };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let expired = parts.any(|p| p.trim().eq_ignore_ascii_case("max-age=0"));
        if value.is_empty() || expired {
            self.0.remove(&name);
        } else {
            self.0.insert(name, value);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Sends a request with the jar's cookies, keeps the cookies it sets and reads the whole answer.
pub async fn exec(http: &Http, jar: &mut Jar, req: Req) -> Result<Answer> {
    let cookies = jar.header();
    let resp = http.send(&req, cookies.as_deref()).await?;
    let url = &req.url;
    for v in resp.headers().get_all(SET_COOKIE) {
        if let Ok(v) = v.to_str() {
            jar.store(v);
        }
    }
    let location = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok()).and_then(|l| url.join(l).ok());
    let status = resp.status().as_u16();
    let body = tokio::time::timeout(TIMEOUT, resp.into_body().collect())
        .await
        .map_err(|_| format!("{url}: the answer did not finish within {TIMEOUT:?}"))?
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok(Answer { status, location, body })
}

/// `Authorization: Basic` for a client (RFC 6749 §2.3.1: each part form-encoded first).
pub fn basic(id: &str, secret: &str) -> (HeaderName, String) {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    (AUTHORIZATION, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn post_form(http: &Http, url: &Url, fields: &[(&str, &str)]) -> Req {
    http.post(url.clone()).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form_body(fields))
}

/// A PKCE pair (RFC 7636, S256) and fresh `state` and `nonce`.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
    pub nonce: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        Self { verifier, challenge, state, nonce }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// A form to submit: where, and the fields as a person would fill them.
#[derive(Debug, PartialEq)]
pub struct FilledForm {
    pub action: Url,
    pub fields: Vec<(String, String)>,
}

/// Finds the form to submit on a page (the one with a password field, else
/// the first POST form) and fills it: hidden fields as given, the text or
/// email field with `username`, the password field with `password`.
pub fn fill_form(page: &Url, body: &str, username: &str, password: &str) -> Result<FilledForm> {
    let doc = Html::parse_document(body);
    let forms = Selector::parse("form").map_err(|e| e.to_string())?;
    let inputs = Selector::parse("input[name]").map_err(|e| e.to_string())?;
    let password_input = Selector::parse("input[type=password]").map_err(|e| e.to_string())?;
    let all: Vec<_> = doc.select(&forms).collect();
    let form = all
        .iter()
        .find(|f| f.select(&password_input).next().is_some())
        .or_else(|| all.iter().find(|f| f.value().attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post"))))
        .ok_or_else(|| format!("no form on {page}: {}", snippet(body)))?;
    let action = page.join(form.value().attr("action").unwrap_or("")).map_err(|e| e.to_string())?;
    let mut fields = Vec::new();
    for input in form.select(&inputs) {
        let e = input.value();
        let (Some(name), kind) = (e.attr("name"), e.attr("type").unwrap_or("text").to_ascii_lowercase()) else {
            continue;
        };
        let value = match kind.as_str() {
            "hidden" => e.attr("value").unwrap_or("").to_owned(),
            "password" => password.to_owned(),
            "text" | "email" => username.to_owned(),
            "checkbox" | "radio" if e.attr("checked").is_some() => e.attr("value").unwrap_or("on").to_owned(),
            _ => continue,
        };
        fields.push((name.to_owned(), value));
    }
    Ok(FilledForm { action, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one request head (the tests send no bodies) as lowercase text.
    async fn read_head(socket: &mut TcpStream) -> String {
        use tokio::io::AsyncReadExt as _;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(socket.read(&mut byte).await.unwrap(), 1, "the client closed early");
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap().to_lowercase()
    }

    #[tokio::test]
    async fn one_connection_carries_host_and_cookies_and_is_reopened_when_the_server_closes_it() {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            // First connection: two requests, then the server closes it
            // while the client still thinks it can be reused.
            let (mut socket, _) = listener.accept().await.unwrap();
            let first = read_head(&mut socket).await;
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: sid=abc; HttpOnly\r\n\r\nok")
                .await
                .unwrap();
            let second = read_head(&mut socket).await;
            socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await.unwrap();
            drop(socket);
            let (mut socket, _) = listener.accept().await.unwrap();
            let third = read_head(&mut socket).await;
            socket.write_all(b"HTTP/1.1 302 Found\r\nLocation: /next?x=1\r\nContent-Length: 0\r\n\r\n").await.unwrap();
            (first, second, third)
        });
        let http = Http::new();
        let mut jar = Jar::default();
        let base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let a = exec(&http, &mut jar, http.get(base.join("/start?q=1").unwrap())).await.unwrap();
        assert_eq!((a.status, a.body.as_str(), jar.len()), (200, "ok", 1));
        exec(&http, &mut jar, http.get(base.join("/again").unwrap())).await.unwrap();
        // Give the client a moment to see the close, or not: both paths must work.
        let c = exec(&http, &mut jar, http.get(base.join("/third").unwrap())).await.unwrap();
        assert_eq!(c.status, 302);
        assert_eq!(c.location.unwrap().as_str(), format!("http://127.0.0.1:{port}/next?x=1"));
        let (first, second, third) = server.await.unwrap();
        assert!(first.starts_with("get /start?q=1 http/1.1\r\n"), "{first}");
        assert!(first.contains(&format!("host: 127.0.0.1:{port}\r\n")), "{first}");
        assert!(!first.contains("cookie:"), "{first}");
        assert!(second.contains("cookie: sid=abc\r\n"), "{second}");
        assert!(third.starts_with("get /third http/1.1\r\n") && third.contains("cookie: sid=abc"), "{third}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let http = Http::new();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let e = exec(&http, &mut Jar::default(), http.get(url)).await.unwrap_err();
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
        let https = Url::parse("https://127.0.0.1:1/x").unwrap();
        assert!(exec(&http, &mut Jar::default(), http.get(https)).await.unwrap_err().contains("http://"));
    }

    #[test]
    fn the_sign_in_form_is_found_and_filled() {
        let page = Url::parse("http://127.0.0.1:9/login?next=/x").unwrap();
        let body = r#"<html><form action="/lang" method="post"><input type="hidden" name="csrf" value="a"></form>
            <form action="/login" method="post"><input type="hidden" name="csrf" value="t0k"/>
            <input type="hidden" name="next" value="/authorize/continue?id=1">
            <input type="email" name="email"><input type="password" name="password">
            <input type="checkbox" name="remember"><button>Sign in</button></form></html>"#;
        let form = fill_form(&page, body, "a@example.com", "pw").unwrap();
        assert_eq!(form.action.as_str(), "http://127.0.0.1:9/login");
        let got: Vec<(&str, &str)> = form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [("csrf", "t0k"), ("next", "/authorize/continue?id=1"), ("email", "a@example.com"), ("password", "pw")]
        );
    }

    #[test]
    fn a_consent_form_without_password_is_posted_as_is() {
        let page = Url::parse("http://127.0.0.1:9/interaction/abc").unwrap();
        let body = r#"<form autocomplete="off" action="/interaction/abc/confirm" method="post">
            <input type="hidden" name="prompt" value="consent"/><button type="submit">Continue</button></form>"#;
        let form = fill_form(&page, body, "u", "p").unwrap();
        assert_eq!(form.action.path(), "/interaction/abc/confirm");
        assert_eq!(form.fields, vec![("prompt".to_owned(), "consent".to_owned())]);
        assert!(fill_form(&page, "<p>no form</p>", "u", "p").is_err());
    }

    #[test]
    fn the_jar_keeps_and_removes_cookies() {
        let mut jar = Jar::default();
        jar.store("sid=abc; Path=/; HttpOnly");
        jar.store("lang=fi");
        assert_eq!(jar.header().as_deref(), Some("lang=fi; sid=abc"));
        jar.store("sid=; Max-Age=0");
        jar.store("lang=de; Max-Age=0");
        assert!(jar.is_empty());
    }

    #[test]
    fn pkce_challenge_is_the_s256_of_the_verifier() {
        let p = Pkce::new();
        assert_eq!(p.verifier.len(), 43);
        assert_eq!(p.challenge, URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.as_bytes())));
        assert_ne!(Pkce::new().verifier, p.verifier);
    }

    #[test]
    fn basic_auth_encodes_each_part() {
        let (_, v) = basic("a b", "s:1");
        let raw = base64::engine::general_purpose::STANDARD.decode(v.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(String::from_utf8(raw).unwrap(), "a+b:s%3A1");
    }
}
