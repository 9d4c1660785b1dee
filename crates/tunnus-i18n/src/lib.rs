//! Translations. The catalogues are Fluent files a translator can edit,
//! `templates/i18n/<lang>/*.ftl`, compiled into the binary. Pages and emails
//! ask a [`Tr`] for text by key; a key missing in a language falls back to
//! English, and English is the language when nothing better is known.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};

static_loader! {
    static LOCALES = {
        locales: "../../templates/i18n",
        fallback_language: "en",
        // Unicode isolation marks around arguments break plain-text emails.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language Tunnus ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
}

impl Lang {
    pub const ALL: [Lang; 1] = [Lang::En];

    /// The BCP 47 tag (`en`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Self::En => langid!("en"),
        }
    }

    /// The shipped language for a tag such as `fi`, `fi-FI` or `EN-gb`.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The first shipped language of a space-separated list (OIDC `ui_locales`).
    pub fn from_ui_locales(list: &str) -> Option<Self> {
        list.split_whitespace().find_map(Self::from_tag)
    }

    /// The best shipped language of an `Accept-Language` header, by q-value.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut candidates: Vec<(f32, Self)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Self::from_tag(pieces.next()?)?;
                let q =
                    pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates.first().map(|c| c.1)
    }
}

/// Text in one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The message `key`; the key itself if no language has it (visible in
    /// tests and on pages, never a crash).
    pub fn t(&self, key: &str) -> String {
        LOCALES.try_lookup(&self.lang.id(), key).unwrap_or_else(|| key.to_owned())
    }

    /// The message `key` with named arguments.
    pub fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> =
            args.iter().map(|(k, v)| (Cow::Owned((*k).to_owned()), FluentValue::from(*v))).collect();
        LOCALES.try_lookup_with_args(&self.lang.id(), key, &args).unwrap_or_else(|| key.to_owned())
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Lang::from_tag("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::from_tag("xx"), None);
        assert_eq!(Lang::from_ui_locales("sv en"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("sv;q=0.9, en;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn lookups_and_arguments() {
        let tr = Tr::new(Lang::En);
        assert_eq!(tr.t("sign-in"), "Sign in");
        assert_eq!(tr.t("no-such-key"), "no-such-key");
        assert!(tr.t_with("password-min-length", &[("min", "8")]).contains('8'));
    }

    fn catalogue_keys(lang: Lang) -> std::collections::BTreeSet<String> {
        let path = format!("{}/../../templates/i18n/{}/main.ftl", env!("CARGO_MANIFEST_DIR"), lang.tag());
        let text = std::fs::read_to_string(&path).unwrap();
        text.lines()
            .filter(|l| !l.starts_with([' ', '#', '-', '.']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next().map(str::to_owned))
            .collect()
    }

    /// Every key of the English catalogue exists in every shipped language, and no other.
    #[test]
    fn every_language_has_every_key() {
        let english = catalogue_keys(Lang::En);
        assert!(english.len() > 50);
        for lang in Lang::ALL {
            let keys = catalogue_keys(lang);
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang:?} lacks {missing:?}, has unknown {extra:?}");
        }
    }
}
