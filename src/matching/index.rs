//! [`NameIndex`]: the spoken forms of one directory in `fst` maps, looked up
//! exactly, phonetically, fuzzily, or by keypad digits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use fst::automaton::Str;
use fst::{Automaton, IntoStreamer, Map, Streamer};
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};

use crate::directory::{Directory, Entry, EntryId, Language};

use super::normalize::{keypad_encode, normalize};
use super::phonetic::phonetic_keys;
use super::phrases::strip_carrier;

/// Which spoken form of an entry a lookup matched; better forms first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FormKind {
    /// The display name as written ("sophie martin").
    FullName,
    /// The last word first ("martin sophie"), as callers and lists say it.
    ReversedName,
    /// The last word alone ("martin"); shared by namesakes.
    LastName,
    /// One of the entry's aliases.
    Alias,
    /// The entry's department.
    Department,
    /// The first word alone ("sophie"): staff often go by first name, but
    /// first names are shared even more than last names.
    FirstName,
}

impl FormKind {
    /// How much a match on this form says about the entry (`0..=1`).
    /// The display name is what callers are told to say; a last name alone
    /// is slightly weaker (it is shared more often); aliases and departments
    /// are weaker still, as they are free text typed by store staff; a first
    /// name alone is the weakest (shared the most), and stays under the
    /// default accept threshold at the usual engine confidences.
    pub fn weight(self) -> f32 {
        match self {
            FormKind::FullName => 1.0,
            FormKind::ReversedName => 0.97,
            FormKind::LastName => 0.95,
            FormKind::Alias => 0.92,
            FormKind::Department => 0.90,
            FormKind::FirstName => 0.88,
        }
    }
}

/// How a query met a form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchMethod {
    /// Same normalised text.
    Exact,
    /// Same phonetic key (see [`super::phonetic`]).
    Phonetic,
    /// Within `distance` edits of the form.
    Fuzzy {
        /// Levenshtein distance in characters.
        distance: u32,
    },
}

/// Weight of a phonetic match: below every exact form (so an alias heard
/// exactly beats a name that merely sounds alike) and above fuzzy matches.
pub const PHONETIC_WEIGHT: f32 = 0.85;
/// Weight of a fuzzy match at distance 0, before the length penalty. Kept
/// under the default accept threshold (0.80) so that a fuzzy match alone is
/// always confirmed with the caller, never transferred blind.
pub const FUZZY_WEIGHT: f32 = 0.78;

/// One entry found by a lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entry: EntryId,
    /// The indexed form that matched (normalised).
    pub form: String,
    pub kind: FormKind,
    pub method: MatchMethod,
    /// Match quality in `0..=1`: [`FormKind::weight`] times the method's weight.
    pub quality: f32,
}

/// Errors building a [`NameIndex`].
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The `fst` builder refused the keys (cannot happen with the sorted,
    /// deduplicated in-memory keys we give it, but `fst` reports it).
    #[error("building the {table:?} table of the name index failed")]
    Build {
        table: IndexTable,
        #[source]
        source: fst::Error,
    },
    /// More spoken forms than the index's `u32` slot numbers can hold.
    #[error("directory has too many spoken forms ({count}) for the index")]
    TooManyForms { count: usize },
    /// [`super::Thresholds`] out of order or out of `0..=1`.
    #[error(
        "invalid thresholds: need 0 <= confirm ({confirm}) <= accept ({accept}) <= 1, 0 <= margin ({margin}) < 1 and 0 <= reject ({reject}) <= trust ({trust}) <= 1"
    )]
    InvalidThresholds {
        accept: f32,
        confirm: f32,
        margin: f32,
        reject: f32,
        trust: f32,
    },
}

/// The tables of a [`NameIndex`], named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexTable {
    Forms,
    Phonetic,
    Keypad,
}

/// Spoken forms of one directory's enabled entries, ready for lookups.
///
/// Built once per directory version (a few ms for 10,000 entries) and then
/// shared read-only by every call of that version. Homonyms are kept: a form
/// maps to every entry that has it.
#[derive(Debug)]
pub struct NameIndex {
    language: Language,
    /// Normalised form → slot in `forms_text` / `form_postings`.
    forms: Map<Vec<u8>>,
    forms_text: Vec<String>,
    /// Length in characters of the longest form.
    longest_form: usize,
    /// Per form slot: the entries having that form, best kind first.
    form_postings: Vec<Vec<(EntryId, FormKind)>>,
    /// Phonetic key → slot in `phonetic_postings`.
    phonetic: Map<Vec<u8>>,
    /// Per phonetic slot: the form slots that have that key.
    phonetic_postings: Vec<Vec<u32>>,
    /// Keypad digits of one name word → slot in `keypad_postings`.
    keypad: Map<Vec<u8>>,
    keypad_postings: Vec<Vec<EntryId>>,
    /// Normalised display name of every indexed entry, to order results.
    names: HashMap<EntryId, String>,
}

/// Shortest query, in characters, that fuzzy lookup tries: shorter ones are
/// within one edit of too many names to say anything.
pub(crate) const FUZZY_MIN_CHARS: usize = 4;

/// Edit distance allowed for a query of `chars` characters: about one edit
/// per six characters, at most two (three edits turn most names into others).
fn fuzzy_distance(chars: usize) -> u8 {
    match chars {
        0..FUZZY_MIN_CHARS => 0,
        FUZZY_MIN_CHARS..=7 => 1,
        _ => 2,
    }
}

/// Levenshtein automaton factories for distances 1 and 2 (plain Levenshtein:
/// a transposition counts as two edits). Building a factory takes a few
/// milliseconds, once per process; each query's automaton then takes
/// microseconds, where `fst`'s own `Levenshtein` took milliseconds per query
/// (measured: 2–46 ms per `decide` on 10,000 entries, see benches/matching.rs).
static LEVENSHTEIN: LazyLock<[LevenshteinAutomatonBuilder; 2]> = LazyLock::new(|| {
    [
        LevenshteinAutomatonBuilder::new(1, false),
        LevenshteinAutomatonBuilder::new(2, false),
    ]
});

/// The spoken forms of one entry, each with its kind, as [`NameIndex`] holds
/// them: the display name as written, last word first, last word alone, first
/// word alone; its aliases; its department; each also without carrier words
/// ("la boulangerie" → "boulangerie"). Normalised; a form can come twice with
/// different kinds (the index keeps the best). The one definition the index
/// and the pairwise sound-alike check ([`super::sound_alike`]) share.
pub(crate) fn spoken_forms(entry: &Entry, language: Language) -> Vec<(String, FormKind)> {
    let mut out = Vec::new();
    let mut add = |form: String, kind: FormKind| {
        if form.is_empty() {
            return;
        }
        let words: Vec<&str> = form.split(' ').collect();
        let stripped = strip_carrier(&words, language).join(" ");
        if !stripped.is_empty() && stripped != form {
            out.push((stripped, kind));
        }
        out.push((form, kind));
    };
    let display = normalize(&entry.display_name);
    let words: Vec<&str> = display.split(' ').filter(|w| !w.is_empty()).collect();
    if let [rest @ .., last] = words.as_slice()
        && !rest.is_empty()
    {
        add(format!("{last} {}", rest.join(" ")), FormKind::ReversedName);
        add((*last).to_owned(), FormKind::LastName);
        // A first name only for names that do not start with a
        // carrier word: "Rayon Boulangerie" has no first name "rayon".
        if strip_carrier(&words, language).len() == words.len() {
            add(rest[0].to_owned(), FormKind::FirstName);
        }
    }
    for alias in &entry.aliases {
        add(normalize(alias), FormKind::Alias);
    }
    if let Some(department) = &entry.department {
        add(normalize(department), FormKind::Department);
    }
    add(display, FormKind::FullName);
    out
}

impl NameIndex {
    /// Indexes every enabled entry of `directory`: its display name (as
    /// written, last word first, last word alone, first word alone), its aliases and its
    /// department, each also without carrier words ("la boulangerie" →
    /// "boulangerie"), under the store's language.
    pub fn build(directory: &Directory) -> Result<NameIndex, MatchError> {
        let language = directory.store.language;
        let mut forms: BTreeMap<String, BTreeMap<EntryId, FormKind>> = BTreeMap::new();
        let mut keypad: BTreeMap<String, BTreeSet<EntryId>> = BTreeMap::new();
        let mut names = HashMap::new();

        for entry in directory.entries.iter().filter(|e| e.enabled) {
            let display = normalize(&entry.display_name);
            for (form, kind) in spoken_forms(entry, language) {
                let best = forms.entry(form).or_default().entry(entry.id).or_insert(kind);
                *best = (*best).min(kind);
            }
            for word in display.split(' ').filter(|w| !w.is_empty()) {
                let digits = keypad_encode(word);
                if !digits.is_empty() {
                    keypad.entry(digits).or_default().insert(entry.id);
                }
            }
            names.insert(entry.id, display);
        }

        let count = forms.len();
        let too_many = || MatchError::TooManyForms { count };
        let mut forms_text = Vec::with_capacity(count);
        let mut form_postings = Vec::with_capacity(count);
        let mut phonetic: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for (slot, (text, entries)) in forms.into_iter().enumerate() {
            let slot = u32::try_from(slot).map_err(|_| too_many())?;
            for key in phonetic_keys(&text, language) {
                phonetic.entry(key).or_default().insert(slot);
            }
            let mut postings: Vec<(EntryId, FormKind)> = entries.into_iter().collect();
            postings.sort_by_key(|&(id, kind)| (kind, id));
            forms_text.push(text);
            form_postings.push(postings);
        }
        let forms = Map::from_iter(
            forms_text
                .iter()
                .enumerate()
                .map(|(slot, text)| (text, slot as u64)),
        )
        .map_err(|source| MatchError::Build {
            table: IndexTable::Forms,
            source,
        })?;

        let (phonetic_keys, phonetic_postings): (Vec<String>, Vec<Vec<u32>>) = phonetic
            .into_iter()
            .map(|(key, slots)| (key, slots.into_iter().collect()))
            .unzip();
        let phonetic = Map::from_iter(
            phonetic_keys
                .iter()
                .enumerate()
                .map(|(slot, key)| (key, slot as u64)),
        )
        .map_err(|source| MatchError::Build {
            table: IndexTable::Phonetic,
            source,
        })?;

        let (keypad_keys, keypad_postings): (Vec<String>, Vec<Vec<EntryId>>) = keypad
            .into_iter()
            .map(|(key, ids)| (key, ids.into_iter().collect()))
            .unzip();
        let keypad = Map::from_iter(
            keypad_keys
                .iter()
                .enumerate()
                .map(|(slot, key)| (key, slot as u64)),
        )
        .map_err(|source| MatchError::Build {
            table: IndexTable::Keypad,
            source,
        })?;

        let longest_form = forms_text
            .iter()
            .map(|f| f.chars().count())
            .max()
            .unwrap_or(0);
        Ok(NameIndex {
            language,
            longest_form,
            forms,
            forms_text,
            form_postings,
            phonetic,
            phonetic_postings,
            keypad,
            keypad_postings,
            names,
        })
    }

    /// The language the index was built for (the store's).
    pub fn language(&self) -> Language {
        self.language
    }

    /// Number of distinct spoken forms indexed.
    pub fn form_count(&self) -> usize {
        self.forms_text.len()
    }

    /// Normalised display name of an indexed entry.
    pub fn display_name(&self, entry: EntryId) -> Option<&str> {
        self.names.get(&entry).map(String::as_str)
    }

    fn hits_of_slot(&self, slot: u64, method: MatchMethod, method_weight: f32, out: &mut Vec<Hit>) {
        // Slots come from our own maps, built with indices into these vectors.
        let slot = slot as usize;
        for &(entry, kind) in &self.form_postings[slot] {
            out.push(Hit {
                entry,
                form: self.forms_text[slot].clone(),
                kind,
                method,
                quality: kind.weight() * method_weight,
            });
        }
    }

    /// Entries having exactly the normalised form `query`.
    pub fn exact(&self, query: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        if let Some(slot) = self.forms.get(query) {
            self.hits_of_slot(slot, MatchMethod::Exact, 1.0, &mut out);
        }
        out
    }

    /// Entries having a form with the same phonetic key as `query`
    /// (normalised), forms identical to the query excluded (see [`Self::exact`]).
    pub fn phonetic(&self, query: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        for key in phonetic_keys(query, self.language) {
            if let Some(pslot) = self.phonetic.get(&key) {
                for &slot in &self.phonetic_postings[pslot as usize] {
                    if self.forms_text[slot as usize] != query {
                        self.hits_of_slot(
                            u64::from(slot),
                            MatchMethod::Phonetic,
                            PHONETIC_WEIGHT,
                            &mut out,
                        );
                    }
                }
            }
        }
        out
    }

    /// Entries having a form within a few edits of `query` (normalised):
    /// one edit from 4 characters, two from 8; quality falls with the edit
    /// distance relative to the longer of the two strings. Forms identical to
    /// the query are excluded (see [`Self::exact`]).
    pub fn fuzzy(&self, query: &str) -> Vec<Hit> {
        let chars = query.chars().count();
        let max = fuzzy_distance(chars);
        let mut out = Vec::new();
        // Past the longest form plus the allowed edits nothing can match.
        if max == 0 || chars > self.longest_form + usize::from(max) {
            return out;
        }
        let dfa = LEVENSHTEIN[usize::from(max - 1)].build_dfa(query);
        let mut stream = self.forms.search_with_state(&dfa).into_stream();
        while let Some((_, slot, state)) = stream.next() {
            // The stream only yields matching states, whose distance is exact.
            let (Distance::Exact(distance) | Distance::AtLeast(distance)) = dfa.distance(state);
            if distance == 0 {
                continue;
            }
            let form_chars = self.forms_text[slot as usize].chars().count();
            let longer = chars.max(form_chars);
            let weight = FUZZY_WEIGHT * (1.0 - f32::from(distance) / longer as f32);
            let method = MatchMethod::Fuzzy {
                distance: u32::from(distance),
            };
            self.hits_of_slot(slot, method, weight, &mut out);
        }
        out
    }

    /// Exact, phonetic and fuzzy hits of `query` (normalised), best hit per
    /// entry, best first; ties broken by display name then id.
    pub fn lookup(&self, query: &str) -> Vec<Hit> {
        let mut hits = self.exact(query);
        hits.extend(self.phonetic(query));
        hits.extend(self.fuzzy(query));
        self.best_per_entry(hits)
    }

    /// Keeps the best hit of each entry, ordered best first.
    pub(crate) fn best_per_entry(&self, hits: Vec<Hit>) -> Vec<Hit> {
        let mut best: HashMap<EntryId, Hit> = HashMap::new();
        for hit in hits {
            match best.get(&hit.entry) {
                Some(b) if b.quality >= hit.quality => {}
                _ => {
                    best.insert(hit.entry, hit);
                }
            }
        }
        let mut out: Vec<Hit> = best.into_values().collect();
        out.sort_by(|a, b| {
            b.quality
                .total_cmp(&a.quality)
                .then_with(|| self.order_key(a.entry).cmp(&self.order_key(b.entry)))
        });
        out
    }

    /// Deterministic order among equals: display name, then id.
    pub(crate) fn order_key(&self, entry: EntryId) -> (&str, EntryId) {
        (self.display_name(entry).unwrap_or(""), entry)
    }

    /// Entries one of whose name words starts with letters typed as `digits`
    /// on a phone keypad (2 = abc … 9 = wxyz, accents ignored), ordered by
    /// display name then id. Non-digit characters in `digits` are ignored;
    /// no digits finds nothing (rather than everyone). Names in non-Latin
    /// scripts have no keypad form and are never found.
    pub fn keypad_search(&self, digits: &str) -> Vec<EntryId> {
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Vec::new();
        }
        let mut found = BTreeSet::new();
        let mut stream = self
            .keypad
            .search(Str::new(&digits).starts_with())
            .into_stream();
        while let Some((_, slot)) = stream.next() {
            found.extend(self.keypad_postings[slot as usize].iter().copied());
        }
        let mut out: Vec<EntryId> = found.into_iter().collect();
        out.sort_by(|a, b| self.order_key(*a).cmp(&self.order_key(*b)));
        out
    }

    /// Number of form slots (`0..slot_count()` are valid slots).
    pub(crate) fn slot_count(&self) -> usize {
        self.forms_text.len()
    }

    /// The entries having the form of `slot`, best kind first.
    pub(crate) fn slot_postings(&self, slot: u32) -> &[(EntryId, FormKind)] {
        &self.form_postings[slot as usize]
    }

    /// The normalised text of the form of `slot`.
    pub(crate) fn slot_form(&self, slot: u32) -> &str {
        &self.forms_text[slot as usize]
    }

    /// The slots of forms that sound like the form of `slot` (same phonetic
    /// key, `true`) or are exactly one edit away from it (for forms of at
    /// least [`FUZZY_MIN_CHARS`] characters, as [`Self::fuzzy`]; `false`),
    /// `slot` itself excluded, possibly repeated; at most `limit` of them.
    /// Returns whether more were left out. Works on slots, never on hits: no
    /// form text is copied, and the work is bounded by `limit` however many
    /// forms share a key.
    pub(crate) fn near_slots(&self, slot: u32, limit: usize, out: &mut Vec<(u32, bool)>) -> bool {
        let form = self.forms_text[slot as usize].as_str();
        for key in phonetic_keys(form, self.language) {
            if let Some(pslot) = self.phonetic.get(&key) {
                for &s in self.phonetic_postings[pslot as usize].iter().filter(|&&s| s != slot) {
                    if out.len() == limit {
                        return true;
                    }
                    out.push((s, true));
                }
            }
        }
        if fuzzy_distance(form.chars().count()) == 0 {
            return false;
        }
        let dfa = LEVENSHTEIN[0].build_dfa(form);
        let mut stream = self.forms.search_with_state(&dfa).into_stream();
        while let Some((_, near, _)) = stream.next() {
            // Slots come from our own map; distance 0 is the form itself.
            let near = near as u32;
            if near != slot {
                if out.len() == limit {
                    return true;
                }
                out.push((near, false));
            }
        }
        false
    }
}
