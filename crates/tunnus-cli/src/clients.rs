//! `tunnus client …`: registering and changing relying parties.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tunnus_core::Clock as _;
use tunnus_core::SystemClock;
use tunnus_core::client::{Client, ClientId, ClientKind, GrantType, SigningAlg, TokenEndpointAuth};
use tunnus_server::Config;
use tunnus_server::services::clients::{ClientSpec, SecretChange, register, spec_of, update};
use tunnus_store::clients;

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a relying party; a generated secret is printed once.
    Add(ClientArgs),
    /// List the registered relying parties.
    List,
    /// Show one relying party.
    Show { id: String },
    /// Change a relying party: only the options given change.
    Update {
        #[command(flatten)]
        args: ClientArgs,
        /// Replace the secret with a new random one (printed once).
        #[arg(long)]
        new_secret: bool,
    },
    /// Delete a relying party (its refresh tokens and consents go with it).
    Remove { id: String },
}

#[derive(Args)]
pub struct ClientArgs {
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    /// A public client (native or browser app): no secret, PKCE required.
    #[arg(long)]
    pub public: bool,
    /// client_secret_basic (default), client_secret_post, private_key_jwt, none.
    #[arg(long, value_parser = parse_auth)]
    pub auth: Option<TokenEndpointAuth>,
    /// JWK Set file with the client's public keys (private_key_jwt).
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    /// Redirect URI (repeatable); matched exactly.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-uri")]
    pub post_logout_uris: Vec<String>,
    #[arg(long)]
    pub backchannel_uri: Option<String>,
    /// Grant type (repeatable): authorization_code, refresh_token, client_credentials, device_code.
    #[arg(long = "grant", value_parser = parse_grant)]
    pub grants: Vec<GrantType>,
    /// Allowed scope besides openid (repeatable).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    #[arg(long)]
    pub strict_scopes: Option<bool>,
    /// First-party service: no consent page.
    #[arg(long)]
    pub first_party: Option<bool>,
    /// ID-token algorithm: RS256 (default), ES256, EdDSA.
    #[arg(long, value_parser = parse_alg)]
    pub alg: Option<SigningAlg>,
    /// Only people holding this entitlement may sign in ("" removes the requirement).
    #[arg(long)]
    pub require_entitlement: Option<String>,
    /// Accept people who sign in only through an upstream provider (no
    /// password of their own); `false` asks them to set a password first.
    #[arg(long)]
    pub accept_federated_only: Option<bool>,
}

fn parse_auth(s: &str) -> Result<TokenEndpointAuth, String> {
    TokenEndpointAuth::parse(s).ok_or_else(|| format!("unknown method {s}"))
}

fn parse_grant(s: &str) -> Result<GrantType, String> {
    // `device_code` is accepted for the long RFC 8628 name.
    let s = if s == "device_code" { GrantType::DeviceCode.as_str() } else { s };
    GrantType::parse(s).ok_or_else(|| format!("unknown grant type {s}"))
}

fn parse_alg(s: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(s).ok_or_else(|| format!("unknown algorithm {s}"))
}

/// Applies the given options over `base`.
fn merge(args: ClientArgs, mut base: ClientSpec) -> Result<ClientSpec, String> {
    if let Some(name) = args.name {
        base.name = name;
    }
    if args.public {
        base.kind = ClientKind::Public;
    }
    if let Some(auth) = args.auth {
        base.auth_method = Some(auth);
    }
    if let Some(path) = args.jwks_file {
        base.jwks = Some(std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if !args.redirect_uris.is_empty() {
        base.redirect_uris = args.redirect_uris;
    }
    if !args.post_logout_uris.is_empty() {
        base.post_logout_redirect_uris = args.post_logout_uris;
    }
    if args.backchannel_uri.is_some() {
        base.backchannel_logout_uri = args.backchannel_uri;
    }
    if !args.grants.is_empty() {
        base.grant_types = args.grants;
    }
    if !args.scopes.is_empty() {
        base.scopes = args.scopes;
    }
    if let Some(v) = args.strict_scopes {
        base.strict_scopes = v;
    }
    if let Some(v) = args.first_party {
        base.first_party = v;
    }
    if let Some(alg) = args.alg {
        base.id_token_alg = alg;
    }
    if let Some(v) = args.accept_federated_only {
        base.accepts_federated_only = v;
    }
    if let Some(e) = args.require_entitlement {
        base.required_entitlement = (!e.is_empty()).then_some(e);
    }
    Ok(base)
}

fn describe(c: &Client) -> String {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    format!(
        "id: {}\nname: {}\ntype: {:?}\nauth: {}\nredirect URIs: {}\npost-logout URIs: {}\nback-channel logout: {}\ngrants: {}\nscopes: {}{}\nfirst party: {}\nID-token algorithm: {}\nrequired entitlement: {}\naccepts federated-only: {}\n",
        c.id,
        c.name,
        c.kind,
        c.auth_method.as_str(),
        c.redirect_uris.join(" "),
        c.post_logout_redirect_uris.join(" "),
        c.backchannel_logout_uri.as_deref().unwrap_or("-"),
        grants.join(" "),
        c.scopes.join(" "),
        if c.strict_scopes { " (strict)" } else { "" },
        c.first_party,
        c.id_token_alg.as_str(),
        c.required_entitlement.as_deref().unwrap_or("-"),
        c.accepts_federated_only,
    )
}

pub async fn run(config: &Config, command: ClientCommand) -> Result<(), String> {
    let db = tunnus_server::state::open_database(config).map_err(|e| e.to_string())?;
    let key = tunnus_server::state::load_secret_key(config).map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    match command {
        ClientCommand::Add(args) => {
            let base = ClientSpec {
                id: args.id.clone(),
                name: args.id.clone(),
                kind: ClientKind::Confidential,
                auth_method: None,
                jwks: None,
                redirect_uris: Vec::new(),
                post_logout_redirect_uris: Vec::new(),
                backchannel_logout_uri: None,
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                scopes: vec![
                    "profile".into(),
                    "email".into(),
                    "offline_access".into(),
                    "organization".into(),
                    "entitlements".into(),
                ],
                strict_scopes: false,
                first_party: false,
                id_token_alg: SigningAlg::RS256,
                required_entitlement: None,
                accepts_federated_only: true,
            };
            let spec = merge(args, base)?;
            let (client, secret) = register(&db, &key, &spec, None, now).await.map_err(|e| e.to_string())?;
            print!("{}", describe(&client));
            if let Some(secret) = secret {
                println!("secret: {secret}\n(shown once: store it now)");
            }
        }
        ClientCommand::List => {
            for c in db.read(clients::list).await.map_err(|e| e.to_string())? {
                println!("{}\t{}\t{:?}\t{}", c.id, c.name, c.kind, c.redirect_uris.join(" "));
            }
        }
        ClientCommand::Show { id } => {
            let id = ClientId::parse(&id).ok_or("invalid client id")?;
            let c = db
                .read(move |conn| clients::find(conn, &id))
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no such client")?;
            print!("{}", describe(&c));
        }
        ClientCommand::Update { args, new_secret } => {
            let id = ClientId::parse(&args.id).ok_or("invalid client id")?;
            let existing = db
                .read(move |conn| clients::find(conn, &id))
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no such client")?;
            let spec = merge(args, spec_of(&existing))?;
            let change = if new_secret { SecretChange::Random } else { SecretChange::Keep };
            let (client, secret) = update(&db, &key, &spec, change, now).await.map_err(|e| e.to_string())?;
            print!("{}", describe(&client));
            if let Some(secret) = secret {
                println!("secret: {secret}\n(shown once: store it now)");
            }
        }
        ClientCommand::Remove { id } => {
            let id = ClientId::parse(&id).ok_or("invalid client id")?;
            let removed = db.write(move |conn| clients::delete(conn, &id)).await.map_err(|e| e.to_string())?;
            println!("{}", if removed { "removed" } else { "no such client" });
        }
    }
    Ok(())
}
