//! The sync report shown after an import or on demand: names the speech engine
//! cannot recognise, and names within the store that sound alike.
//!
//! Both checks are seams the server fills in: [`VocabularyCheck`] is backed by
//! the ASR engine (e.g. Vosk's `vosk_model_find_word`, a PocketSphinx
//! dictionary), [`SimilarNames`] by the matcher. Neither needs axum.

use std::collections::HashSet;

use crate::directory::{Directory, Entry, EntryId, Language};
use crate::matching::MatchError;

/// Tells which words of a name the speech engine of a language cannot recognise.
pub trait VocabularyCheck: Send + Sync {
    /// The words of `phrase` that are not in the engine's vocabulary for `language`.
    fn unknown_words(&self, language: Language, phrase: &str) -> Vec<String>;
}

/// A vocabulary given as a word list (lower case), e.g. the words of a
/// pronunciation dictionary.
#[derive(Debug, Clone, Default)]
pub struct KnownWords {
    words: HashSet<String>,
}

impl KnownWords {
    /// A vocabulary of exactly these words (compared in lower case).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(words: I) -> KnownWords {
        KnownWords { words: words.into_iter().map(|w| w.as_ref().to_lowercase()).collect() }
    }
}

impl VocabularyCheck for KnownWords {
    fn unknown_words(&self, _language: Language, phrase: &str) -> Vec<String> {
        words(phrase).filter(|w| !self.words.contains(w)).collect()
    }
}

/// The words of a spoken form: lower case, split on anything but letters,
/// digits and apostrophes.
fn words(phrase: &str) -> impl Iterator<Item = String> + '_ {
    phrase.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Finds pairs of entries callers could confuse.
pub trait SimilarNames: Send + Sync {
    /// Pairs `(a, b)`, `a < b`, of enabled entries of `directory` that sound alike.
    fn similar_pairs(&self, directory: &Directory) -> Result<Vec<(EntryId, EntryId)>, MatchError>;
}

/// The matcher's own measure ([`crate::matching::similar_names`]): namesakes,
/// shared phonetic keys, one edit apart ("Martin"/"Martine"), over the forms
/// callers can say, in the store's language.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatcherSimilarity;

impl SimilarNames for MatcherSimilarity {
    fn similar_pairs(&self, directory: &Directory) -> Result<Vec<(EntryId, EntryId)>, MatchError> {
        crate::matching::similar_names(directory, directory.store.language)
    }
}

/// A name the engine cannot recognise, and the words at fault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnrecognisableName {
    pub entry: EntryId,
    /// The display name or alias concerned.
    pub name: String,
    pub unknown_words: Vec<String>,
}

/// Two entries whose names sound alike.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SimilarPair {
    pub first: EntryId,
    pub first_name: String,
    pub second: EntryId,
    pub second_name: String,
}

/// Enabled entries beyond which the similar-names check is skipped: its cost
/// grows faster than linearly (measured in benches/import.rs: about 2.5 minutes
/// for 10,000 entries on a loaded 2-core machine), and a store has a few
/// hundred entries; a group-wide directory is reported as not checked.
pub const MAX_SIMILARITY_ENTRIES: usize = 2000;

/// What an admin should look at after a sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// False when no speech engine is connected: nothing was checked.
    pub vocabulary_checked: bool,
    pub unrecognisable: Vec<UnrecognisableName>,
    /// False when the directory is larger than [`MAX_SIMILARITY_ENTRIES`] or
    /// the check failed.
    pub similarity_checked: bool,
    pub similar: Vec<SimilarPair>,
}

/// Checks the enabled entries of a directory (display names and aliases
/// against the vocabulary; every spoken form for similarity).
pub fn sync_report(
    directory: &Directory,
    vocabulary: Option<&dyn VocabularyCheck>,
    similar: &dyn SimilarNames,
) -> SyncReport {
    let enabled: Vec<&Entry> = directory.entries.iter().filter(|e| e.enabled).collect();
    let unrecognisable = match vocabulary {
        None => Vec::new(),
        Some(vocabulary) => enabled
            .iter()
            .flat_map(|e| std::iter::once(e.display_name.as_str()).chain(e.aliases.iter().map(String::as_str)).map(|n| (e.id, n)))
            .filter_map(|(entry, name)| {
                let unknown_words = vocabulary.unknown_words(directory.store.language, name);
                (!unknown_words.is_empty()).then(|| UnrecognisableName { entry, name: name.to_owned(), unknown_words })
            })
            .collect(),
    };
    let name_of = |id: EntryId| {
        directory.entries.iter().find(|e| e.id == id).map(|e| e.display_name.clone()).unwrap_or_default()
    };
    let outcome = if enabled.len() > MAX_SIMILARITY_ENTRIES {
        tracing::info!(store = %directory.store.id, entries = enabled.len(), "too many entries for the similar-names check");
        None
    } else {
        Some(similar.similar_pairs(directory))
    };
    let (similarity_checked, similar) = match outcome {
        None => (false, Vec::new()),
        Some(Ok(pairs)) => (
            true,
            pairs
                .into_iter()
                .map(|(a, b)| SimilarPair { first: a, first_name: name_of(a), second: b, second_name: name_of(b) })
                .collect(),
        ),
        Some(Err(error)) => {
            tracing::warn!(store = %directory.store.id, %error, "similar-names check failed");
            (false, Vec::new())
        }
    };
    SyncReport { vocabulary_checked: vocabulary.is_some(), unrecognisable, similarity_checked, similar }
}

#[cfg(test)]
mod tests {
    //! The sync report flags unknown words per name, similar names across
    //! entries (through the matcher), skips disabled entries, and says what was
    //! not checked.
    use super::*;
    use crate::directory::{DirectoryVersion, Store, StoreId, TransferTarget};

    fn entry(id: i64, name: &str, aliases: &[&str], enabled: bool) -> Entry {
        Entry {
            id: EntryId(id),
            display_name: name.into(),
            aliases: aliases.iter().map(|a| (*a).into()).collect(),
            department: None,
            extension: None,
            target: TransferTarget::Extension("1".into()),
            fallback: None,
            enabled,
        }
    }

    fn directory(entries: Vec<Entry>) -> Directory {
        let store = Store {
            id: StoreId(1),
            name: "S".into(),
            number: "1".into(),
            language: Language::Fr,
            operator: TransferTarget::Extension("100".into()),
        };
        Directory { store, version: DirectoryVersion(1), entries, menu: vec![] }
    }

    #[test]
    fn report_lists_unknown_words_and_similar_names() {
        let dir = directory(vec![
            entry(1, "Sophie Martin", &["Sophie"], true),
            entry(2, "Paul Martine", &[], true),
            entry(3, "Xavier Qwzyk", &["la boulangerie"], true),
            entry(4, "Claire Martins", &[], false),
        ]);
        let vocabulary = KnownWords::new(["sophie", "martin", "paul", "martine", "xavier", "la", "boulangerie"]);
        let report = sync_report(&dir, Some(&vocabulary), &MatcherSimilarity);
        assert!(report.vocabulary_checked && report.similarity_checked);
        assert_eq!(report.unrecognisable, vec![UnrecognisableName {
            entry: EntryId(3),
            name: "Xavier Qwzyk".into(),
            unknown_words: vec!["qwzyk".into()]
        }]);
        let pairs: Vec<_> = report.similar.iter().map(|p| (p.first_name.as_str(), p.second_name.as_str())).collect();
        assert_eq!(pairs, vec![("Sophie Martin", "Paul Martine")], "disabled entry 4 is not reported");
    }

    #[test]
    fn large_directories_skip_the_similarity_check_and_say_so() {
        let entries =
            (0..=MAX_SIMILARITY_ENTRIES as i64).map(|i| entry(i + 1, &format!("Nom{i} Martin"), &[], true)).collect();
        let report = sync_report(&directory(entries), None, &MatcherSimilarity);
        assert!(!report.similarity_checked);
        assert!(report.similar.is_empty());
    }

    #[test]
    fn without_an_engine_nothing_is_claimed() {
        let report = sync_report(&directory(vec![entry(1, "Qwzyk", &[], true)]), None, &MatcherSimilarity);
        assert!(!report.vocabulary_checked);
        assert!(report.unrecognisable.is_empty());
        assert!(report.similar.is_empty());
    }
}
