//! Entries that callers (or the recogniser) are likely to confuse.

use std::collections::BTreeSet;

use crate::directory::{Directory, EntryId, Language};

use super::index::{MatchError, MatchMethod, NameIndex};

/// Pairs `(a, b)`, `a < b`, of enabled entries of `directory` that share a
/// spoken form (namesakes), whose forms share a phonetic key in `language`,
/// or whose forms are within one edit of each other ("Martin"/"Martine"),
/// sorted. Compared forms: display names, last names, aliases, departments
/// (the forms [`NameIndex`] holds). For the out-of-directory report: store
/// staff can add a distinguishing alias or accept the disambiguation menu.
///
/// `language` overrides the store's, to check a directory against another
/// recogniser language.
pub fn similar_names(
    directory: &Directory,
    language: Language,
) -> Result<Vec<(EntryId, EntryId)>, MatchError> {
    let mut directory = directory.clone();
    directory.store.language = language;
    let index = NameIndex::build(&directory)?;
    let mut pairs = BTreeSet::new();
    for (form, postings) in index.forms() {
        let mut near = index.exact(form);
        near.extend(index.phonetic(form));
        // One edit only: `fuzzy` allows two on long forms, too loose for a report.
        near.extend(
            index
                .fuzzy(form)
                .into_iter()
                .filter(|h| h.method == MatchMethod::Fuzzy { distance: 1 }),
        );
        for &(a, _) in postings {
            for hit in &near {
                if hit.entry != a {
                    pairs.insert((a.min(hit.entry), a.max(hit.entry)));
                }
            }
        }
    }
    Ok(pairs.into_iter().collect())
}
