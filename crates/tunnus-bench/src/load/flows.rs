//! The flows the load generator drives, as a relying party and a browser
//! would: every answer is checked, so an error page never counts as a
//! completed flow.

use http::header::{AUTHORIZATION, HeaderName};
use url::Url;

use super::web::{Answer, FilledForm, Http, Jar, Pkce, Result, basic, exec, fill_form, post_form, snippet};

/// Which provider is on the other end: they differ only in how a person signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// Tunnus: the sign-in page is a form on `/login`.
    Tunnus,
    /// panva's oidc-provider with `devInteractions`: login and consent forms.
    OidcProvider,
    /// glewlwyd: sign-in through its JSON API (`POST /api/auth/`), consent as a grant.
    Glewlwyd,
}

/// What is measured; one iteration of a flow is one timed unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flow {
    /// GET the discovery document.
    Discovery,
    /// GET the JWK Set.
    Jwks,
    /// POST /token with `client_credentials`.
    ClientCredentials,
    /// Authorization with a live SSO session (no page shown) + code exchange.
    Code,
    /// A new browser: sign-in form with the password + authorization + code exchange.
    SignIn,
    /// POST /token with `refresh_token`; each answer's new token is used next.
    Refresh,
    /// GET userinfo with a bearer access token.
    Userinfo,
    /// POST the access token to the introspection endpoint.
    Introspect,
    /// Sign-ins that each leave an SSO session behind (memory per session).
    Sessions,
}

/// The provider's endpoints, from its discovery document.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub discovery: Url,
    pub authorization: Url,
    pub token: Url,
    pub userinfo: Url,
    pub jwks: Url,
    pub introspection: Option<Url>,
}

impl Endpoints {
    pub async fn discover(http: &Http, issuer: &str) -> Result<Self> {
        let discovery = Url::parse(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')))
            .map_err(|e| format!("issuer {issuer}: {e}"))?;
        let doc = exec(http, &mut Jar::default(), http.get(discovery.clone())).await?.json()?;
        let url = |name: &str| -> Result<Url> {
            let s = doc.get(name).and_then(|v| v.as_str()).ok_or_else(|| format!("discovery has no {name}"))?;
            Url::parse(s).map_err(|e| format!("{name}: {e}"))
        };
        Ok(Self {
            authorization: url("authorization_endpoint")?,
            token: url("token_endpoint")?,
            userinfo: url("userinfo_endpoint")?,
            jwks: url("jwks_uri")?,
            introspection: url("introspection_endpoint").ok(),
            discovery,
        })
    }
}

/// Everything a flow needs to know; each worker has its own (and so its own connection).
pub struct Ctx {
    /// This worker's own connection.
    pub http: Http,
    pub kind: ProviderKind,
    pub ep: Endpoints,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub scope: String,
    /// RFC 8707 resource indicator (oidc-provider issues JWT access tokens for one).
    pub resource: Option<String>,
    pub username: String,
    /// How many people `{n}` in `username` stands for (sessions only).
    pub users: usize,
    pub password: String,
}

/// The tokens of one exchange.
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub id: Option<String>,
}

impl Ctx {
    /// The same settings with a connection of its own, for one more worker.
    pub fn for_worker(&self) -> Self {
        Self {
            http: Http::new(),
            kind: self.kind,
            ep: self.ep.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            resource: self.resource.clone(),
            username: self.username.clone(),
            users: self.users,
            password: self.password.clone(),
        }
    }

    fn basic(&self) -> (HeaderName, String) {
        basic(&self.client_id, &self.client_secret)
    }

    async fn token(&self, fields: &[(&str, &str)]) -> Result<Answer> {
        let mut all = fields.to_vec();
        if let Some(r) = &self.resource {
            all.push(("resource", r));
        }
        let (h, v) = self.basic();
        exec(&self.http, &mut Jar::default(), post_form(&self.http, &self.ep.token, &all).header(h, v)).await
    }

    pub fn authorize_url(&self, p: &Pkce) -> Url {
        let mut url = self.ep.authorization.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &self.scope)
                .append_pair("state", &p.state)
                .append_pair("nonce", &p.nonce)
                .append_pair("code_challenge", &p.challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(r) = &self.resource {
                q.append_pair("resource", r);
            }
            // glewlwyd sends a browser to its sign-in app unless the request
            // says it comes back from there; with a live session that app
            // only sends it back, so the bench skips that page load.
            if self.kind == ProviderKind::Glewlwyd {
                q.append_pair("g_continue", "");
            }
        }
        url
    }

    /// Follows the authorization through redirects until it comes back to
    /// the redirect URI. With `sign_in`, pages with forms are filled and
    /// submitted (sign-in, consent); without, any page is an error: with a
    /// live session the browser must go straight back.
    pub async fn browse(&self, jar: &mut Jar, start: Url, sign_in: bool) -> Result<Url> {
        let mut answer = exec(&self.http, jar, self.http.get(start.clone())).await?;
        let mut at = start;
        for _ in 0..12 {
            if let Some(next) = answer.location.take() {
                if next.as_str().starts_with(&self.redirect_uri) {
                    return Ok(next);
                }
                answer = exec(&self.http, jar, self.http.get(next.clone())).await?;
                at = next;
                continue;
            }
            if !sign_in || answer.status != 200 {
                return Err(format!("{} at {}: {}", answer.status, at.path(), snippet(&answer.body)));
            }
            let FilledForm { action, fields } = fill_form(&at, &answer.body, &self.username, &self.password)?;
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            answer = exec(&self.http, jar, post_form(&self.http, &action, &pairs)).await?;
            at = action;
        }
        Err(format!("too many steps, last at {at}"))
    }

    /// The code from a redirect back, after checking `state`.
    pub fn code_from(&self, back: &Url, p: &Pkce) -> Result<String> {
        let get = |name: &str| back.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        if let Some(e) = get("error") {
            return Err(format!("authorization error {e}: {}", get("error_description").unwrap_or_default()));
        }
        if get("state").as_deref() != Some(p.state.as_str()) {
            return Err(format!("state mismatch in {back}"));
        }
        get("code").ok_or_else(|| format!("no code in {back}"))
    }

    pub async fn exchange(&self, code: &str, p: &Pkce) -> Result<Tokens> {
        let a = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", &p.verifier),
            ])
            .await?;
        let json = a.json()?;
        let s = |n: &str| json.get(n).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(Tokens { access: a.field("access_token")?, refresh: s("refresh_token"), id: s("id_token") })
    }

    /// glewlwyd signs in through its API before any authorization; the others
    /// show forms during [`Ctx::browse`].
    pub async fn api_sign_in(&self, jar: &mut Jar) -> Result<()> {
        if self.kind != ProviderKind::Glewlwyd {
            return Ok(());
        }
        let api = self.ep.authorization.join("/api/").map_err(|e| e.to_string())?;
        let body = serde_json::json!({"username": self.username, "password": self.password});
        let a =
            exec(&self.http, jar, self.http.post(api.join("auth/").map_err(|e| e.to_string())?).json(&body)).await?;
        if a.status != 200 {
            return Err(format!("glewlwyd sign-in: {} {}", a.status, snippet(&a.body)));
        }
        let grant = serde_json::json!({"scope": self.scope});
        let url = api.join(&format!("auth/grant/{}/", self.client_id)).map_err(|e| e.to_string())?;
        let a = exec(&self.http, jar, self.http.put(url).json(&grant)).await?;
        if a.status != 200 {
            return Err(format!("glewlwyd grant: {} {}", a.status, snippet(&a.body)));
        }
        Ok(())
    }

    /// A new browser signs in during an authorization and exchanges the code.
    pub async fn full_sign_in(&self, jar: &mut Jar) -> Result<Tokens> {
        self.api_sign_in(jar).await?;
        let p = Pkce::new();
        let back = self.browse(jar, self.authorize_url(&p), true).await?;
        let code = self.code_from(&back, &p)?;
        self.exchange(&code, &p).await
    }

    /// Authorization with the jar's live session, then the exchange; an ID token is required.
    pub async fn code_exchange(&self, jar: &mut Jar) -> Result<Tokens> {
        let p = Pkce::new();
        let back = self.browse(jar, self.authorize_url(&p), false).await?;
        let code = self.code_from(&back, &p)?;
        let t = self.exchange(&code, &p).await?;
        if t.id.is_none() {
            return Err("no id_token".into());
        }
        Ok(t)
    }

    pub fn person(&self, n: usize) -> String {
        nth_person(&self.username, self.users, n)
    }

    /// Just a sign-in that leaves an SSO session: Tunnus's own sign-in page;
    /// for peers, an authorization that stops at the code.
    pub async fn session(&self, n: usize) -> Result<()> {
        let mut jar = Jar::default();
        if self.kind != ProviderKind::Tunnus {
            self.api_sign_in(&mut jar).await?;
            let p = Pkce::new();
            let back = self.browse(&mut jar, self.authorize_url(&p), true).await?;
            return self.code_from(&back, &p).map(drop);
        }
        let login = self.ep.authorization.join("/login").map_err(|e| e.to_string())?;
        let page = exec(&self.http, &mut jar, self.http.get(login.clone())).await?;
        let FilledForm { action, fields } = fill_form(&login, &page.body, &self.person(n), &self.password)?;
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let done = exec(&self.http, &mut jar, post_form(&self.http, &action, &pairs)).await?;
        if done.status != 303 || jar.is_empty() {
            return Err(format!("sign-in: {} {}", done.status, snippet(&done.body)));
        }
        Ok(())
    }

    pub async fn client_credentials(&self, scope: Option<&str>) -> Result<()> {
        let mut fields = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            fields.push(("scope", s));
        }
        self.token(&fields).await?.field("access_token").map(drop)
    }

    /// Rotates: returns the new refresh token.
    pub async fn refresh(&self, token: &str) -> Result<String> {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", token)]).await?.field("refresh_token")
    }

    pub async fn userinfo(&self, access: &str) -> Result<()> {
        let req = self.http.get(self.ep.userinfo.clone()).header(AUTHORIZATION, format!("Bearer {access}"));
        exec(&self.http, &mut Jar::default(), req).await?.field("sub").map(drop)
    }

    pub async fn introspect(&self, access: &str) -> Result<()> {
        let url = self.ep.introspection.clone().ok_or("no introspection_endpoint in discovery")?;
        let (h, v) = self.basic();
        let req = post_form(&self.http, &url, &[("token", access)]).header(h, v);
        let a = exec(&self.http, &mut Jar::default(), req).await?;
        match a.json()?.get("active") {
            Some(serde_json::Value::Bool(true)) if a.status == 200 => Ok(()),
            _ => Err(format!("introspection: {} {}", a.status, snippet(&a.body))),
        }
    }

    pub async fn get_ok(&self, url: &Url) -> Result<()> {
        let a = exec(&self.http, &mut Jar::default(), self.http.get(url.clone())).await?;
        if a.status == 200 { Ok(()) } else { Err(format!("{url}: {}", a.status)) }
    }
}

/// The `n`th of `users` people of a username template with `{n}`.
pub fn nth_person(template: &str, users: usize, n: usize) -> String {
    template.replace("{n}", &(n % users.max(1)).to_string())
}

#[cfg(test)]
mod tests {
    use super::nth_person;

    #[test]
    fn sessions_are_spread_over_the_people_of_a_template() {
        assert_eq!(nth_person("aino+{n}@example.com", 100, 1234), "aino+34@example.com");
        assert_eq!(nth_person("aino+{n}@example.com", 1, 7), "aino+0@example.com");
        assert_eq!(nth_person("aino@example.com", 100, 7), "aino@example.com");
    }
}
