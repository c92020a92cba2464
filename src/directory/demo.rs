//! The demo stores written by `attendant demo-seed` and `attendant run --demo`.
//!
//! Store "1000" speaks English (the PocketSphinx en-us model recognises it: speech
//! is on in its settings);
//! store "2000" speaks French. Both hold the same people on purpose, so that a
//! leak of one store's rows into the other would show in tests, and both have two
//! "Martin"s in different departments (homonyms) and a disabled entry. Both
//! offer keypad name search on key `9` (`flow::spelling`).

use super::settings::StoreSettings;
use super::NewEntry;
use super::store::NewStore;
use super::{Language, MenuOption, TransferTarget};

/// One demo store with its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStore {
    pub store: NewStore,
    pub entries: Vec<NewEntry>,
    pub menu: Vec<MenuOption>,
}

/// The key of keypad name search in both demo stores (their menus use 1 to 4).
pub const SPELL_KEY: &str = "9";

/// The operator extension of both demo stores.
pub const OPERATOR_EXTENSION: &str = "100";

fn ext(extension: &str) -> TransferTarget {
    TransferTarget::Extension(extension.to_owned())
}

fn entry(
    display_name: &str,
    aliases: &[&str],
    department: &str,
    extension: &str,
    enabled: bool,
) -> NewEntry {
    NewEntry {
        display_name: display_name.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        department: Some(department.to_owned()),
        extension: Some(extension.to_owned()),
        target: ext(extension),
        fallback: None,
        enabled,
    }
}

fn option(digit: char, label: &str, extension: &str) -> MenuOption {
    MenuOption {
        digit,
        label: label.to_owned(),
        target: ext(extension),
    }
}

/// The demo stores, in seeding order.
pub fn stores() -> Vec<DemoStore> {
    vec![
        DemoStore {
            store: NewStore {
                name: "Demo Market (English)".to_owned(),
                number: "1000".to_owned(),
                language: Language::En,
                operator: ext(OPERATOR_EXTENSION),
                // Reachable by speech out of the box (PocketSphinx, English).
                settings: StoreSettings::from_json(
                    serde_json::json!({"speech_enabled": true, "spell_key": SPELL_KEY}),
                )
                .expect("speech_enabled takes a boolean, spell_key a key 1-9"),
            },
            entries: vec![
                entry("Sophie Martin", &[], "Accounting", "201", true),
                entry(
                    "Hervé Prodhomme",
                    &["Herve Prodhomme"],
                    "Management",
                    "202",
                    true,
                ),
                entry("Paul Martin", &[], "Butchery", "203", true),
                entry("Claire Petit", &[], "Accounting", "204", false),
                entry(
                    "Bakery",
                    &["the bakery", "boulangerie", "bread"],
                    "Bakery",
                    "301",
                    true,
                ),
                entry(
                    "Butchery",
                    &["the butcher", "meat counter"],
                    "Butchery",
                    "302",
                    true,
                ),
                entry(
                    "Fish counter",
                    &["fishmonger", "seafood"],
                    "Fish counter",
                    "303",
                    true,
                ),
                entry(
                    "Customer service",
                    &["reception", "help desk"],
                    "Customer service",
                    "310",
                    true,
                ),
            ],
            menu: vec![
                option('1', "the bakery", "301"),
                option('2', "the butchery", "302"),
                option('3', "the fish counter", "303"),
                option('4', "customer service", "310"),
            ],
        },
        DemoStore {
            store: NewStore {
                name: "Magasin démo (français)".to_owned(),
                number: "2000".to_owned(),
                language: Language::Fr,
                operator: ext(OPERATOR_EXTENSION),
                settings: StoreSettings::from_json(serde_json::json!({"spell_key": SPELL_KEY}))
                    .expect("spell_key takes a key 1-9"),
            },
            entries: vec![
                entry("Sophie Martin", &[], "Comptabilité", "201", true),
                entry("Hervé Prodhomme", &[], "Direction", "202", true),
                entry("Luc Martin", &[], "Boucherie", "203", true),
                entry("Élodie Bernard", &[], "Caisses", "204", false),
                entry(
                    "Boulangerie",
                    &["la boulangerie", "le pain"],
                    "Boulangerie",
                    "301",
                    true,
                ),
                entry(
                    "Boucherie",
                    &["la boucherie", "le boucher"],
                    "Boucherie",
                    "302",
                    true,
                ),
                entry(
                    "Poissonnerie",
                    &["la poissonnerie", "le poissonnier"],
                    "Poissonnerie",
                    "303",
                    true,
                ),
                entry(
                    "Accueil",
                    &["l'accueil", "service client"],
                    "Accueil",
                    "310",
                    true,
                ),
            ],
            menu: vec![
                option('1', "la boulangerie", "301"),
                option('2', "la boucherie", "302"),
                option('3', "la poissonnerie", "303"),
                option('4', "l'accueil", "310"),
            ],
        },
    ]
}
