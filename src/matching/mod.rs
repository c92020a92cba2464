//! From recognised text or keypad digits to directory entries.
//!
//! - [`NameIndex`] holds the spoken forms of one directory version in `fst`
//!   maps: exact, phonetic ([`phonetic`]) and fuzzy lookups, and keypad search.
//! - [`decide`] turns an N-best [`Recognition`] into a [`Decision`]:
//!   transfer, confirm, disambiguate between namesakes, or no match.
//! - [`phrases`] holds the carrier phrases ("je voudrais parler à …") and the
//!   yes/no words, shared with the grammar builder; [`decide_yes_no`] reads a
//!   confirmation answer.
//! - [`sound_alike`] says whether two entries sound alike and why;
//!   [`similar_names`] lists a directory's sound-alikes, bounded.
//!
//! Pure code: no IO, no clock, no async.
//!
//! Uses `asr` (recognition types), `directory` and `flow` (the traits it
//! implements); must not import tokio, rsipstack, sqlx, axum, `media`, `sip`,
//! `runtime`, `admin` or `replay`.

mod index;
pub mod calibration;
pub mod interpreter;
pub mod normalize;
pub mod phonetic;
pub mod phrases;
mod similar;

#[cfg(test)]
mod tests;

pub use index::{
    FUZZY_WEIGHT, FormKind, Hit, IndexTable, MatchError, MatchMethod, NameIndex, PHONETIC_WEIGHT,
};
pub use normalize::normalize;
pub use phrases::{CarrierPhrases, carrier_phrases, no_words, yes_words};
pub use similar::{
    SOUND_ALIKES_PER_ENTRY, SoundAlikes, SoundAlikeKind, SoundAlikePair, SoundAlikeReason, similar_names, sound_alike,
};

use std::collections::HashMap;

use crate::asr::Recognition;
use crate::directory::{EntryId, Language};

/// What the attendant should do with a recognition result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Confident: transfer at once.
    Transfer(EntryId),
    /// Probably this entry: ask "Did you mean …?".
    Confirm(EntryId),
    /// Several entries share the name, sound alike, or scored too close to
    /// tell: one question naming them (with their departments), answered by
    /// speech or key.
    Disambiguate(Vec<EntryId>),
    /// The caller asked for the operator ("operator", "a person").
    Operator,
    /// The caller asked to hear the question again ("repeat", "help").
    Help,
    /// Nothing usable.
    NoMatch,
}

/// Score thresholds of [`decide`], one set per engine (engines calibrate
/// confidence differently): the defaults below, replaced by the engine's
/// calibration file (`config/calibration/<engine>.toml`, [`calibration`]),
/// replaced in turn by `[flow.thresholds]` or a store's own settings.
///
/// Two measures are compared with them:
/// - a candidate's **score**: the N-best share of the alternatives naming it
///   times the match quality ([`Hit::quality`]), in `0..=1` (see [`rank`]);
/// - the utterance's **in-grammar confidence** ([`Recognition::in_grammar`]):
///   how well the audio fits the grammar's best path rather than free speech
///   (PocketSphinx: against a free phone loop; Vosk: its word confidences), in
///   `0..=1`. An engine that measures none leaves it `None`: then only the
///   scores decide.
///
/// Defaults, and why:
/// - `accept = 0.80`: to transfer without asking, an exact match needs an
///   N-best share of 0.80 (full name) to 0.91 (first name alone), a
///   phonetic match about 0.94; a fuzzy match never gets there (its weight,
///   [`FUZZY_WEIGHT`], is 0.78), so a misspelt name is always confirmed.
/// - `confirm = 0.45`: an exact name at a share of 0.5 is still worth a
///   "did you mean …"; below that the question would mostly name the wrong
///   person.
/// - `margin = 0.10`: two different entries scoring within 0.10 of each other
///   are a coin toss: the caller gets one question naming both, told apart by
///   department ([`Decision::Disambiguate`]), never a silent "no match".
/// - `reject` and `trust`: in-grammar confidence under `reject` is speech the
///   grammar does not hold (a name not in the directory, a complaint, line
///   noise): rejected. Under `trust` the best candidate is at most confirmed,
///   never transferred blind. Defaults from the QA corpus (docs/recognition.md);
///   `attendant calibrate` writes per-engine values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// At or above (with in-grammar confidence at least `trust`): [`Decision::Transfer`].
    pub accept: f32,
    /// At or above (and below `accept`): [`Decision::Confirm`].
    pub confirm: f32,
    /// Lead of the best candidate over the next distinct one under which both
    /// are offered in one question.
    pub margin: f32,
    /// In-grammar confidence under which the utterance is rejected.
    pub reject: f32,
    /// In-grammar confidence under which nobody is transferred without asking.
    pub trust: f32,
}

impl Thresholds {
    /// Checks that `0 <= confirm <= accept <= 1`, `0 <= margin < 1` and
    /// `0 <= reject <= trust <= 1` (NaN fails): call it where thresholds are
    /// read from configuration.
    pub fn validate(&self) -> Result<(), MatchError> {
        let Thresholds {
            accept,
            confirm,
            margin,
            reject,
            trust,
        } = *self;
        let ordered = (0.0..=1.0).contains(&confirm) && (confirm..=1.0).contains(&accept);
        let acoustic = (0.0..=1.0).contains(&reject) && (reject..=1.0).contains(&trust);
        if ordered && acoustic && (0.0..1.0).contains(&margin) {
            Ok(())
        } else {
            Err(MatchError::InvalidThresholds {
                accept,
                confirm,
                margin,
                reject,
                trust,
            })
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            accept: 0.80,
            confirm: 0.45,
            margin: 0.10,
            reject: 0.0,
            trust: 0.0,
        }
    }
}

/// One entry ranked by [`rank`].
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The hit for this entry of the alternative that contributes most to it.
    pub hit: Hit,
    /// Engine confidence of the alternative that gave `hit`.
    pub confidence: f32,
    /// Summed `confidence × quality` over the alternatives naming this entry,
    /// capped at 1 (see [`rank`]).
    pub score: f32,
}

/// Longest query (in words, after carrier phrases) whose sub-spans are also
/// looked up; beyond it only the whole query is, to bound the work.
const MAX_SPAN_WORDS: usize = 8;

/// Quality kept by a match on part of the query: `SPAN_BASE` plus the rest in
/// proportion to the share of the query's letters it covers. "jon smith"
/// matching only "smith" keeps 0.3 + 0.7 × 5/8 ≈ 0.74 of its quality: low
/// enough that a whole-query phonetic match ("jon smith" ≈ John Smith, 0.85)
/// stays ahead of the namesakes the part matches (Anna Smith) by more than
/// the default margin.
const SPAN_BASE: f32 = 0.3;

/// Hits for one alternative's text: the text without carrier phrases (exact,
/// phonetic, fuzzy) and the whole text (exact and phonetic: a name may look
/// like a carrier word, "Le Goff"), both at full quality, and each run of
/// consecutive words of the latter (exact and phonetic only, discounted by
/// [`SPAN_BASE`]) so that a name inside unexpected words is still found.
fn hits_for_text(index: &NameIndex, text: &str) -> Vec<Hit> {
    let normalized = normalize(text);
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let stripped = phrases::strip_carrier(&words, index.language());
    let stripped_text = stripped.join(" ");
    // Fuzzy lookup only on the stripped text: carrier words in the raw text
    // are edits no name is close to.
    let mut hits = index.lookup(&stripped_text);
    if stripped_text != normalized {
        hits.extend(index.exact(&normalized));
        hits.extend(index.phonetic(&normalized));
    }
    if stripped.len() > 1 && stripped.len() <= MAX_SPAN_WORDS {
        let total: usize = stripped.iter().map(|w| w.chars().count()).sum();
        for start in 0..stripped.len() {
            for end in start + 1..=stripped.len() {
                if end - start == stripped.len() {
                    continue;
                }
                let span = &stripped[start..end];
                let covered: usize = span.iter().map(|w| w.chars().count()).sum();
                let factor = SPAN_BASE + (1.0 - SPAN_BASE) * covered as f32 / total as f32;
                let span_text = span.join(" ");
                let mut span_hits = index.exact(&span_text);
                span_hits.extend(index.phonetic(&span_text));
                for mut hit in span_hits {
                    hit.quality *= factor;
                    hits.push(hit);
                }
            }
        }
    }
    hits
}

/// Every entry any alternative of `rec` points to, best first. An entry's
/// score is the sum, over the alternatives that point to it, of
/// `confidence × quality` (each alternative counted once per entry, with its
/// best hit), capped at 1. Both engines give confidences normalised over the
/// N-best list, so the sum is the share of the list's probability that means
/// this entry: two spellings of one name ("Hervé" / "Herve Prodhomme", the
/// same sounds) at 0.5 each make one sure entry, not two doubtful ones. Ties
/// are ordered by display name, then id. Confidences are clamped to `0..=1`
/// (NaN counts as 0).
pub fn rank(index: &NameIndex, rec: &Recognition) -> Vec<Candidate> {
    // Per entry: the summed score, and the candidate of the best contributor.
    let mut best: HashMap<EntryId, (f32, Candidate)> = HashMap::new();
    for alternative in &rec.alternatives {
        let confidence = if alternative.confidence.is_nan() {
            0.0
        } else {
            alternative.confidence.clamp(0.0, 1.0)
        };
        for hit in index.best_per_entry(hits_for_text(index, &alternative.text)) {
            let share = confidence * hit.quality;
            let entry = hit.entry;
            let (mass, top) = best.entry(entry).or_insert((
                0.0,
                Candidate {
                    hit: hit.clone(),
                    confidence,
                    score: share,
                },
            ));
            *mass += share;
            // The reported hit is the one of the alternative that contributes most.
            if share > top.score {
                *top = Candidate {
                    hit,
                    confidence,
                    score: share,
                };
            }
        }
    }
    let mut ranked: Vec<Candidate> = best
        .into_values()
        .map(|(mass, top)| Candidate {
            score: mass.min(1.0),
            ..top
        })
        .collect();
    sort_by_score(index, &mut ranked);
    ranked
}

/// Best score first; equal scores in directory order.
fn sort_by_score(index: &NameIndex, ranked: &mut [Candidate]) {
    ranked.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| {
            index
                .order_key(a.hit.entry)
                .cmp(&index.order_key(b.hit.entry))
        })
    });
}

/// Decides what to do with a recognition result (see [`Thresholds`]), with
/// nothing known of sound-alikes: [`decide_with`] and an empty [`ConfusableNames`].
pub fn decide(index: &NameIndex, rec: &Recognition, t: &Thresholds) -> Decision {
    decide_with(index, &ConfusableNames::default(), &[rec], &[], t)
}

/// Most entries one question between close candidates names: more would not
/// be remembered by the caller (a menu counts as routed right only up to 3).
pub const MAX_QUESTION_OPTIONS: usize = 3;

/// Decides what to do with a caller's attempts at a name, the latest last
/// (one, or two after a re-prompt), `declined` entries left out (the caller
/// said "no" to them):
///
/// 1. the latest attempt asks for the operator or for help ("operator", "a
///    person", "repeat") → [`Decision::Operator`] / [`Decision::Help`];
/// 2. its in-grammar confidence is under `reject` → [`Decision::NoMatch`]
///    (out-of-grammar speech: a name not in the directory, a sentence, noise);
/// 3. every entry is ranked over all attempts (scores summed, capped at 1:
///    two half-sure attempts at one name make a sure one); a department's own
///    entry ("Bakery") hides the staff entries found only through their
///    department field;
/// 4. nothing, or the best under `confirm` → [`Decision::NoMatch`];
/// 5. namesakes (same spoken form, within `margin`) → [`Decision::Disambiguate`]
///    with all of them;
/// 6. other entries within `margin` of the best → one question naming the
///    best and them (at most [`MAX_QUESTION_OPTIONS`]), never a silent coin toss;
/// 7. the best at or above `accept`, in-grammar confidence at or above
///    `trust`, and no sound-alike of it heard nearly as well →
///    [`Decision::Transfer`];
/// 8. the best has sound-alikes in the directory → one question naming it and
///    them (told apart by department); else [`Decision::Confirm`].
pub fn decide_with(
    index: &NameIndex,
    alikes: &ConfusableNames,
    attempts: &[&Recognition],
    declined: &[EntryId],
    t: &Thresholds,
) -> Decision {
    let Some(latest) = attempts.last() else {
        return Decision::NoMatch;
    };
    if let Some(request) = spoken_request(index, latest) {
        return request;
    }
    if latest.in_grammar.is_some_and(|c| c < t.reject) {
        return Decision::NoMatch;
    }
    let mut ranked = rank_attempts(index, attempts);
    ranked.retain(|c| !declined.contains(&c.hit.entry));
    prefer_own_entries(&mut ranked);
    let Some(top) = ranked.first().cloned() else {
        return Decision::NoMatch;
    };
    if top.score < t.confirm {
        return Decision::NoMatch;
    }
    let (namesakes, others): (Vec<&Candidate>, Vec<&Candidate>) = ranked
        .iter()
        .partition(|c| c.hit.form == top.hit.form && c.score >= top.score - t.margin);
    if namesakes.len() > 1 {
        return Decision::Disambiguate(namesakes.iter().map(|c| c.hit.entry).collect());
    }
    let close: Vec<EntryId> = others
        .iter()
        .filter(|c| top.score - c.score < t.margin)
        .map(|c| c.hit.entry)
        .collect();
    if !close.is_empty() {
        return Decision::Disambiguate(question(top.hit.entry, close));
    }
    let alike: Vec<EntryId> = alikes
        .of(top.hit.entry)
        .iter()
        .copied()
        .filter(|e| !declined.contains(e))
        .collect();
    let trusted = latest.in_grammar.is_none_or(|c| c >= t.trust);
    // A sound-alike heard nearly as well as the best: the decoder's choice
    // between the two spellings is a coin toss.
    let alike_heard = ranked
        .iter()
        .any(|c| alike.contains(&c.hit.entry) && c.score >= top.score * PHONETIC_WEIGHT - t.margin);
    if top.score >= t.accept && trusted && !alike_heard {
        return Decision::Transfer(top.hit.entry);
    }
    if !alike.is_empty() {
        // Heard ones first, in rank order, then the rest of the directory's.
        let mut rest: Vec<EntryId> = ranked
            .iter()
            .map(|c| c.hit.entry)
            .filter(|e| alike.contains(e))
            .collect();
        let unheard: Vec<EntryId> = alike.iter().copied().filter(|e| !rest.contains(e)).collect();
        rest.extend(unheard);
        return Decision::Disambiguate(question(top.hit.entry, rest));
    }
    Decision::Confirm(top.hit.entry)
}

/// The best entry then the others, without repeats, at most [`MAX_QUESTION_OPTIONS`].
fn question(best: EntryId, others: Vec<EntryId>) -> Vec<EntryId> {
    let mut out = vec![best];
    for entry in others {
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out.truncate(MAX_QUESTION_OPTIONS);
    out
}

/// [`rank`] over several attempts: per entry, the scores summed (capped at
/// 1), the best attempt's hit kept.
pub fn rank_attempts(index: &NameIndex, attempts: &[&Recognition]) -> Vec<Candidate> {
    if let [only] = attempts {
        return rank(index, only);
    }
    let mut by_entry: HashMap<EntryId, Candidate> = HashMap::new();
    for attempt in attempts {
        for candidate in rank(index, attempt) {
            match by_entry.get_mut(&candidate.hit.entry) {
                Some(known) => {
                    let total = (known.score + candidate.score).min(1.0);
                    if candidate.score > known.score {
                        *known = candidate;
                    }
                    known.score = total;
                }
                None => {
                    by_entry.insert(candidate.hit.entry, candidate);
                }
            }
        }
    }
    let mut ranked: Vec<Candidate> = by_entry.into_values().collect();
    sort_by_score(index, &mut ranked);
    ranked
}

/// A department request goes to the department's own entry: candidates found
/// only through their department field ("Bakery" for a baker) are dropped
/// when an entry is named by the same form (the "Bakery" entry itself).
fn prefer_own_entries(ranked: &mut Vec<Candidate>) {
    let named: Vec<String> = ranked
        .iter()
        .filter(|c| c.hit.kind != FormKind::Department)
        .map(|c| c.hit.form.clone())
        .collect();
    ranked.retain(|c| c.hit.kind != FormKind::Department || !named.contains(&c.hit.form));
}

/// "Operator" or "help" in the best alternative (alone or in a carrier:
/// "can i speak to someone please").
fn spoken_request(index: &NameIndex, rec: &Recognition) -> Option<Decision> {
    let language = index.language();
    let best = rec.best()?;
    let normalized = normalize(&best.text);
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let stripped = phrases::strip_carrier(&words, language).join(" ");
    // The store's own entry wins ("Accueil" may be an entry's name).
    if !index.exact(&stripped).is_empty() || !index.exact(&normalized).is_empty() {
        return None;
    }
    let stock = crate::asr::grammar::stock_phrases(language);
    let is = |list: &[String]| {
        list.iter().any(|p| {
            let p = normalize(p);
            p == stripped || p == normalized
        })
    };
    if is(&stock.operator) {
        Some(Decision::Operator)
    } else if is(&stock.help) {
        Some(Decision::Help)
    } else {
        None
    }
}

/// Entries each entry is likely to be confused with when its full name is
/// said: other entries whose display name or alias sounds the same (same
/// phonetic key) or is one edit away ("Jon Smith" / "John Smyth"). Built once
/// per directory version, beside the [`NameIndex`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfusableNames {
    by_entry: HashMap<EntryId, Vec<EntryId>>,
}

impl ConfusableNames {
    /// The sound-alikes of every enabled entry of the index's directory.
    pub fn build(index: &NameIndex, directory: &crate::directory::Directory) -> ConfusableNames {
        let mut by_entry: HashMap<EntryId, Vec<EntryId>> = HashMap::new();
        for entry in directory.entries.iter().filter(|e| e.enabled) {
            let name = normalize(&entry.display_name);
            if name.is_empty() {
                continue;
            }
            let mut near = index.phonetic(&name);
            near.extend(
                index
                    .fuzzy(&name)
                    .into_iter()
                    .filter(|h| h.method == MatchMethod::Fuzzy { distance: 1 }),
            );
            for hit in near {
                let whole = matches!(
                    hit.kind,
                    FormKind::FullName | FormKind::ReversedName | FormKind::Alias
                );
                if whole && hit.entry != entry.id && hit.form != name {
                    let list = by_entry.entry(entry.id).or_default();
                    if !list.contains(&hit.entry) {
                        list.push(hit.entry);
                    }
                }
            }
        }
        ConfusableNames { by_entry }
    }

    /// The entries `entry` sounds like (none if unknown).
    pub fn of(&self, entry: EntryId) -> &[EntryId] {
        self.by_entry.get(&entry).map_or(&[], Vec::as_slice)
    }
}

/// Reads a yes/no answer ("Did you mean Sophie Martin?") in `language`.
///
/// The best alternative decides if it holds a yes or a no (and not both);
/// otherwise the lower alternatives decide only if every one of them that
/// holds an answer gives the same. `None`: no answer, or a contradictory one.
pub fn decide_yes_no(rec: &Recognition, language: Language) -> Option<bool> {
    let answers: Vec<Option<bool>> = rec
        .alternatives
        .iter()
        .map(|alternative| {
            let normalized = normalize(&alternative.text);
            let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
            phrases::yes_no_of_words(&words, language)
        })
        .collect();
    match answers.first() {
        None => None,
        Some(Some(answer)) => Some(*answer),
        Some(None) => {
            let mut given = answers.iter().flatten();
            let first = *given.next()?;
            given.all(|a| *a == first).then_some(first)
        }
    }
}
