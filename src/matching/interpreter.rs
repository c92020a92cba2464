//! The flow's view of the matcher: [`crate::flow::SpeechInterpreter`] and
//! [`crate::flow::NameSearch`] over a store's [`NameIndex`], built once per
//! directory version.

use crate::asr::Recognition;
use crate::directory::EntryId;
use crate::flow::{NameSearch, SpeechInterpreter};

use super::{Decision, NameIndex, ConfusableNames, Thresholds, decide_with, decide_yes_no, rank};

/// Interprets recognitions against one directory version's name index.
#[derive(Debug)]
pub struct MatchingInterpreter {
    pub index: NameIndex,
    /// Entries callers and decoders confuse (empty: none known).
    pub alikes: ConfusableNames,
    pub thresholds: Thresholds,
}

impl MatchingInterpreter {
    /// An interpreter for `directory`, its sound-alikes computed.
    pub fn new(
        index: NameIndex,
        directory: &crate::directory::Directory,
        thresholds: Thresholds,
    ) -> MatchingInterpreter {
        let alikes = ConfusableNames::build(&index, directory);
        MatchingInterpreter {
            index,
            alikes,
            thresholds,
        }
    }
}

impl SpeechInterpreter for MatchingInterpreter {
    fn decide_name(&self, recognition: &Recognition) -> Decision {
        decide_with(&self.index, &self.alikes, &[recognition], &[], &self.thresholds)
    }

    fn decide_retry(
        &self,
        earlier: &[Recognition],
        recognition: &Recognition,
        declined: &[EntryId],
    ) -> Decision {
        let attempts: Vec<&Recognition> = earlier.iter().chain([recognition]).collect();
        decide_with(&self.index, &self.alikes, &attempts, declined, &self.thresholds)
    }

    fn choose(&self, recognition: &Recognition, offered: &[EntryId]) -> Option<EntryId> {
        // The offered entry the answer names best ("the one in dairy", "jon
        // smith"), if it names exactly one of them better than the others.
        let ranked: Vec<_> = rank(&self.index, recognition)
            .into_iter()
            .filter(|c| offered.contains(&c.hit.entry))
            .collect();
        match ranked.as_slice() {
            [] => None,
            [only] => Some(only.hit.entry),
            [first, second, ..] => (first.score > second.score).then_some(first.hit.entry),
        }
    }

    fn yes_no(&self, recognition: &Recognition) -> Option<bool> {
        decide_yes_no(recognition, self.index.language())
    }
}

impl NameSearch for NameIndex {
    fn keypad_search(&self, digits: &str) -> Vec<EntryId> {
        NameIndex::keypad_search(self, digits)
    }
}

/// A speech store's index also serves its keypad search (same directory version).
impl NameSearch for MatchingInterpreter {
    fn keypad_search(&self, digits: &str) -> Vec<EntryId> {
        self.index.keypad_search(digits)
    }
}

#[cfg(test)]
mod tests {
    //! The adapter gives the flow the matcher's decisions.
    use super::*;
    use crate::asr::Hypothesis;
    use crate::directory::{Directory, DirectoryVersion, Entry, EntryId, Store, StoreId, demo};

    fn rec(text: &str) -> Recognition {
        Recognition { alternatives: vec![Hypothesis { text: text.into(), confidence: 0.95 }], in_grammar: None }
    }

    #[test]
    fn decides_names_and_yes_no_for_the_demo_store() {
        let d = demo::stores().into_iter().find(|d| d.store.number == "1000").expect("demo store 1000");
        let entries = d.entries.iter().enumerate().map(|(i, e)| Entry {
            id: EntryId(i as i64 + 1),
            display_name: e.display_name.clone(),
            aliases: e.aliases.clone(),
            department: e.department.clone(),
            extension: e.extension.clone(),
            target: e.target.clone(),
            fallback: e.fallback.clone(),
            enabled: e.enabled,
        });
        let store = Store { id: StoreId(1), name: d.store.name, number: d.store.number, language: d.store.language, operator: d.store.operator };
        let dir = Directory { store, version: DirectoryVersion(1), entries: entries.collect(), menu: d.menu };
        let sophie = dir.entries.iter().find(|e| e.display_name == "Sophie Martin").expect("Sophie in demo").id;
        let interp = MatchingInterpreter::new(NameIndex::build(&dir).unwrap(), &dir, Thresholds::default());
        assert_eq!(interp.decide_name(&rec("sophie martin please")), Decision::Transfer(sophie));
        assert_eq!(interp.decide_name(&rec("zebra")), Decision::NoMatch);
        assert_eq!(interp.yes_no(&rec("yes")), Some(true));
        assert_eq!(interp.yes_no(&rec("no")), Some(false));
    }
}
