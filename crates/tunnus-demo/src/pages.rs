//! HTML of the demo services: the home page (signed in or out), error pages, and the
//! [`escape_html`] every interpolated value goes through.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::config::DemoService;
use crate::store::Session;

/// Escapes `&`, `<`, `>`, `"` and `'` so `text` is safe in element content and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The accent colour of a service: fixed for the three demo services, derived from the slug otherwise.
pub fn accent_colour(slug: &str) -> String {
    match slug {
        "campus" => "#1d4ed8".to_owned(),
        "warehouse" => "#b45309".to_owned(),
        "model-sharing" => "#047857".to_owned(),
        other => {
            let hue = other.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
            format!("hsl({hue} 65% 35%)")
        }
    }
}

/// A readable sentence for an OAuth / OpenID Connect error code (ours or the provider's).
pub fn error_message(code: &str) -> &'static str {
    match code {
        "access_denied" => "Sign-in was cancelled or access was denied by the identity provider.",
        "login_required" => "You need to sign in at the identity provider first.",
        "consent_required" => "Your consent is needed before this service may use your account.",
        "interaction_required" | "account_selection_required" => "The identity provider needs you to interact with it.",
        "invalid_request" | "invalid_scope" | "unsupported_response_type" | "unauthorized_client" => {
            "The sign-in request was rejected by the identity provider (a configuration problem)."
        }
        "server_error" => "The identity provider had an internal error. Please try again.",
        "temporarily_unavailable" => "The identity provider is temporarily unavailable. Please try again shortly.",
        "invalid_state" => "The sign-in attempt expired or did not start here. Please sign in again.",
        "sign_in_failed" => "Sign-in could not be completed.",
        "provider_unavailable" => "The identity provider cannot be reached right now. Please try again shortly.",
        _ => "Something went wrong during sign-in.",
    }
}

/// An error to show on the home page (from the `error` / `error_description` query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// The error code.
    pub code: String,
    /// Optional human-readable detail.
    pub description: Option<String>,
}

/// The entitlements of a session: the `entitlements` claim of the ID token, else of userinfo.
pub fn entitlements(session: &Session) -> Vec<String> {
    let from = |claims: &Map<String, Value>| match claims.get("entitlements") {
        Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    };
    from(&session.claims).or_else(|| session.userinfo.as_ref().ok().and_then(from)).unwrap_or_default()
}

fn claim_str<'a>(session: &'a Session, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        session
            .claims
            .get(*name)
            .or_else(|| session.userinfo.as_ref().ok().and_then(|u| u.get(*name)))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn claims_table(caption: &str, claims: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = claims.keys().collect();
    keys.sort();
    let mut rows = String::new();
    for key in keys {
        let value = claims.get(key).map(value_text).unwrap_or_default();
        let _ = write!(rows, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", escape_html(key), escape_html(&value));
    }
    format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">Claim</th><th scope=\"col\">Value</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        escape_html(caption)
    )
}

fn premium_section(service: &DemoService, session: &Session) -> String {
    let Some(needed) = service.premium_entitlement.as_deref() else {
        return String::new();
    };
    let (class, text) = if entitlements(session).iter().any(|e| e == needed) {
        ("premium unlocked", "Premium content unlocked".to_owned())
    } else {
        (
            "premium locked",
            format!(
                "Premium content requires the <strong>{}</strong> license — ask your organization's administrator",
                escape_html(needed)
            ),
        )
    };
    format!("<section class=\"{class}\" id=\"premium\"><h2>Premium</h2><p>{text}</p></section>")
}

fn other_links(service: &DemoService) -> String {
    if service.others.is_empty() {
        return String::new();
    }
    let mut items = String::new();
    for (name, url) in &service.others {
        let _ =
            write!(items, "<li><a href=\"{}/\">{}</a></li>", escape_html(url.trim_end_matches('/')), escape_html(name));
    }
    format!("<nav aria-label=\"Other services\"><h2>Other services</h2><ul>{items}</ul></nav>")
}

fn error_block(error: &PageError) -> String {
    let detail = error.description.as_deref().map(|d| format!("<p>{}</p>", escape_html(d))).unwrap_or_default();
    format!(
        "<div class=\"error\" role=\"alert\"><p><strong>{}</strong></p>{detail}<p class=\"code\">Error code: <code>{}</code></p></div>",
        escape_html(error_message(&error.code)),
        escape_html(&error.code)
    )
}

fn layout(service: &DemoService, body: &str) -> String {
    let accent = accent_colour(&service.slug);
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}</title>
<style>
:root {{ --accent: {accent}; }}
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1f2937; background: #f9fafb; }}
header {{ background: var(--accent); color: #fff; padding: 1.25rem 2rem; }}
header h1 {{ margin: 0; font-size: 1.75rem; }}
header p {{ margin: .25rem 0 0; opacity: .9; }}
main {{ max-width: 60rem; margin: 0 auto; padding: 1.5rem 2rem; }}
a {{ color: var(--accent); }}
.button, button {{ display: inline-block; background: var(--accent); color: #fff; border: 0; border-radius: .375rem;
  padding: .6rem 1.2rem; font-size: 1rem; text-decoration: none; cursor: pointer; }}
.error {{ border-left: .3rem solid #b91c1c; background: #fef2f2; padding: .5rem 1rem; margin-bottom: 1rem; }}
.notice {{ border-left: .3rem solid var(--accent); background: #fff; padding: .5rem 1rem; margin-bottom: 1rem; }}
.premium {{ border: 1px solid #d1d5db; border-radius: .5rem; padding: .5rem 1rem; margin: 1rem 0; background: #fff; }}
.premium.unlocked {{ border-color: var(--accent); }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; background: #fff; }}
caption {{ text-align: left; font-weight: 600; padding: .25rem 0; }}
th, td {{ border: 1px solid #e5e7eb; padding: .35rem .6rem; text-align: left; vertical-align: top; }}
td {{ font-family: ui-monospace, monospace; word-break: break-all; }}
nav ul {{ padding-left: 1.2rem; }}
</style>
</head>
<body>
<header><h1>{name}</h1><p>{description}</p></header>
<main>
{body}
</main>
</body>
</html>
"#,
        name = escape_html(&service.name),
        description = escape_html(&service.description),
    )
}

/// The home page: signed in (who, claims, userinfo, premium, sign out) or signed out (sign in).
pub fn home_page(
    service: &DemoService,
    session: Option<&Session>,
    error: Option<&PageError>,
    signed_out_notice: bool,
) -> String {
    let mut body = String::new();
    if let Some(error) = error {
        body.push_str(&error_block(error));
    }
    match session {
        Some(session) => {
            let name = claim_str(session, &["name", "preferred_username", "given_name"]).unwrap_or(&session.sub);
            let email = claim_str(session, &["email"]).unwrap_or("no email shared");
            let _ = write!(
                body,
                "<p class=\"who\">Signed in as <strong>{}</strong> ({})</p>\
                 <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
                escape_html(name),
                escape_html(email)
            );
            body.push_str(&premium_section(service, session));
            body.push_str(&claims_table("ID token claims", &session.claims));
            match &session.userinfo {
                Ok(info) => body.push_str(&claims_table("Userinfo response", info)),
                Err(why) => {
                    let _ = write!(body, "<p class=\"error\">Userinfo unavailable: {}</p>", escape_html(why));
                }
            }
        }
        None => {
            if signed_out_notice && error.is_none() {
                body.push_str("<p class=\"notice\">You have signed out.</p>");
            }
            let _ = write!(
                body,
                "<p>You are not signed in.</p><p><a class=\"button\" href=\"/login\">Sign in</a></p>{}",
                match service.premium_entitlement.as_deref() {
                    Some(needed) =>
                        format!("<p>Premium content needs the <strong>{}</strong> license.</p>", escape_html(needed)),
                    None => String::new(),
                }
            );
        }
    }
    body.push_str(&other_links(service));
    layout(service, &body)
}

/// A page that only explains a failure, with a way back.
pub fn error_page(service: &DemoService, error: &PageError) -> String {
    let body = format!(
        "{}<p><a class=\"button\" href=\"/\">Back to {}</a></p>",
        error_block(error),
        escape_html(&service.name)
    );
    layout(service, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_services;
    use serde_json::json;

    fn session(claims: Value, userinfo: Value) -> Session {
        let (Value::Object(claims), Value::Object(userinfo)) = (claims, userinfo) else { unreachable!() };
        Session::new(claims, Ok(userinfo), "h.p.s".into(), "u1".into(), Some("sid-1".into()))
    }

    #[test]
    fn escapes_the_five_special_characters() {
        assert_eq!(escape_html(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape_html("Åsa Öberg"), "Åsa Öberg");
        assert_eq!(escape_html(""), "");
    }

    #[test]
    fn signed_out_page_has_sign_in_and_links_and_readable_error() {
        let services = default_services("a", "b", "c");
        let err = PageError { code: "access_denied".into(), description: Some("<script>x</script>".into()) };
        let html = home_page(&services[0], None, Some(&err), false);
        assert!(html.contains("<title>Campus</title>"));
        assert!(html.contains("href=\"/login\""));
        assert!(html.contains("href=\"http://localhost:8082/\""));
        assert!(html.contains("Model Sharing"));
        assert!(html.contains("access was denied"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("#1d4ed8"));
    }

    #[test]
    fn signed_in_page_shows_claims_and_premium_state() {
        let services = default_services("a", "b", "c");
        let warehouse = &services[1];
        let locked = session(
            json!({"sub": "u1", "name": "Ada <Lovelace>", "email": "ada@example.com", "sid": "sid-1"}),
            json!({"sub": "u1", "organization": {"name": "Acme"}}),
        );
        let html = home_page(warehouse, Some(&locked), None, false);
        assert!(html.contains("Signed in as <strong>Ada &lt;Lovelace&gt;</strong> (ada@example.com)"));
        assert!(html.contains(
            "Premium content requires the <strong>warehouse:premium</strong> license — ask your organization's administrator"
        ));
        assert!(html.contains("action=\"/logout\""));
        assert!(html.contains("<th scope=\"row\">sid</th><td>sid-1</td>"));
        assert!(html.contains("{&quot;name&quot;:&quot;Acme&quot;}"));

        let unlocked = session(
            json!({"sub": "u1", "email": "ada@example.com", "entitlements": ["warehouse:premium"]}),
            json!({"sub": "u1"}),
        );
        let html = home_page(warehouse, Some(&unlocked), None, false);
        assert!(html.contains("Premium content unlocked"));
        assert!(html.contains("Signed in as <strong>u1</strong>"));

        // From userinfo when the ID token lacks the claim.
        let via_userinfo = session(json!({"sub": "u1"}), json!({"sub": "u1", "entitlements": ["warehouse:premium"]}));
        assert_eq!(entitlements(&via_userinfo), vec!["warehouse:premium".to_owned()]);
    }

    #[test]
    fn accents_differ() {
        assert_ne!(accent_colour("campus"), accent_colour("warehouse"));
        assert_ne!(accent_colour("warehouse"), accent_colour("model-sharing"));
        assert!(accent_colour("other").starts_with("hsl("));
    }
}
