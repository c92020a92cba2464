//! Entries that callers (or the recogniser) are likely to confuse.
//!
//! One definition, two ways to apply it:
//! - [`sound_alike`]: are these two entries sound-alikes, and why (for one
//!   question, e.g. while deciding what to ask a caller);
//! - [`similar_names`]: the sound-alike pairs of a whole directory, bounded by
//!   construction (for the sync report an admin reads after an import).
//!
//! The definition: two enabled entries sound alike when a *name form* of one
//! (display name as written or last word first, last name, alias) and a name
//! form of the other are the same text, share a phonetic key in the language,
//! or are one edit apart (when one of the two has at least four characters).
//! First names alone and departments are not name forms here: two Sophies, or
//! two people of the bakery, are not sound-alikes (callers say a full name, a
//! last name or an alias; the recogniser tells "Sophie Martin" from "Sophie
//! Durand").

use std::collections::HashMap;

use crate::directory::{Directory, Entry, EntryId, Language};

use super::index::{FUZZY_MIN_CHARS, FormKind, MatchError, NameIndex, spoken_forms};
use super::phonetic::phonetic_keys;

/// Most sound-alikes looked for per entry. A directory where every name is
/// alike ("Agent 1" … "Agent 20000") would otherwise have 200 million pairs;
/// with this cap the work and the answer stay linear in the entries, and the
/// report says which entries have more ([`SoundAlikes::capped_entries`]).
pub const SOUND_ALIKES_PER_ENTRY: usize = 10;

/// Most neighbouring forms examined per name form (same phonetic key, one
/// edit away), for the same reason.
const NEAR_FORMS_PER_FORM: usize = 64;

/// How two names meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SoundAlikeKind {
    /// The same name form ("Martin" and "Martin").
    SameName,
    /// Forms with the same phonetic key ("Dupont" and "Dupond").
    SameSound,
    /// Forms one edit apart ("Martin" and "Martine").
    OneEdit,
}

/// Why two entries sound alike: which of their (normalised) name forms meet, and how.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SoundAlikeReason {
    pub kind: SoundAlikeKind,
    /// The form of the first entry.
    pub first_form: String,
    /// The form of the second entry.
    pub second_form: String,
}

impl std::fmt::Display for SoundAlikeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            SoundAlikeKind::SameName => write!(f, "both are called “{}”", self.first_form),
            SoundAlikeKind::SameSound => {
                write!(f, "“{}” sounds like “{}”", self.first_form, self.second_form)
            }
            SoundAlikeKind::OneEdit => {
                write!(f, "“{}” is one letter from “{}”", self.first_form, self.second_form)
            }
        }
    }
}

/// One pair of sound-alikes, `first < second`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SoundAlikePair {
    pub first: EntryId,
    pub second: EntryId,
    pub reason: SoundAlikeReason,
}

/// The sound-alikes of a directory, as far as they were looked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SoundAlikes {
    /// The first pairs by entry ids, at most the `listed` asked for.
    pub pairs: Vec<SoundAlikePair>,
    /// Pairs found, listed or not. Exact when [`Self::capped_entries`] is 0,
    /// a lower bound otherwise.
    pub total_pairs: usize,
    /// Enabled entries having at least one sound-alike (exact unless an
    /// entry was capped for its neighbouring forms).
    pub entries_with_sound_alikes: usize,
    /// Entries having more than [`SOUND_ALIKES_PER_ENTRY`] sound-alikes (or
    /// neighbouring forms): only the first of theirs were looked at.
    pub capped_entries: usize,
}

fn is_name_form(kind: FormKind) -> bool {
    !matches!(kind, FormKind::FirstName | FormKind::Department)
}

/// The name forms of an entry (see the module docs), deduplicated.
fn name_forms(entry: &Entry, language: Language) -> Vec<String> {
    let mut forms: Vec<String> = spoken_forms(entry, language)
        .into_iter()
        .filter(|&(_, kind)| is_name_form(kind))
        .map(|(form, _)| form)
        .collect();
    forms.sort();
    forms.dedup();
    forms
}

/// Whether `a` and `b` differ by exactly one inserted, deleted or replaced character.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    match long.len() - short.len() {
        0 => short.iter().zip(long.iter()).filter(|(x, y)| x != y).count() == 1,
        1 => {
            let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
            short[prefix..] == long[prefix + 1..]
        }
        _ => false,
    }
}

/// How two name forms meet, if they do (the index applies the same rules:
/// the fuzzy lookup only starts from forms of [`FUZZY_MIN_CHARS`] characters,
/// from either side).
pub(crate) fn forms_meet(a: &str, b: &str, language: Language) -> Option<SoundAlikeKind> {
    if a == b {
        return Some(SoundAlikeKind::SameName);
    }
    let keys = phonetic_keys(a, language);
    if phonetic_keys(b, language).iter().any(|k| keys.contains(k)) {
        return Some(SoundAlikeKind::SameSound);
    }
    let long_enough = a.chars().count().max(b.chars().count()) >= FUZZY_MIN_CHARS;
    (long_enough && one_edit_apart(a, b)).then_some(SoundAlikeKind::OneEdit)
}

/// Whether callers could confuse `first` and `second` in `language`, and why
/// (the strongest reason: same name, then same sound, then one edit; among
/// equals, the first forms in alphabetical order). `None` for the same entry,
/// or when either is disabled. The definition is in the module docs;
/// [`similar_names`] finds exactly these pairs (up to its caps).
pub fn sound_alike(first: &Entry, second: &Entry, language: Language) -> Option<SoundAlikeReason> {
    if first.id == second.id || !first.enabled || !second.enabled {
        return None;
    }
    let a_forms = name_forms(first, language);
    let b_forms = name_forms(second, language);
    let mut best: Option<SoundAlikeReason> = None;
    for a in &a_forms {
        for b in &b_forms {
            if let Some(kind) = forms_meet(a, b, language)
                && best.as_ref().is_none_or(|r| kind < r.kind)
            {
                best = Some(SoundAlikeReason { kind, first_form: a.clone(), second_form: b.clone() });
            }
        }
    }
    best
}

/// The sound-alike pairs of the enabled entries of `directory` (see the module
/// docs), the first `listed` of them by entry ids with their reason, all of
/// them counted.
///
/// `language` overrides the store's, to check a directory against another
/// recogniser language.
///
/// Bounded by construction: per entry, at most [`SOUND_ALIKES_PER_ENTRY`]
/// sound-alikes are looked for and at most 64 neighbouring forms per name
/// form examined; memory and time are linear in the entries whatever the
/// names (measured in benches/import.rs: 20,000 identical names).
pub fn similar_names(directory: &Directory, language: Language, listed: usize) -> Result<SoundAlikes, MatchError> {
    similar_names_capped(directory, language, listed, SOUND_ALIKES_PER_ENTRY, NEAR_FORMS_PER_FORM)
}

/// A raw pair: entries, how they meet, and the form slots that meet.
type RawPair = (EntryId, EntryId, SoundAlikeKind, u32, u32);

pub(crate) fn similar_names_capped(
    directory: &Directory,
    language: Language,
    listed: usize,
    per_entry: usize,
    near_per_form: usize,
) -> Result<SoundAlikes, MatchError> {
    let mut directory = directory.clone();
    directory.store.language = language;
    let index = NameIndex::build(&directory)?;
    let slots = u32::try_from(index.slot_count()).map_err(|_| MatchError::TooManyForms { count: index.slot_count() })?;

    // Name slots of each entry (linear in the postings).
    let mut slots_of: HashMap<EntryId, Vec<u32>> = HashMap::new();
    for slot in 0..slots {
        for &(entry, kind) in index.slot_postings(slot) {
            if is_name_form(kind) {
                slots_of.entry(entry).or_default().push(slot);
            }
        }
    }
    // Entries of a slot by name forms: postings are sorted by kind, and the
    // name kinds come before first names and departments.
    let name_postings = |slot: u32| {
        index.slot_postings(slot).iter().take_while(|&&(_, kind)| is_name_form(kind)).map(|&(entry, _)| entry)
    };

    let mut raw: Vec<RawPair> = Vec::new();
    let mut with_alikes = 0usize;
    let mut capped = 0usize;
    let mut found: Vec<(EntryId, SoundAlikeKind, u32, u32)> = Vec::new();
    let mut near = Vec::new();
    let mut entries: Vec<(&EntryId, &Vec<u32>)> = slots_of.iter().collect();
    entries.sort_unstable_by_key(|(id, _)| **id);
    for (&a, a_slots) in entries {
        found.clear();
        let mut full = false;
        let add = |found: &mut Vec<(EntryId, SoundAlikeKind, u32, u32)>, b: EntryId, kind, s, t| {
            if b == a {
                return true;
            }
            if let Some(known) = found.iter_mut().find(|f| f.0 == b) {
                if kind < known.1 {
                    *known = (b, kind, s, t);
                }
                return true;
            }
            if found.len() == per_entry {
                return false;
            }
            found.push((b, kind, s, t));
            true
        };
        // Strongest reasons first: namesakes of every name form, then neighbours.
        'same: for &s in a_slots {
            for b in name_postings(s) {
                if !add(&mut found, b, SoundAlikeKind::SameName, s, s) {
                    full = true;
                    break 'same;
                }
            }
        }
        'near: for &s in a_slots {
            if full {
                break;
            }
            near.clear();
            if index.near_slots(s, near_per_form, &mut near) {
                full = true;
            }
            for &(t, phonetic) in &near {
                let kind = if phonetic { SoundAlikeKind::SameSound } else { SoundAlikeKind::OneEdit };
                for b in name_postings(t) {
                    if !add(&mut found, b, kind, s, t) {
                        full = true;
                        break 'near;
                    }
                }
            }
        }
        if !found.is_empty() {
            with_alikes += 1;
        }
        if full {
            capped += 1;
        }
        raw.extend(found.iter().map(|&(b, kind, s, t)| if a < b { (a, b, kind, s, t) } else { (b, a, kind, t, s) }));
    }
    // Each pair found from both sides once: keep the strongest reason.
    raw.sort_unstable_by_key(|&(a, b, kind, s, t)| (a, b, kind, s, t));
    raw.dedup_by_key(|p| (p.0, p.1));
    let form = |slot: u32| index.slot_form(slot).to_owned();
    let pairs = raw
        .iter()
        .take(listed)
        .map(|&(first, second, kind, s, t)| SoundAlikePair {
            first,
            second,
            reason: SoundAlikeReason { kind, first_form: form(s), second_form: form(t) },
        })
        .collect();
    Ok(SoundAlikes { pairs, total_pairs: raw.len(), entries_with_sound_alikes: with_alikes, capped_entries: capped })
}

/// The reference: [`sound_alike`] on every two enabled entries. Quadratic;
/// kept as the oracle the indexed version must agree with.
#[cfg(test)]
pub(crate) fn similar_names_reference(directory: &Directory, language: Language) -> Vec<(EntryId, EntryId, SoundAlikeKind)> {
    let enabled: Vec<&Entry> = directory.entries.iter().filter(|e| e.enabled).collect();
    let mut pairs = Vec::new();
    for (i, a) in enabled.iter().enumerate() {
        for b in &enabled[i + 1..] {
            if let Some(reason) = sound_alike(a, b, language) {
                let (x, y) = if a.id < b.id { (a.id, b.id) } else { (b.id, a.id) };
                pairs.push((x, y, reason.kind));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}
