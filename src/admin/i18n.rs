//! The console's and the API's words in French and English, from one Fluent
//! catalogue per language (`locales/<lang>.ftl`, embedded in the binary).
//!
//! The server formats API error messages with [`Catalogue::format`] in the
//! language the request asks for (`Accept-Language`, see [`negotiate`]); the
//! console fetches its labels once as JSON ([`Catalogue::console_messages`],
//! served at `/api/v1/i18n/{lang}`) and fills `{ $name }` placeholders itself,
//! so no label is written in the script. Console messages are therefore
//! restricted to text and variable placeholders; a test checks it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;

/// A language the console and the API speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UiLanguage {
    En,
    Fr,
}

impl UiLanguage {
    /// Every language, English first (the fallback).
    pub const ALL: [UiLanguage; 2] = [UiLanguage::En, UiLanguage::Fr];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            UiLanguage::En => "en",
            UiLanguage::Fr => "fr",
        }
    }

    /// The language of a code or a BCP 47 tag (`fr`, `fr-FR`, `EN-gb`).
    pub fn from_tag(tag: &str) -> Option<UiLanguage> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        UiLanguage::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    fn source(self) -> &'static str {
        match self {
            UiLanguage::En => include_str!("locales/en.ftl"),
            UiLanguage::Fr => include_str!("locales/fr.ftl"),
        }
    }
}

/// The first language of an `Accept-Language` header that we speak, by
/// weight (`fr;q=0.9, en;q=0.8`); English when none.
pub fn negotiate(accept_language: Option<&str>) -> UiLanguage {
    let Some(header) = accept_language else {
        return UiLanguage::En;
    };
    let mut best: Option<(f32, UiLanguage)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("");
        let weight = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(language) = UiLanguage::from_tag(tag)
            && weight > 0.0
            && best.is_none_or(|(w, _)| weight > w)
        {
            best = Some((weight, language));
        }
    }
    best.map_or(UiLanguage::En, |(_, language)| language)
}

/// One language's messages.
struct Bundle {
    bundle: FluentBundle<FluentResource>,
    /// Console form of every message: text with `{ $name }` placeholders.
    plain: BTreeMap<String, String>,
}

/// Why a catalogue cannot be used (a defect of the embedded files, caught by tests).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{language} catalogue does not parse: {errors}")]
    Syntax {
        language: &'static str,
        errors: String,
    },
    #[error("{language} catalogue defines {id} twice")]
    Duplicate { language: &'static str, id: String },
    #[error(
        "{language} message {id} uses more than text and variables, which the console cannot fill"
    )]
    NotPlain { language: &'static str, id: String },
}

/// Both languages' bundles.
pub struct Catalogue {
    en: Bundle,
    fr: Bundle,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("messages", &self.en.plain.len())
            .finish_non_exhaustive()
    }
}

fn plain_messages(language: UiLanguage) -> Result<BTreeMap<String, String>, CatalogueError> {
    let code = language.code();
    let resource = fluent_syntax::parser::parse(language.source()).map_err(|(_, errors)| {
        CatalogueError::Syntax {
            language: code,
            errors: format!("{errors:?}"),
        }
    })?;
    let mut plain = BTreeMap::new();
    for entry in resource.body {
        let ast::Entry::Message(message) = entry else {
            continue;
        };
        let Some(pattern) = message.value else {
            continue;
        };
        let mut text = String::new();
        for element in pattern.elements {
            match element {
                ast::PatternElement::TextElement { value } => text.push_str(value),
                ast::PatternElement::Placeable {
                    expression:
                        ast::Expression::Inline(ast::InlineExpression::VariableReference { id }),
                } => {
                    text.push_str("{ $");
                    text.push_str(id.name);
                    text.push_str(" }");
                }
                ast::PatternElement::Placeable { .. } => {
                    return Err(CatalogueError::NotPlain {
                        language: code,
                        id: message.id.name.to_owned(),
                    });
                }
            }
        }
        if plain.insert(message.id.name.to_owned(), text).is_some() {
            return Err(CatalogueError::Duplicate {
                language: code,
                id: message.id.name.to_owned(),
            });
        }
    }
    Ok(plain)
}

fn bundle(language: UiLanguage) -> Result<Bundle, CatalogueError> {
    let code = language.code();
    let resource =
        FluentResource::try_new(language.source().to_owned()).map_err(|(_, errors)| {
            CatalogueError::Syntax {
                language: code,
                errors: format!("{errors:?}"),
            }
        })?;
    let tag = code.parse().map_err(|e| CatalogueError::Syntax {
        language: code,
        errors: format!("{e:?}"),
    })?;
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // No Unicode isolation marks around placeables: messages end up in JSON
    // bodies and DOM text, where the marks are noise.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|errors| match errors.into_iter().next() {
            Some(fluent_bundle::FluentError::Overriding { id, .. }) => {
                CatalogueError::Duplicate { language: code, id }
            }
            other => CatalogueError::Syntax {
                language: code,
                errors: format!("{other:?}"),
            },
        })?;
    Ok(Bundle {
        bundle,
        plain: plain_messages(language)?,
    })
}

impl Catalogue {
    /// Both catalogues, parsed and checked.
    pub fn load() -> Result<Catalogue, CatalogueError> {
        Ok(Catalogue {
            en: bundle(UiLanguage::En)?,
            fr: bundle(UiLanguage::Fr)?,
        })
    }

    /// The process's catalogue. The files are embedded and checked by the
    /// tests, so a failure here is a build defect.
    pub fn get() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE
            .get_or_init(|| Catalogue::load().expect("embedded catalogues are valid (i18n tests)"))
    }

    fn of(&self, language: UiLanguage) -> &Bundle {
        match language {
            UiLanguage::En => &self.en,
            UiLanguage::Fr => &self.fr,
        }
    }

    /// Whether `id` exists in `language`.
    pub fn has(&self, language: UiLanguage, id: &str) -> bool {
        self.of(language).plain.contains_key(id)
    }

    /// Message `id` in `language` with `args`, falling back to English, then
    /// to the id itself.
    pub fn format(&self, language: UiLanguage, id: &str, args: &[(&str, String)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        for bundle in [self.of(language), &self.en] {
            if let Some(pattern) = bundle.bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .bundle
                    .format_pattern(pattern, Some(&fluent_args), &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }

    /// Every message of `language` as the console uses it: text with
    /// `{ $name }` placeholders; English for any message the language lacks.
    pub fn console_messages(&self, language: UiLanguage) -> BTreeMap<String, String> {
        let mut messages = self.en.plain.clone();
        messages.extend(self.of(language).plain.clone());
        messages
    }
}

#[cfg(test)]
mod tests {
    //! The catalogues parse, are plain enough for the console, and name the
    //! same messages; negotiation follows weights.
    use super::*;

    #[test]
    fn catalogues_load_and_match() {
        let catalogue = Catalogue::load().expect("catalogues");
        let en: Vec<&String> = catalogue.en.plain.keys().collect();
        let fr: Vec<&String> = catalogue.fr.plain.keys().collect();
        assert_eq!(en, fr, "both languages name the same messages");
        assert!(en.len() > 150, "{}", en.len());
        assert_eq!(
            catalogue.format(
                UiLanguage::Fr,
                "entry-saved",
                &[("name", "Sophie".into()), ("version", "3".into())]
            ),
            "Sophie enregistré (version 3)."
        );
        assert_eq!(
            catalogue.console_messages(UiLanguage::Fr)["entry-saved"],
            "{ $name } enregistré (version { $version })."
        );
        assert_eq!(
            catalogue.format(UiLanguage::En, "no-such-message", &[]),
            "no-such-message"
        );
    }

    #[test]
    fn english_error_messages_are_the_display_text() {
        use crate::admin::error::ApiError;
        use crate::directory::store::admin::AuthFailure;
        let catalogue = Catalogue::load().unwrap();
        let errors = [
            ApiError::MissingToken,
            ApiError::Unauthenticated {
                failure: AuthFailure::Malformed,
            },
            ApiError::Unauthenticated {
                failure: AuthFailure::Invalid,
            },
            ApiError::Unauthenticated {
                failure: AuthFailure::Expired,
            },
            ApiError::RateLimited {
                retry_after_secs: 6,
            },
            ApiError::Forbidden {
                what: "list stores",
            },
            ApiError::NotFound {
                what: "store 7".into(),
            },
            ApiError::NotFound {
                what: "entry 3".into(),
            },
            ApiError::NotFound {
                what: "token abc".into(),
            },
            ApiError::NotFound {
                what: "route".into(),
            },
            ApiError::NotFound {
                what: "language de".into(),
            },
            ApiError::Invalid {
                message: "`label` must be 1 to 120 characters".into(),
            },
            ApiError::Conflict {
                message: "store 1 already has an entry `x`".into(),
            },
            ApiError::UnsupportedMediaType {
                found: "text/plain".into(),
                expected: "text/csv or application/json",
            },
        ];
        // Structured ones: the English catalogue says what the code's Display said.
        use crate::directory::StoreId;
        use crate::directory::hours::HoursError;
        use crate::directory::store::admin::AdminError;
        let structured = [
            (
                ApiError::from(AdminError::DuplicateEntry {
                    store: StoreId(3),
                    key: "Sophie Martin (Caisses)".into(),
                }),
                "store-3 already has an entry `Sophie Martin (Caisses)`",
            ),
            (
                ApiError::from(AdminError::DuplicateExtension {
                    store: StoreId(3),
                    extension: "201".into(),
                }),
                "store-3 already has an entry with extension 201",
            ),
            (
                ApiError::from(AdminError::DuplicateNumber {
                    number: "0100".into(),
                }),
                "a store already answers number \"0100\"",
            ),
            (
                ApiError::hours(&HoursError::UnknownTimeZone {
                    name: "Mars/Base".into(),
                }),
                "unknown time zone \"Mars/Base\"",
            ),
            (
                ApiError::hours(&HoursError::EmptyClosedMessage),
                "the closed message is empty",
            ),
            (
                ApiError::field(
                    "invalid-target",
                    vec![("field", "target".into()), ("value", "x".into())],
                ),
                "`target` value `x` is neither an extension (digits) nor a sip:/sips: URI",
            ),
        ];
        for (error, english) in &structured {
            assert_eq!(error.to_string(), *english);
            let (id, args) = error.text();
            assert_eq!(catalogue.format(UiLanguage::En, id, &args), *english);
            assert_ne!(
                catalogue.format(UiLanguage::Fr, id, &args),
                *english,
                "{id} has a French text"
            );
        }
        for error in errors {
            let (id, args) = error.text();
            assert_eq!(
                catalogue.format(UiLanguage::En, id, &args),
                error.to_string(),
                "{id}"
            );
            let french = catalogue.format(UiLanguage::Fr, id, &args);
            assert_ne!(french, error.to_string(), "{id} has a French text");
        }
    }

    #[test]
    fn negotiation() {
        for (header, expected) in [
            (None, UiLanguage::En),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), UiLanguage::Fr),
            (Some("de-DE, en;q=0.5, fr;q=0.7"), UiLanguage::Fr),
            (Some("ko"), UiLanguage::En),
            (Some("fr;q=0, en"), UiLanguage::En),
            (Some("EN-gb"), UiLanguage::En),
        ] {
            assert_eq!(negotiate(header), expected, "{header:?}");
        }
    }
}
