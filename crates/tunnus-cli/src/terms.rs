//! `tunnus terms …`: publishing new versions of the terms of service and
//! the privacy policy. Everyone is asked to accept a new version at their
//! next sign-in (or silent single sign-on) after it takes effect.

use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tunnus_core::Clock as _;
use tunnus_core::SystemClock;
use tunnus_core::terms::{TermsDocument, TermsKind};
use tunnus_server::Config;

#[derive(Clone, Copy, ValueEnum)]
pub enum Document {
    Terms,
    Privacy,
}

impl From<Document> for TermsKind {
    fn from(d: Document) -> Self {
        match d {
            Document::Terms => TermsKind::Terms,
            Document::Privacy => TermsKind::Privacy,
        }
    }
}

#[derive(Subcommand)]
pub enum TermsCommand {
    /// Publish a new version of a document.
    Publish {
        #[arg(value_enum)]
        document: Document,
        /// Must be greater than every published version.
        #[arg(long)]
        version: i32,
        /// Where the text is: an https URL, or a path on this Tunnus (e.g. /legal/terms).
        #[arg(long)]
        url: String,
        /// When it takes effect (RFC 3339); now if not given.
        #[arg(long)]
        effective: Option<String>,
    },
    /// Show the version of each document in effect now.
    Show,
}

pub async fn run(config: &Config, command: TermsCommand) -> Result<(), String> {
    let db = tunnus_server::state::open_database(config).map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    match command {
        TermsCommand::Publish { document, version, url, effective } => {
            let url_ok = url.starts_with("https://") || (url.starts_with('/') && !url.starts_with("//"));
            if !url_ok || url.len() > 2000 || url.chars().any(char::is_whitespace) {
                return Err(format!("--url must be an https URL or a path on this site, not {url:?}"));
            }
            let at = match effective {
                None => now,
                Some(t) => {
                    OffsetDateTime::parse(&t, &Rfc3339).map_err(|_| format!("--effective: not RFC 3339: {t}"))?
                }
            };
            let doc = TermsDocument { kind: document.into(), version, url };
            let kind = doc.kind;
            let published = db
                .write(move |c| {
                    let newest = tunnus_store::terms::newest_version(c, kind)?;
                    if newest.is_some_and(|n| version <= n) {
                        return Ok(Err(newest.unwrap_or_default()));
                    }
                    tunnus_store::terms::publish(c, &doc, at)?;
                    Ok(Ok(()))
                })
                .await
                .map_err(|e| e.to_string())?;
            match published {
                Ok(()) => {
                    println!(
                        "Published {} version {version}, in effect from {}.",
                        kind.as_str(),
                        at.format(&Rfc3339).unwrap_or_default()
                    );
                    Ok(())
                }
                Err(newest) => Err(format!("version {version} is not newer than the published version {newest}")),
            }
        }
        TermsCommand::Show => {
            for kind in [TermsKind::Terms, TermsKind::Privacy] {
                let doc =
                    db.read(move |c| tunnus_store::terms::current(c, kind, now)).await.map_err(|e| e.to_string())?;
                match doc {
                    Some(d) => println!("{}\tversion {}\t{}", kind.as_str(), d.version, d.url),
                    None => println!("{}\tnone published", kind.as_str()),
                }
            }
            Ok(())
        }
    }
}
