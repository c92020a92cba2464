//! Entries that callers (or the recogniser) are likely to confuse.

use std::collections::HashSet;

use crate::directory::{Directory, EntryId, Language};

use super::index::{MatchError, NameIndex};

/// Pairs `(a, b)`, `a < b`, of enabled entries of `directory` that share a
/// spoken form (namesakes), whose forms share a phonetic key in `language`,
/// or whose forms are within one edit of each other ("Martin"/"Martine"),
/// sorted. Compared forms: display names, last names, first names, aliases,
/// departments (the forms [`NameIndex`] holds). For the out-of-directory
/// report: store staff can add a distinguishing alias or accept the
/// disambiguation menu.
///
/// `language` overrides the store's, to check a directory against another
/// recogniser language.
///
/// Cost: one phonetic lookup and one Levenshtein-automaton walk of the form
/// index per distinct form (near-linear in the directory), then one step per
/// pair found. The pairs themselves can be quadratic: entries sharing a
/// first name are namesakes of each other (measured in benches/matching.rs).
pub fn similar_names(
    directory: &Directory,
    language: Language,
) -> Result<Vec<(EntryId, EntryId)>, MatchError> {
    let mut directory = directory.clone();
    directory.store.language = language;
    let index = NameIndex::build(&directory)?;

    // Pairs of distinct form slots that are near each other, each once,
    // whichever side found the other (fuzzy lookup skips short forms, so
    // "abcd" finds "abc" but not the reverse).
    let mut slot_pairs: HashSet<(u32, u32)> = HashSet::new();
    let mut near = Vec::new();
    let slots = u32::try_from(index.slot_count())
        .map_err(|_| MatchError::TooManyForms { count: index.slot_count() })?;
    for slot in 0..slots {
        near.clear();
        index.near_slots(slot, &mut near);
        slot_pairs.extend(near.iter().map(|&other| (slot.min(other), slot.max(other))));
    }

    let mut pairs: Vec<(EntryId, EntryId)> = Vec::new();
    let mut push = |a: EntryId, b: EntryId| {
        if a != b {
            pairs.push((a.min(b), a.max(b)));
        }
    };
    // Namesakes: entries sharing one form.
    for slot in 0..slots {
        let postings = index.slot_postings(slot);
        for (i, &(a, _)) in postings.iter().enumerate() {
            for &(b, _) in &postings[i + 1..] {
                push(a, b);
            }
        }
    }
    for (s, t) in slot_pairs {
        for &(a, _) in index.slot_postings(s) {
            for &(b, _) in index.slot_postings(t) {
                push(a, b);
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

/// The first implementation: every form's exact, phonetic and fuzzy hits,
/// crossed with the form's entries into an ordered set. Quadratic in the
/// entries sharing forms (each hit copies its form text); kept as the
/// reference the fast version must agree with.
#[cfg(test)]
pub(crate) fn similar_names_reference(
    directory: &Directory,
    language: Language,
) -> Result<Vec<(EntryId, EntryId)>, MatchError> {
    use super::index::MatchMethod;
    use std::collections::BTreeSet;

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
