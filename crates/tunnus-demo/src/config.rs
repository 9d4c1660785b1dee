//! Configuration of the demo relying parties: [`DemoService`], [`DemoConfig`], the default
//! Campus / Warehouse / Model Sharing set, and the URIs each one must be registered with.

use std::net::{Ipv4Addr, SocketAddr};

/// One demo relying party (one web site, one OAuth client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoService {
    /// URL-safe identifier: `"campus"`, `"warehouse"` or `"model-sharing"`; also names its cookies.
    pub slug: String,
    /// Display name, e.g. `"Campus"`.
    pub name: String,
    /// One line shown on its page.
    pub description: String,
    /// Address the HTTP server binds to, e.g. `127.0.0.1:8081`.
    pub listen: SocketAddr,
    /// Public base URL without a trailing slash, e.g. `"http://localhost:8081"`.
    pub public_url: String,
    /// OAuth client id registered at the provider.
    pub client_id: String,
    /// OAuth client secret (client_secret_basic).
    pub client_secret: String,
    /// Entitlement that unlocks the "premium" part of the page (e.g. "warehouse:premium"); None for no premium part.
    pub premium_entitlement: Option<String>,
    /// `(name, public_url)` of the other demo services, for links.
    pub others: Vec<(String, String)>,
}

impl DemoService {
    /// `{public_url}/callback`, see [`redirect_uri`].
    pub fn redirect_uri(&self) -> String {
        redirect_uri(&self.public_url)
    }

    /// `{public_url}/backchannel-logout`, see [`backchannel_uri`].
    pub fn backchannel_uri(&self) -> String {
        backchannel_uri(&self.public_url)
    }

    /// `{public_url}/`, see [`post_logout_uri`].
    pub fn post_logout_uri(&self) -> String {
        post_logout_uri(&self.public_url)
    }
}

/// Everything [`crate::start`] needs: the provider's issuer and the services to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Issuer identifier of the Tunnus provider, e.g. `"http://localhost:8080"`.
    pub issuer: String,
    /// The relying parties to start.
    pub services: Vec<DemoService>,
}

/// The redirect (callback) URI of a demo service: `{public_url}/callback`.
pub fn redirect_uri(public_url: &str) -> String {
    format!("{}/callback", public_url.trim_end_matches('/'))
}

/// The back-channel logout URI of a demo service: `{public_url}/backchannel-logout`.
pub fn backchannel_uri(public_url: &str) -> String {
    format!("{}/backchannel-logout", public_url.trim_end_matches('/'))
}

/// The post-logout redirect URI of a demo service: `{public_url}/`.
pub fn post_logout_uri(public_url: &str) -> String {
    format!("{}/", public_url.trim_end_matches('/'))
}

/// Campus (8081), Warehouse (8082) and Model Sharing (8083) on 127.0.0.1, public at
/// `http://localhost:808x`, client ids equal to their slugs, each linking to the other two.
pub fn default_services(campus_secret: &str, warehouse_secret: &str, model_sharing_secret: &str) -> Vec<DemoService> {
    let specs = [
        ("campus", "Campus", "E-learning: courses, lessons and your progress.", 8081, campus_secret, "campus"),
        (
            "warehouse",
            "Warehouse",
            "Downloadable content: models, datasets and add-ons.",
            8082,
            warehouse_secret,
            "warehouse:premium",
        ),
        (
            "model-sharing",
            "Model Sharing",
            "Collaboration: share models and review them with your team.",
            8083,
            model_sharing_secret,
            "model-sharing",
        ),
    ];
    let public_url = |port: u16| format!("http://localhost:{port}");
    specs
        .iter()
        .map(|&(slug, name, description, port, secret, premium)| DemoService {
            slug: slug.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            public_url: public_url(port),
            client_id: slug.to_owned(),
            client_secret: secret.to_owned(),
            premium_entitlement: Some(premium.to_owned()),
            others: specs
                .iter()
                .filter(|other| other.0 != slug)
                .map(|other| (other.1.to_owned(), public_url(other.3)))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_services_are_consistent() {
        let services = default_services("a", "b", "c");
        assert_eq!(services.len(), 3);
        let campus = &services[0];
        assert_eq!(campus.client_id, "campus");
        assert_eq!(campus.client_secret, "a");
        assert_eq!(campus.listen.port(), 8081);
        assert_eq!(campus.redirect_uri(), "http://localhost:8081/callback");
        assert_eq!(campus.backchannel_uri(), "http://localhost:8081/backchannel-logout");
        assert_eq!(campus.post_logout_uri(), "http://localhost:8081/");
        assert_eq!(
            campus.others,
            vec![
                ("Warehouse".to_owned(), "http://localhost:8082".to_owned()),
                ("Model Sharing".to_owned(), "http://localhost:8083".to_owned())
            ]
        );
        assert_eq!(services[1].premium_entitlement.as_deref(), Some("warehouse:premium"));
        assert_eq!(services[2].slug, "model-sharing");
        assert_eq!(services[2].client_secret, "c");
    }

    #[test]
    fn uris_ignore_trailing_slash() {
        assert_eq!(redirect_uri("http://x/"), "http://x/callback");
        assert_eq!(post_logout_uri("http://x"), "http://x/");
        assert_eq!(backchannel_uri("http://x"), "http://x/backchannel-logout");
    }
}
