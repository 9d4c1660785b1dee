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
    Fi,
    De,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fi, Lang::De];

    /// The BCP 47 tag (`en`, `fi`, `de`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fi => "fi",
            Self::De => "de",
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Self::En => langid!("en"),
            Self::Fi => langid!("fi"),
            Self::De => langid!("de"),
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

        assert_eq!(Lang::from_tag("fi-FI"), Some(Lang::Fi));
        assert_eq!(Lang::from_tag("fi"), Some(Lang::Fi));
        assert_eq!(Lang::from_tag("de_AT"), Some(Lang::De));
        assert_eq!(Lang::from_tag("DE"), Some(Lang::De));
        assert_eq!(Lang::from_ui_locales("sv fi"), Some(Lang::Fi));
        assert_eq!(Lang::from_ui_locales("de-CH fi en"), Some(Lang::De));
        assert_eq!(Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.5"), Some(Lang::De));
        assert_eq!(Lang::from_accept_language("sv-FI, fi;q=0.8, en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("en;q=0.3, fi-FI;q=0.7, de;q=0.5"), Some(Lang::Fi));
        assert_eq!(Lang::from_accept_language("fi;q=0, de;q=0.1"), Some(Lang::De));
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
    }

    #[test]
    fn lookups_and_arguments() {
        let tr = Tr::new(Lang::En);
        assert_eq!(tr.t("sign-in"), "Sign in");
        assert_eq!(tr.t("no-such-key"), "no-such-key");
        assert!(tr.t_with("password-min-length", &[("min", "8")]).contains('8'));
    }

    /// Each language has its own text, arguments are filled in everywhere,
    /// and no placeholder or Fluent error marker leaks into the output.
    #[test]
    fn every_language_renders_its_own_text() {
        let args = [("name", "A"), ("email", "a@x.fi")];
        let rendered: Vec<String> = Lang::ALL.iter().map(|&l| Tr::new(l).t_with("signed-in-intro", &args)).collect();
        for (lang, text) in Lang::ALL.iter().zip(&rendered) {
            assert!(text.contains("A (a@x.fi)"), "{lang:?}: {text}");
            assert!(!text.contains('$') && !text.contains('{') && !text.contains('\u{2068}'), "{lang:?}: {text}");
        }
        for (i, a) in rendered.iter().enumerate() {
            for b in &rendered[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(Tr::new(Lang::Fi).t("sign-in"), "Kirjaudu sisään");
        assert_eq!(Tr::new(Lang::De).t("sign-in"), "Anmelden");
        assert_eq!(Tr::new(Lang::Fi).t("lang-name"), "Suomi");
        assert_eq!(Tr::new(Lang::De).t("lang-name"), "Deutsch");
        assert_eq!(Tr::new(Lang::De).lang_tag(), "de");
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            assert!(tr.t_with("password-min-length", &[("min", "8")]).contains('8'), "{lang:?}");
            let html = tr.t_with("accept-terms", &[("url", "/legal/terms")]);
            assert!(html.contains(r#"<a href="/legal/terms">"#) && html.ends_with("</a>"), "{lang:?}: {html}");
        }
    }

    /// The placeholders of every message are the same in every language, so
    /// no argument the code passes is silently dropped in a translation.
    #[test]
    fn every_language_has_the_same_placeholders() {
        fn placeholders(lang: Lang) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
            let path = format!("{}/../../templates/i18n/{}/main.ftl", env!("CARGO_MANIFEST_DIR"), lang.tag());
            let text = std::fs::read_to_string(&path).unwrap();
            text.lines()
                .filter(|l| !l.starts_with([' ', '#', '-', '.']) && l.contains(" ="))
                .filter_map(|l| l.split_once(" ="))
                .map(|(key, value)| {
                    let vars = value
                        .split("{ $")
                        .skip(1)
                        .filter_map(|rest| rest.split_once(" }").map(|(var, _)| var.to_owned()))
                        .collect();
                    (key.to_owned(), vars)
                })
                .collect()
        }
        let english = placeholders(Lang::En);
        for lang in Lang::ALL {
            for (key, vars) in placeholders(lang) {
                if let Some(en_vars) = english.get(&key) {
                    assert_eq!(&vars, en_vars, "{lang:?} {key}");
                }
            }
        }
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
            // A syntax error would drop the message silently and show English instead.
            let path = format!("{}/../../templates/i18n/{}/main.ftl", env!("CARGO_MANIFEST_DIR"), lang.tag());
            let parsed =
                fluent_templates::fluent_bundle::FluentResource::try_new(std::fs::read_to_string(&path).unwrap());
            assert!(parsed.is_ok(), "{lang:?}: {:?}", parsed.err().map(|(_, errors)| errors));
            let keys = catalogue_keys(lang);
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang:?} lacks {missing:?}, has unknown {extra:?}");
        }
    }
}
