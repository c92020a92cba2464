//! The sync report shown after an import or on demand: names the speech engine
//! cannot recognise, and names within the store that sound alike.
//!
//! Both checks are seams the server fills in: [`VocabularyCheck`] is backed by
//! the ASR engine (e.g. Vosk's `vosk_model_find_word`, a PocketSphinx
//! dictionary), [`SimilarNames`] by the matcher. Neither needs axum.

use std::collections::HashSet;

use crate::directory::{Entry, EntryId, Language};

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

/// Finds pairs of names callers could confuse.
pub trait SimilarNames: Send + Sync {
    /// Index pairs `(i, j)`, `i < j`, of `names` that sound alike.
    fn similar_pairs(&self, names: &[&str]) -> Vec<(usize, usize)>;
}

/// Spelling similarity (normalised Levenshtein on lower-case names) as a
/// stand-in for a phonetic comparison: catches "Martin"/"Martine" and exact
/// homonyms. To be replaced by the matcher's own measure once it has one.
#[derive(Debug, Clone, Copy)]
pub struct SpellingSimilarity {
    /// Similarity in `0.0..=1.0` from which two names are reported.
    pub threshold: f64,
}

impl Default for SpellingSimilarity {
    fn default() -> Self {
        SpellingSimilarity { threshold: 0.8 }
    }
}

impl SimilarNames for SpellingSimilarity {
    fn similar_pairs(&self, names: &[&str]) -> Vec<(usize, usize)> {
        let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        let mut pairs = Vec::new();
        for i in 0..lower.len() {
            for j in i + 1..lower.len() {
                let (a, b) = (&lower[i], &lower[j]);
                // Cheap bound first: names whose lengths differ by more than the
                // threshold allows cannot reach it.
                let (la, lb) = (a.chars().count(), b.chars().count());
                let longest = la.max(lb).max(1) as f64;
                if (la.abs_diff(lb) as f64) / longest > 1.0 - self.threshold {
                    continue;
                }
                if strsim::normalized_levenshtein(a, b) >= self.threshold {
                    pairs.push((i, j));
                }
            }
        }
        pairs
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

/// Entries beyond which the pairwise similarity check is skipped (it is
/// quadratic; a store has a few hundred entries, a group directory more).
pub const MAX_SIMILARITY_ENTRIES: usize = 3000;

/// What an admin should look at after a sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// False when no speech engine is connected: nothing was checked.
    pub vocabulary_checked: bool,
    pub unrecognisable: Vec<UnrecognisableName>,
    /// False when the directory is larger than [`MAX_SIMILARITY_ENTRIES`].
    pub similarity_checked: bool,
    pub similar: Vec<SimilarPair>,
}

/// Checks the enabled entries of a directory (display names and aliases).
pub fn sync_report(
    language: Language,
    entries: &[Entry],
    vocabulary: Option<&dyn VocabularyCheck>,
    similar: &dyn SimilarNames,
) -> SyncReport {
    let enabled: Vec<&Entry> = entries.iter().filter(|e| e.enabled).collect();
    let spoken: Vec<(EntryId, &str)> = enabled
        .iter()
        .flat_map(|e| std::iter::once(e.display_name.as_str()).chain(e.aliases.iter().map(String::as_str)).map(|n| (e.id, n)))
        .collect();
    let unrecognisable = match vocabulary {
        None => Vec::new(),
        Some(vocabulary) => spoken
            .iter()
            .filter_map(|(entry, name)| {
                let unknown_words = vocabulary.unknown_words(language, name);
                (!unknown_words.is_empty()).then(|| UnrecognisableName { entry: *entry, name: (*name).to_owned(), unknown_words })
            })
            .collect(),
    };
    let similarity_checked = enabled.len() <= MAX_SIMILARITY_ENTRIES;
    let mut pairs = Vec::new();
    if similarity_checked {
        let names: Vec<&str> = spoken.iter().map(|(_, n)| *n).collect();
        let mut seen = HashSet::new();
        for (i, j) in similar.similar_pairs(&names) {
            let ((a, an), (b, bn)) = (spoken[i], spoken[j]);
            // A name and its own alias are one entry: not a confusion.
            if a != b && seen.insert((a.min(b), a.max(b))) {
                pairs.push(SimilarPair { first: a, first_name: an.to_owned(), second: b, second_name: bn.to_owned() });
            }
        }
    }
    SyncReport { vocabulary_checked: vocabulary.is_some(), unrecognisable, similarity_checked, similar: pairs }
}

#[cfg(test)]
mod tests {
    //! The sync report flags unknown words per name, similar names across entries
    //! (not within one), skips disabled entries, and says what was not checked.
    use super::*;
    use crate::directory::TransferTarget;

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

    #[test]
    fn report_lists_unknown_words_and_similar_names() {
        let entries = vec![
            entry(1, "Sophie Martin", &["Sophie"], true),
            entry(2, "Sophie Martine", &[], true),
            entry(3, "Xavier Qwzyk", &["la boulangerie"], true),
            entry(4, "Sophie Martins", &[], false),
        ];
        let vocabulary = KnownWords::new(["sophie", "martin", "martine", "xavier", "la", "boulangerie"]);
        let report = sync_report(Language::Fr, &entries, Some(&vocabulary), &SpellingSimilarity::default());
        assert!(report.vocabulary_checked && report.similarity_checked);
        assert_eq!(report.unrecognisable, vec![UnrecognisableName {
            entry: EntryId(3),
            name: "Xavier Qwzyk".into(),
            unknown_words: vec!["qwzyk".into()]
        }]);
        let pairs: Vec<_> = report.similar.iter().map(|p| (p.first.0, p.second.0)).collect();
        assert_eq!(pairs, vec![(1, 2)], "disabled entry 4 and entry 1's own alias are not reported");
    }

    #[test]
    fn without_an_engine_nothing_is_claimed() {
        let entries = vec![entry(1, "Qwzyk", &[], true)];
        let report = sync_report(Language::Fr, &entries, None, &SpellingSimilarity::default());
        assert!(!report.vocabulary_checked);
        assert!(report.unrecognisable.is_empty());
    }

    #[test]
    fn spelling_similarity_thresholds() {
        let s = SpellingSimilarity::default();
        let cases = [
            (["Martin", "Martine"], true),
            (["Paul Martin", "paul martin"], true),
            (["Martin", "Bernard"], false),
            (["Boulangerie", "Boucherie"], false),
        ];
        for (names, expected) in cases {
            assert_eq!(!s.similar_pairs(&names).is_empty(), expected, "{names:?}");
        }
    }
}
