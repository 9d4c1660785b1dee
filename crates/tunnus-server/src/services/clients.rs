//! Registering and changing relying parties (for the CLI, the config file
//! and later the admin API). Secrets are generated here, shown once, and
//! stored only as a keyed hash.

use tunnus_core::SecretToken;
use tunnus_core::client::{
    Client, ClientId, ClientKind, GrantType, SigningAlg, TokenEndpointAuth, valid_registration_uri,
};
use tunnus_oidc::client_auth::secret_hash;
use tunnus_store::{Db, StoreError, StoreErrorKind, clients};

/// A client as an operator describes it.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    pub auth_method: Option<TokenEndpointAuth>,
    pub jwks: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub strict_scopes: bool,
    pub first_party: bool,
    pub id_token_alg: SigningAlg,
    /// Only holders of this entitlement may sign in to the client.
    pub required_entitlement: Option<String>,
    /// Accepts people who sign in only through an upstream provider.
    pub accepts_federated_only: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid client: {0}")]
    Invalid(String),
    #[error("a client with id {0} already exists")]
    Exists(String),
    #[error("no client with id {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn validate(spec: &ClientSpec) -> Result<(ClientId, TokenEndpointAuth), ClientError> {
    let id =
        ClientId::parse(&spec.id).ok_or_else(|| ClientError::Invalid("id: letters, digits, - _ . : (1-100)".into()))?;
    if spec.name.trim().is_empty() || spec.name.chars().count() > 100 {
        return Err(ClientError::Invalid("name: 1-100 characters".into()));
    }
    for uri in spec.redirect_uris.iter().chain(&spec.post_logout_redirect_uris).chain(&spec.backchannel_logout_uri) {
        if !valid_registration_uri(uri) {
            return Err(ClientError::Invalid(format!(
                "{uri}: must be absolute https (http only on localhost), without fragment"
            )));
        }
    }
    if spec.grant_types.contains(&GrantType::AuthorizationCode) && spec.redirect_uris.is_empty() {
        return Err(ClientError::Invalid("the authorization code grant needs at least one redirect URI".into()));
    }
    let auth = match (spec.kind, spec.auth_method) {
        (ClientKind::Public, None | Some(TokenEndpointAuth::None)) => TokenEndpointAuth::None,
        (ClientKind::Public, Some(_)) => {
            return Err(ClientError::Invalid("public clients have no credentials (auth none)".into()));
        }
        (ClientKind::Confidential, None) => TokenEndpointAuth::ClientSecretBasic,
        (ClientKind::Confidential, Some(TokenEndpointAuth::None)) => {
            return Err(ClientError::Invalid("confidential clients must authenticate".into()));
        }
        (ClientKind::Confidential, Some(m)) => m,
    };
    if spec.kind == ClientKind::Public && spec.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(ClientError::Invalid("public clients cannot use client credentials".into()));
    }
    if auth == TokenEndpointAuth::PrivateKeyJwt {
        let jwks = spec.jwks.as_deref().ok_or_else(|| ClientError::Invalid("private_key_jwt needs a JWKS".into()))?;
        let parsed: serde_json::Value =
            serde_json::from_str(jwks).map_err(|e| ClientError::Invalid(format!("jwks: {e}")))?;
        if !parsed.get("keys").is_some_and(serde_json::Value::is_array) {
            return Err(ClientError::Invalid("jwks: a JSON object with a keys array".into()));
        }
    }
    Ok((id, auth))
}

fn needs_secret(auth: TokenEndpointAuth) -> bool {
    matches!(auth, TokenEndpointAuth::ClientSecretBasic | TokenEndpointAuth::ClientSecretPost)
}

fn build(
    spec: &ClientSpec,
    id: ClientId,
    auth: TokenEndpointAuth,
    secret_hash: Option<String>,
    now: time::OffsetDateTime,
) -> Client {
    Client {
        id,
        name: spec.name.trim().to_owned(),
        kind: spec.kind,
        secret_hash,
        auth_method: auth,
        jwks: spec.jwks.clone(),
        redirect_uris: spec.redirect_uris.clone(),
        post_logout_redirect_uris: spec.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: spec.backchannel_logout_uri.clone(),
        grant_types: spec.grant_types.clone(),
        scopes: spec.scopes.clone(),
        strict_scopes: spec.strict_scopes,
        first_party: spec.first_party,
        id_token_alg: spec.id_token_alg,
        required_entitlement: spec.required_entitlement.clone(),
        accepts_federated_only: spec.accepts_federated_only,
        created_at: now,
    }
}

/// Registers a client; returns it and, for secret-based clients, the secret
/// (the only time it is ever visible). `secret` lets a deployment choose it
/// (config file, demo); otherwise a random one is made.
pub async fn register(
    db: &Db,
    server_key: &[u8],
    spec: &ClientSpec,
    secret: Option<String>,
    now: time::OffsetDateTime,
) -> Result<(Client, Option<String>), ClientError> {
    let (id, auth) = validate(spec)?;
    let secret = needs_secret(auth)
        .then(|| secret.unwrap_or_else(|| SecretToken::generate(&mut rand::rng()).expose().to_owned()));
    let client = build(spec, id, auth, secret.as_deref().map(|s| secret_hash(server_key, s)), now);
    let stored = client.clone();
    db.write(move |c| clients::insert(c, &stored, now)).await.map_err(|e| {
        if e.kind() == StoreErrorKind::Conflict { ClientError::Exists(spec.id.clone()) } else { ClientError::Store(e) }
    })?;
    Ok((client, secret))
}

/// What happens to a client's secret on update.
#[derive(Debug, Clone)]
pub enum SecretChange {
    Keep,
    /// A new random secret, shown once.
    Random,
    /// This secret (declared in the configuration).
    Set(String),
}

/// Replaces a client's settings.
pub async fn update(
    db: &Db,
    server_key: &[u8],
    spec: &ClientSpec,
    secret: SecretChange,
    now: time::OffsetDateTime,
) -> Result<(Client, Option<String>), ClientError> {
    let (id, auth) = validate(spec)?;
    let lookup = id.clone();
    let existing =
        db.read(move |c| clients::find(c, &lookup)).await?.ok_or_else(|| ClientError::NotFound(spec.id.clone()))?;
    let (hash, shown) = if let (true, SecretChange::Set(s)) = (needs_secret(auth), &secret) {
        (Some(secret_hash(server_key, s)), None)
    } else if needs_secret(auth) && (matches!(secret, SecretChange::Random) || existing.secret_hash.is_none()) {
        let s = SecretToken::generate(&mut rand::rng()).expose().to_owned();
        (Some(secret_hash(server_key, &s)), Some(s))
    } else if needs_secret(auth) {
        (existing.secret_hash.clone(), None)
    } else {
        (None, None)
    };
    let client = build(spec, id, auth, hash, existing.created_at);
    let stored = client.clone();
    db.write(move |c| clients::update(c, &stored, now)).await?;
    Ok((client, shown))
}

/// The spec a stored client was made from (to change a few fields of it).
pub fn spec_of(c: &Client) -> ClientSpec {
    ClientSpec {
        id: c.id.to_string(),
        name: c.name.clone(),
        kind: c.kind,
        auth_method: Some(c.auth_method),
        jwks: c.jwks.clone(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        grant_types: c.grant_types.clone(),
        scopes: c.scopes.clone(),
        strict_scopes: c.strict_scopes,
        first_party: c.first_party,
        id_token_alg: c.id_token_alg,
        required_entitlement: c.required_entitlement.clone(),
        accepts_federated_only: c.accepts_federated_only,
    }
}

/// Makes the stored client match a declaration (configuration file): creates
/// it, or updates it in place. Returns whether it was created.
pub async fn ensure(
    db: &Db,
    server_key: &[u8],
    spec: &ClientSpec,
    secret: Option<String>,
    now: time::OffsetDateTime,
) -> Result<bool, ClientError> {
    let id = ClientId::parse(&spec.id).ok_or_else(|| ClientError::Invalid("id".into()))?;
    let exists = db.read(move |c| clients::find(c, &id)).await?.is_some();
    if exists {
        let change = secret.map_or(SecretChange::Keep, SecretChange::Set);
        update(db, server_key, spec, change, now).await?;
        Ok(false)
    } else {
        register(db, server_key, spec, secret, now).await?;
        Ok(true)
    }
}
