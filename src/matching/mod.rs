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
    /// Several entries share the name: offer a menu of them.
    Disambiguate(Vec<EntryId>),
    /// Nothing usable.
    NoMatch,
}

/// Score thresholds of [`decide`]. A candidate's score is the engine
/// confidence of the alternative times the match quality ([`Hit::quality`]),
/// so both are in `0..=1`.
///
/// Defaults, and why (reasoned from the weights, not yet measured on real
/// calls: tune them per engine, as engines calibrate confidence differently):
/// - `accept = 0.80`: to transfer without asking, an exact match needs an
///   engine confidence of 0.80 (full name) to 0.91 (first name alone), a
///   phonetic match about 0.94; a fuzzy match never gets there (its weight,
///   [`FUZZY_WEIGHT`], is 0.78), so a misspelt name is always confirmed. A
///   wrong blind transfer costs the caller more than one extra question.
/// - `confirm = 0.45`: an exact name at confidence 0.5 is still worth a
///   "did you mean …"; a fuzzy match needs about 0.65; below that the
///   question would mostly name the wrong person.
/// - `margin = 0.10`: two different entries scoring within 0.10 of each other
///   are a coin toss; the caller is asked again rather than confirmed on the
///   wrong one. Namesakes (same spoken form) are disambiguated instead.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: [`Decision::Transfer`].
    pub accept: f32,
    /// At or above (and below `accept`): [`Decision::Confirm`].
    pub confirm: f32,
    /// Minimum lead of the best candidate over the next distinct one.
    pub margin: f32,
}

impl Thresholds {
    /// Checks that `0 <= confirm <= accept <= 1` and `0 <= margin < 1` (NaN
    /// fails): call it where thresholds are read from configuration.
    pub fn validate(&self) -> Result<(), MatchError> {
        let Thresholds {
            accept,
            confirm,
            margin,
        } = *self;
        let ordered = (0.0..=1.0).contains(&confirm) && (confirm..=1.0).contains(&accept);
        if ordered && (0.0..1.0).contains(&margin) {
            Ok(())
        } else {
            Err(MatchError::InvalidThresholds {
                accept,
                confirm,
                margin,
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
    ranked.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| {
            index
                .order_key(a.hit.entry)
                .cmp(&index.order_key(b.hit.entry))
        })
    });
    ranked
}

/// Decides what to do with a recognition result (see [`Thresholds`]):
///
/// 1. no candidate, or the best scores under `confirm` → [`Decision::NoMatch`];
/// 2. other entries matched through the same spoken form as the best one and
///    score within `margin` of it (namesakes: "Martin" for Sophie and Paul
///    Martin) → [`Decision::Disambiguate`] with all of them, best first;
/// 3. the next distinct entry scores within `margin` of the best →
///    [`Decision::NoMatch`] (ask again rather than guess);
/// 4. the best scores at least `accept` → [`Decision::Transfer`], else
///    [`Decision::Confirm`].
pub fn decide(index: &NameIndex, rec: &Recognition, t: &Thresholds) -> Decision {
    let ranked = rank(index, rec);
    let Some(top) = ranked.first() else {
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
    if let Some(runner_up) = others.first()
        && top.score - runner_up.score < t.margin
    {
        return Decision::NoMatch;
    }
    if top.score >= t.accept {
        Decision::Transfer(top.hit.entry)
    } else {
        Decision::Confirm(top.hit.entry)
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
