//! Stores and their directories: the data model, and its storage ([`store`], sqlx).
//!
//! Everything is keyed by [`StoreId`]: no function here returns data from more
//! than one store.
//!
//! Owns the data model and its storage ([`store`] is the only user of sqlx).
//! Uses `flow` (settings and prompt types); must not import rsipstack, axum,
//! `sip`, `runtime`, `admin` or `replay`.

pub mod demo;
pub mod events;
pub mod hours;
pub mod import;
pub mod prompts;
pub mod settings;
pub mod store;

use std::fmt;

/// Identifies one store (tenant). Every row of per-store data carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct StoreId(pub i64);

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store-{}", self.0)
    }
}

/// Monotonic version of a store's directory; bumped by every applied change.
/// A call keeps the version it started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DirectoryVersion(pub i64);

/// Identifies one directory entry within its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct EntryId(pub i64);

/// Language of a store's prompts and grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
    Ko,
}

impl Language {
    /// Every language, in a stable order.
    pub const ALL: [Language; 3] = [Language::Fr, Language::En, Language::Ko];

    /// ISO 639-1 code, as stored and as used in prompt folder names (`fr`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
            Language::Ko => "ko",
        }
    }

    /// The language of an ISO 639-1 code, if supported.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// Where a call is transferred.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum TransferTarget {
    /// An extension at the store's PBX (`sip:<ext>@<pbx>`).
    Extension(String),
    /// Any SIP URI, used as is.
    Uri(String),
}

/// A store (tenant): what the dialled number selects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Store {
    pub id: StoreId,
    /// Human name, e.g. "Leclerc Vitrolles".
    pub name: String,
    /// The number callers dial (Request-URI user part) that selects this store.
    pub number: String,
    pub language: Language,
    /// Where `0`, repeated failures and "operator" go.
    pub operator: TransferTarget,
}

/// A person or department callers can ask for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub id: EntryId,
    /// Name as shown and as spoken by default ("Sophie Martin", "rayon bricolage").
    pub display_name: String,
    /// Other spoken forms (nicknames, "la boulangerie").
    pub aliases: Vec<String>,
    pub department: Option<String>,
    /// Extension digits a caller may type directly, if any.
    pub extension: Option<String>,
    pub target: TransferTarget,
    /// Second target, tried when the first is busy or does not answer.
    pub fallback: Option<TransferTarget>,
    pub enabled: bool,
}

/// An entry as given to storage (by an import, the API or the demo seed):
/// everything but the id, which storage assigns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewEntry {
    pub display_name: String,
    pub aliases: Vec<String>,
    pub department: Option<String>,
    pub extension: Option<String>,
    pub target: TransferTarget,
    /// Second target, tried when the first is busy or does not answer.
    pub fallback: Option<TransferTarget>,
    pub enabled: bool,
}

impl NewEntry {
    /// Identity of an entry across versions: its name and department, normalised.
    pub fn key(&self) -> import::EntryKey {
        import::EntryKey::new(&self.display_name, self.department.as_deref())
    }

    /// This entry with the id storage gave it.
    pub fn with_id(&self, id: EntryId) -> Entry {
        Entry {
            id,
            display_name: self.display_name.clone(),
            aliases: self.aliases.clone(),
            department: self.department.clone(),
            extension: self.extension.clone(),
            target: self.target.clone(),
            fallback: self.fallback.clone(),
            enabled: self.enabled,
        }
    }
}

impl From<&Entry> for NewEntry {
    fn from(entry: &Entry) -> NewEntry {
        NewEntry {
            display_name: entry.display_name.clone(),
            aliases: entry.aliases.clone(),
            department: entry.department.clone(),
            extension: entry.extension.clone(),
            target: entry.target.clone(),
            fallback: entry.fallback.clone(),
            enabled: entry.enabled,
        }
    }
}

/// One option of a store's DTMF menu: a key and where it leads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MenuOption {
    /// `'1'..='9'` (0 is the operator, `*` repeats, `#` ends input).
    pub digit: char,
    /// What the option says ("the bakery").
    pub label: String,
    pub target: TransferTarget,
}

/// A store's directory at one version: immutable once loaded; shared by `Arc`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    pub store: Store,
    pub version: DirectoryVersion,
    pub entries: Vec<Entry>,
    pub menu: Vec<MenuOption>,
}
