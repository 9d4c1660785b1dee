//! `tunnus serve --demo`: the provider plus Campus, Warehouse and Model
//! Sharing, registered on first use, so single sign-on can be seen in a minute.

use std::collections::HashMap;

use tunnus_core::client::{ClientKind, GrantType, SigningAlg};
use tunnus_core::{Clock as _, SecretToken, SystemClock};
use tunnus_server::Config;
use tunnus_server::services::clients::{ClientSpec, ensure};
use tunnus_store::Db;

/// Registers (or refreshes) the demo clients; secrets live in
/// `data_dir/demo-secrets.json` so restarts keep working.
pub async fn register_clients(config: &Config, db: &Db, key: &[u8]) -> Result<Vec<tunnus_demo::DemoService>, String> {
    let path = config.data_dir.join("demo-secrets.json");
    let mut secrets: HashMap<String, String> =
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    for slug in ["campus", "warehouse", "model-sharing"] {
        secrets.entry(slug.to_owned()).or_insert_with(|| SecretToken::generate(&mut rand::rng()).expose().to_owned());
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
    std::fs::write(&path, serde_json::to_string_pretty(&secrets).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let services = tunnus_demo::default_services(&secrets["campus"], &secrets["warehouse"], &secrets["model-sharing"]);
    for (service, alg) in services.iter().zip([SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA]) {
        // An operator's `--require-entitlement` on a demo client survives restarts.
        let id = tunnus_core::client::ClientId::parse(&service.client_id).ok_or("demo client id")?;
        let required = db
            .read(move |c| tunnus_store::clients::find(c, &id))
            .await
            .map_err(|e| e.to_string())?
            .and_then(|c| c.required_entitlement);
        let spec = ClientSpec {
            id: service.client_id.clone(),
            name: service.name.clone(),
            kind: ClientKind::Confidential,
            auth_method: None,
            jwks: None,
            redirect_uris: vec![service.redirect_uri()],
            post_logout_redirect_uris: vec![service.post_logout_uri()],
            backchannel_logout_uri: Some(service.backchannel_uri()),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: vec![
                "profile".into(),
                "email".into(),
                "offline_access".into(),
                "organization".into(),
                "entitlements".into(),
            ],
            strict_scopes: false,
            first_party: true,
            id_token_alg: alg,
            required_entitlement: required,
            // Campus (open courses) welcomes anyone signing in with an upstream
            // account; Warehouse and Model Sharing hold licensed company data and
            // ask people who have only an upstream sign-in to set a password first.
            accepts_federated_only: service.client_id == "campus",
        };
        ensure(db, key, &spec, Some(service.client_secret.clone()), SystemClock.now())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(services)
}
