//! The `clients` table.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::client::{Client, ClientId, ClientKind, GrantType, SigningAlg, TokenEndpointAuth};

use crate::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::clients;
use crate::time_conv::{from_db, to_db};

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    bool,
    bool,
    String,
    time::PrimitiveDateTime,
    Option<String>,
    bool,
);

fn json_list<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<Vec<T>> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(format!("client {what}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(e.to_string()))
}

fn client(r: Row) -> StoreResult<Client> {
    Ok(Client {
        kind: match r.2.as_str() {
            "public" => ClientKind::Public,
            "confidential" => ClientKind::Confidential,
            other => return Err(StoreError::corrupt(format!("client kind {other}"))),
        },
        auth_method: TokenEndpointAuth::parse(&r.4).ok_or_else(|| StoreError::corrupt("client auth method"))?,
        redirect_uris: json_list(&r.6, "redirect_uris")?,
        post_logout_redirect_uris: json_list(&r.7, "post_logout_redirect_uris")?,
        grant_types: json_list::<String>(&r.9, "grant_types")?.iter().filter_map(|g| GrantType::parse(g)).collect(),
        scopes: json_list(&r.10, "scopes")?,
        id_token_alg: SigningAlg::parse(&r.13).ok_or_else(|| StoreError::corrupt("client alg"))?,
        id: ClientId::from_stored(r.0),
        name: r.1,
        secret_hash: r.3,
        jwks: r.5,
        backchannel_logout_uri: r.8,
        strict_scopes: r.11,
        first_party: r.12,
        created_at: from_db(r.14),
        required_entitlement: r.15,
        accepts_federated_only: r.16,
    })
}

#[allow(clippy::type_complexity)] // the column list is the type
fn select() -> (
    clients::id,
    clients::name,
    clients::kind,
    clients::secret_hash,
    clients::auth_method,
    clients::jwks,
    clients::redirect_uris,
    clients::post_logout_redirect_uris,
    clients::backchannel_logout_uri,
    clients::grant_types,
    clients::scopes,
    clients::strict_scopes,
    clients::first_party,
    clients::id_token_alg,
    clients::created_at,
    clients::required_entitlement,
    clients::accepts_federated_only,
) {
    (
        clients::id,
        clients::name,
        clients::kind,
        clients::secret_hash,
        clients::auth_method,
        clients::jwks,
        clients::redirect_uris,
        clients::post_logout_redirect_uris,
        clients::backchannel_logout_uri,
        clients::grant_types,
        clients::scopes,
        clients::strict_scopes,
        clients::first_party,
        clients::id_token_alg,
        clients::created_at,
        clients::required_entitlement,
        clients::accepts_federated_only,
    )
}

fn kind_str(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::Public => "public",
        ClientKind::Confidential => "confidential",
    }
}

/// Inserts a client; an existing id is a `Conflict`.
pub fn insert(conn: &mut DbConnection, c: &Client, now: OffsetDateTime) -> StoreResult<()> {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    diesel::insert_into(clients::table)
        .values((
            clients::id.eq(c.id.as_str()),
            clients::name.eq(&c.name),
            clients::kind.eq(kind_str(c.kind)),
            clients::secret_hash.eq(c.secret_hash.as_deref()),
            clients::auth_method.eq(c.auth_method.as_str()),
            clients::jwks.eq(c.jwks.as_deref()),
            clients::redirect_uris.eq(to_json(&c.redirect_uris)?),
            clients::post_logout_redirect_uris.eq(to_json(&c.post_logout_redirect_uris)?),
            clients::backchannel_logout_uri.eq(c.backchannel_logout_uri.as_deref()),
            clients::grant_types.eq(to_json(&grants)?),
            clients::scopes.eq(to_json(&c.scopes)?),
            clients::strict_scopes.eq(c.strict_scopes),
            clients::first_party.eq(c.first_party),
            clients::id_token_alg.eq(c.id_token_alg.as_str()),
            clients::created_at.eq(to_db(c.created_at)),
            clients::updated_at.eq(to_db(now)),
            clients::required_entitlement.eq(c.required_entitlement.as_deref()),
            clients::accepts_federated_only.eq(c.accepts_federated_only),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces every field of an existing client (the id stays).
pub fn update(conn: &mut DbConnection, c: &Client, now: OffsetDateTime) -> StoreResult<()> {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    let n = diesel::update(clients::table.find(c.id.as_str()))
        .set((
            clients::name.eq(&c.name),
            clients::kind.eq(kind_str(c.kind)),
            clients::secret_hash.eq(c.secret_hash.as_deref()),
            clients::auth_method.eq(c.auth_method.as_str()),
            clients::jwks.eq(c.jwks.as_deref()),
            clients::redirect_uris.eq(to_json(&c.redirect_uris)?),
            clients::post_logout_redirect_uris.eq(to_json(&c.post_logout_redirect_uris)?),
            clients::backchannel_logout_uri.eq(c.backchannel_logout_uri.as_deref()),
            clients::grant_types.eq(to_json(&grants)?),
            clients::scopes.eq(to_json(&c.scopes)?),
            clients::strict_scopes.eq(c.strict_scopes),
            clients::first_party.eq(c.first_party),
            clients::id_token_alg.eq(c.id_token_alg.as_str()),
            clients::updated_at.eq(to_db(now)),
            clients::required_entitlement.eq(c.required_entitlement.as_deref()),
            clients::accepts_federated_only.eq(c.accepts_federated_only),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::new(crate::StoreErrorKind::NotFound, format!("no client {}", c.id)));
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &ClientId) -> StoreResult<Option<Client>> {
    let row: Option<Row> = clients::table.find(id.as_str()).select(select()).get_result(conn).optional()?;
    row.map(client).transpose()
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Client>> {
    let rows: Vec<Row> = clients::table.order(clients::id.asc()).select(select()).load(conn)?;
    rows.into_iter().map(client).collect()
}

pub fn delete(conn: &mut DbConnection, id: &ClientId) -> StoreResult<bool> {
    Ok(diesel::delete(clients::table.find(id.as_str())).execute(conn)? == 1)
}
