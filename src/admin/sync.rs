//! The sync report shown after an import or on demand: names the speech engine
//! cannot recognise, and names within the store that sound alike.
//!
//! Both checks are seams the server fills in: [`VocabularyCheck`] is backed by
//! the ASR engines ([`EngineVocabulary`]: Vosk's `vosk_model_find_word`, the
//! PocketSphinx dictionary plus its pronunciation guesser), [`SimilarNames`] by
//! the matcher. Neither needs axum.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::asr::Engine;
use crate::directory::{Directory, Entry, EntryId, Language};
use crate::matching::{MatchError, SoundAlikeReason, SoundAlikes};

/// Tells which words of a name the speech engine of a language cannot recognise.
pub trait VocabularyCheck: Send + Sync {
    /// Whether names in `language` are checked at all (false: no engine serves
    /// that language, and the report says the vocabulary was not checked).
    fn checks(&self, _language: Language) -> bool {
        true
    }

    /// The words of `phrase` that are not in the engine's vocabulary for `language`.
    fn unknown_words(&self, language: Language, phrase: &str) -> Vec<String>;
}

/// Finds the loaded speech engine of a language, if one serves it. Loading may
/// block (a Vosk model takes seconds): the sync report runs on the blocking pool.
pub type EngineLookup = dyn Fn(Language) -> Option<Arc<dyn Engine>> + Send + Sync;

/// The vocabulary of the real speech engines, one per store language: a word
/// is unknown when the language's engine says it cannot recognise it
/// ([`Engine::can_recognize`]). For Vosk, a word outside the model's
/// vocabulary; for PocketSphinx, a word neither in its dictionary nor
/// pronounceable by its guesser (digits, symbols): guessed names are
/// recognisable and not reported. Names are split into words as the grammar
/// compiler splits them ([`crate::asr::grammar::normalize`]), so the report
/// lists exactly the words the grammar would leave out.
pub struct EngineVocabulary {
    engine_of: Arc<EngineLookup>,
}

impl std::fmt::Debug for EngineVocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineVocabulary").finish_non_exhaustive()
    }
}

impl EngineVocabulary {
    /// Checks names against the engine `engine_of` gives for their store's
    /// language (the running server passes
    /// [`SpeechRegistry::engine_for`](crate::speech::registry::SpeechRegistry::engine_for),
    /// so that the report and the calls share one loaded model).
    pub fn new(engine_of: impl Fn(Language) -> Option<Arc<dyn Engine>> + Send + Sync + 'static) -> EngineVocabulary {
        EngineVocabulary { engine_of: Arc::new(engine_of) }
    }
}

impl VocabularyCheck for EngineVocabulary {
    fn checks(&self, language: Language) -> bool {
        (self.engine_of)(language).is_some()
    }

    fn unknown_words(&self, language: Language, phrase: &str) -> Vec<String> {
        let Some(engine) = (self.engine_of)(language) else {
            return Vec::new();
        };
        let normalized = crate::asr::grammar::normalize(phrase);
        let mut unknown: Vec<String> = Vec::new();
        for word in normalized.split(' ').filter(|w| !w.is_empty()) {
            if !engine.can_recognize(word) && !unknown.iter().any(|u| u == word) {
                unknown.push(word.to_owned());
            }
        }
        unknown
    }
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
    /// The sound-alikes among the enabled entries of `directory`, the first
    /// `listed` pairs with their reason, bounded work whatever the names.
    fn similar_pairs(&self, directory: &Directory, listed: usize) -> Result<SoundAlikes, MatchError>;
}

/// The matcher's own measure ([`crate::matching::similar_names`]): same
/// name, same sound, one edit apart, over the names callers say (not first
/// names alone, not departments), in the store's language.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatcherSimilarity;

impl SimilarNames for MatcherSimilarity {
    fn similar_pairs(&self, directory: &Directory, listed: usize) -> Result<SoundAlikes, MatchError> {
        crate::matching::similar_names(directory, directory.store.language, listed)
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

/// Two entries whose names sound alike, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SimilarPair {
    pub first: EntryId,
    pub first_name: String,
    pub second: EntryId,
    pub second_name: String,
    /// How the two names meet (`kind`: `same_name`, `same_sound`, `one_edit`; the forms).
    pub reason: SoundAlikeReason,
    /// The reason in words ("“martin” is one letter from “martine”").
    pub why: String,
}

/// Most similar pairs a report lists; [`SyncReport::similar_total`] counts
/// the pairs found. The work itself is bounded per entry
/// ([`crate::matching::SOUND_ALIKES_PER_ENTRY`]): a directory of 20,000
/// identical names is reported in linear time and memory.
pub const MAX_LISTED_PAIRS: usize = 1000;

/// What an admin should look at after a sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// False when no speech engine serves the store's language: nothing was checked.
    pub vocabulary_checked: bool,
    pub unrecognisable: Vec<UnrecognisableName>,
    /// False when the check failed.
    pub similarity_checked: bool,
    /// The first [`MAX_LISTED_PAIRS`] pairs, by entry id.
    pub similar: Vec<SimilarPair>,
    /// Every pair found, listed or not (a lower bound when `similar_capped` > 0).
    pub similar_total: usize,
    /// Enabled entries that have at least one sound-alike.
    pub similar_entries: usize,
    /// Entries with more sound-alikes than are looked for per entry: only
    /// the first of theirs are counted.
    pub similar_capped: usize,
}

/// Checks the enabled entries of a directory (display names and aliases
/// against the vocabulary; every spoken form for similarity).
pub fn sync_report(
    directory: &Directory,
    vocabulary: Option<&dyn VocabularyCheck>,
    similar: &dyn SimilarNames,
) -> SyncReport {
    let enabled: Vec<&Entry> = directory.entries.iter().filter(|e| e.enabled).collect();
    let vocabulary = vocabulary.filter(|v| v.checks(directory.store.language));
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
    let names: HashMap<EntryId, &str> = enabled.iter().map(|e| (e.id, e.display_name.as_str())).collect();
    let name_of = |id: EntryId| names.get(&id).map(|n| (*n).to_owned()).unwrap_or_default();
    let (similarity_checked, similar, found) = match similar.similar_pairs(directory, MAX_LISTED_PAIRS) {
        Ok(found) => (
            true,
            found
                .pairs
                .iter()
                .take(MAX_LISTED_PAIRS)
                .map(|p| SimilarPair {
                    first: p.first,
                    first_name: name_of(p.first),
                    second: p.second,
                    second_name: name_of(p.second),
                    why: p.reason.to_string(),
                    reason: p.reason.clone(),
                })
                .collect(),
            found,
        ),
        Err(error) => {
            tracing::warn!(store = %directory.store.id, %error, "similar-names check failed");
            (false, Vec::new(), SoundAlikes::default())
        }
    };
    SyncReport {
        vocabulary_checked: vocabulary.is_some(),
        unrecognisable,
        similarity_checked,
        similar,
        similar_total: found.total_pairs,
        similar_entries: found.entries_with_sound_alikes,
        similar_capped: found.capped_entries,
    }
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
        assert_eq!(report.similar_total, 1);
        assert_eq!(report.unrecognisable, vec![UnrecognisableName {
            entry: EntryId(3),
            name: "Xavier Qwzyk".into(),
            unknown_words: vec!["qwzyk".into()]
        }]);
        let pairs: Vec<_> = report.similar.iter().map(|p| (p.first_name.as_str(), p.second_name.as_str())).collect();
        assert_eq!(pairs, vec![("Sophie Martin", "Paul Martine")], "disabled entry 4 is not reported");
    }

    #[test]
    fn large_directories_are_checked_too() {
        // Above the 2,000 entries where the check used to be skipped.
        let mut entries: Vec<Entry> = vec![entry(1, "Sophie Martin", &[], true), entry(2, "Paul Martine", &[], true)];
        entries.extend((0..3000).map(|i| entry(i + 3, &format!("Poste{i:05}"), &[], true)));
        let report = sync_report(&directory(entries), None, &MatcherSimilarity);
        assert!(report.similarity_checked);
        assert_eq!(report.similar[0].first, EntryId(1));
        assert_eq!(report.similar[0].second, EntryId(2));
    }

    #[test]
    fn the_listed_pairs_are_bounded_and_all_counted() {
        // 300 namesakes: each has 299 sound-alikes, more than are looked for;
        // more pairs are found than a report lists.
        let entries = (0..300).map(|i| entry(i + 1, &format!("Prénom{i} Martin"), &[], true)).collect();
        let report = sync_report(&directory(entries), None, &MatcherSimilarity);
        assert_eq!(report.similar.len(), MAX_LISTED_PAIRS);
        assert!(report.similar_total > MAX_LISTED_PAIRS);
        assert!(report.similar_total <= 300 * crate::matching::SOUND_ALIKES_PER_ENTRY);
        assert_eq!((report.similar_entries, report.similar_capped), (300, 300));
        assert_eq!(report.similar[0].why, "both are called “martin”");
    }

    #[test]
    fn without_an_engine_nothing_is_claimed() {
        let report = sync_report(&directory(vec![entry(1, "Qwzyk", &[], true)]), None, &MatcherSimilarity);
        assert!(!report.vocabulary_checked);
        assert!(report.unrecognisable.is_empty());
        assert!(report.similar.is_empty());
    }
}
