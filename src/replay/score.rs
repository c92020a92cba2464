//! Scoring replayed recordings: what each decision means against what was
//! expected, and the figures QA reads (accuracy, false accepts and rejects,
//! confirmation rate, confused pairs, latency percentiles). Pure functions over
//! plain values, so the figures are tested on hand-checked sets.

use std::collections::{BTreeMap, BTreeSet};

use crate::directory::EntryId;
use crate::matching::Decision;

/// What a recording should lead to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "entries", rename_all = "snake_case")]
pub enum Expected {
    /// One of these entries (several for a name two entries share).
    Entry(BTreeSet<EntryId>),
    /// Nothing usable was said (silence, noise, a name outside the directory).
    Reject,
}

/// A decision in a form that can be written to JSON and compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "entries", rename_all = "snake_case")]
pub enum DecisionRecord {
    Transfer(EntryId),
    Confirm(EntryId),
    Disambiguate(Vec<EntryId>),
    NoMatch,
}

impl From<&Decision> for DecisionRecord {
    fn from(decision: &Decision) -> Self {
        match decision {
            Decision::Transfer(id) => DecisionRecord::Transfer(*id),
            Decision::Confirm(id) => DecisionRecord::Confirm(*id),
            Decision::Disambiguate(ids) => DecisionRecord::Disambiguate(ids.clone()),
            // Neither names an entry: for scoring, the request was not routed
            // to one (an out-of-directory request asking for the operator
            // is rightly not transferred to an entry).
            Decision::NoMatch | Decision::Operator | Decision::Help => DecisionRecord::NoMatch,
        }
    }
}

impl DecisionRecord {
    /// The entries this decision leads the caller towards (empty for no match).
    pub fn entries(&self) -> Vec<EntryId> {
        match self {
            DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id) => vec![*id],
            DecisionRecord::Disambiguate(ids) => ids.clone(),
            DecisionRecord::NoMatch => vec![],
        }
    }

    /// Short text for tables: `transfer 3`, `confirm 3`, `menu 1,3`, `no match`.
    pub fn label(&self) -> String {
        let list = |ids: &[EntryId]| {
            ids.iter()
                .map(|i| i.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            DecisionRecord::Transfer(id) => format!("transfer {}", id.0),
            DecisionRecord::Confirm(id) => format!("confirm {}", id.0),
            DecisionRecord::Disambiguate(ids) => format!("menu {}", list(ids)),
            DecisionRecord::NoMatch => "no match".to_owned(),
        }
    }
}

/// The decision a recording leads to, as a call would act on it: the first
/// utterance that means something (a call re-prompts after "no match" and
/// listens again); no match when none does.
pub fn call_decision<'a>(
    utterances: impl IntoIterator<Item = &'a DecisionRecord>,
) -> DecisionRecord {
    utterances
        .into_iter()
        .find(|d| **d != DecisionRecord::NoMatch)
        .cloned()
        .unwrap_or(DecisionRecord::NoMatch)
}

/// How a decision compares with what was expected.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The expected entry (transferred, confirmed, or offered in a menu), or a
    /// rejection where one was expected.
    Correct,
    /// Led to the wrong entry, or accepted something that should be rejected.
    FalseAccept,
    /// Rejected a name that is in the directory.
    FalseReject,
}

/// Judges one decision.
pub fn verdict(expected: &Expected, decision: &DecisionRecord) -> Verdict {
    match (expected, decision) {
        (Expected::Reject, DecisionRecord::NoMatch) => Verdict::Correct,
        (Expected::Reject, _) => Verdict::FalseAccept,
        (Expected::Entry(_), DecisionRecord::NoMatch) => Verdict::FalseReject,
        (Expected::Entry(want), DecisionRecord::Disambiguate(offered)) => {
            // A menu is right when it offers the caller's entry.
            if offered.iter().any(|id| want.contains(id)) {
                Verdict::Correct
            } else {
                Verdict::FalseAccept
            }
        }
        (Expected::Entry(want), DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id)) => {
            if want.contains(id) {
                Verdict::Correct
            } else {
                Verdict::FalseAccept
            }
        }
    }
}

/// What the scoring needs of one replayed recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Store label (accuracy is reported per store).
    pub store: String,
    /// What was expected, as a label ("Sophie Martin", "reject").
    pub expected_label: String,
    /// What was decided, as a label ("Paul Martin", "no match").
    pub decided_label: String,
    pub expected: Expected,
    pub decision: DecisionRecord,
    /// Decode time of each utterance of the recording, in milliseconds.
    pub decode_ms: Vec<f64>,
}

/// Accuracy of one store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoreAccuracy {
    pub store: String,
    pub total: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// An (expected, decided) pair that went wrong, and how often.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfusedPair {
    pub expected: String,
    pub decided: String,
    pub count: usize,
}

/// Latency percentiles of utterance decoding, in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    pub utterances: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The figures of a replay run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub total: usize,
    pub correct: usize,
    /// `correct / total` (0 when empty).
    pub accuracy: f64,
    pub false_accepts: usize,
    pub false_rejects: usize,
    /// Recordings that expected an entry.
    pub in_directory: usize,
    /// Recordings that expected a rejection.
    pub negatives: usize,
    /// Share of recordings decided by a "did you mean …?" (a confirmation).
    pub confirmation_rate: f64,
    pub per_store: Vec<StoreAccuracy>,
    /// Most frequent first, then by labels.
    pub confused_pairs: Vec<ConfusedPair>,
    pub latency: Latency,
}

/// The `p`-th percentile (0..=100) of sorted values, nearest-rank; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Computes the figures of a run.
pub fn summarize(results: &[Scored]) -> Summary {
    let verdicts: Vec<Verdict> = results
        .iter()
        .map(|r| verdict(&r.expected, &r.decision))
        .collect();
    let count = |v: Verdict| verdicts.iter().filter(|x| **x == v).count();
    let correct = count(Verdict::Correct);

    let mut stores: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut pairs: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (r, v) in results.iter().zip(&verdicts) {
        let s = stores.entry(&r.store).or_default();
        s.0 += 1;
        if *v == Verdict::Correct {
            s.1 += 1;
        } else {
            *pairs
                .entry((&r.expected_label, &r.decided_label))
                .or_default() += 1;
        }
    }
    let per_store = stores
        .into_iter()
        .map(|(store, (total, correct))| StoreAccuracy {
            store: store.to_owned(),
            total,
            correct,
            accuracy: ratio(correct, total),
        })
        .collect();
    let mut confused_pairs: Vec<ConfusedPair> = pairs
        .into_iter()
        .map(|((e, d), count)| ConfusedPair {
            expected: e.to_owned(),
            decided: d.to_owned(),
            count,
        })
        .collect();
    // Stable: BTreeMap order breaks ties.
    confused_pairs.sort_by_key(|p| std::cmp::Reverse(p.count));

    let mut decode: Vec<f64> = results
        .iter()
        .flat_map(|r| r.decode_ms.iter().copied())
        .collect();
    decode.sort_by(f64::total_cmp);
    let latency = Latency {
        utterances: decode.len(),
        p50_ms: percentile(&decode, 50.0),
        p90_ms: percentile(&decode, 90.0),
        p99_ms: percentile(&decode, 99.0),
        max_ms: decode.last().copied().unwrap_or(0.0),
    };
    let confirmations = results
        .iter()
        .filter(|r| matches!(r.decision, DecisionRecord::Confirm(_)))
        .count();
    let in_directory = results
        .iter()
        .filter(|r| matches!(r.expected, Expected::Entry(_)))
        .count();
    Summary {
        total: results.len(),
        correct,
        accuracy: ratio(correct, results.len()),
        false_accepts: count(Verdict::FalseAccept),
        false_rejects: count(Verdict::FalseReject),
        in_directory,
        negatives: results.len() - in_directory,
        confirmation_rate: ratio(confirmations, results.len()),
        per_store,
        confused_pairs,
        latency,
    }
}

#[cfg(test)]
mod tests {
    //! The figures of a small hand-checked set.
    use super::*;

    fn entry(ids: &[i64]) -> Expected {
        Expected::Entry(ids.iter().map(|i| EntryId(*i)).collect())
    }

    #[test]
    fn verdicts() {
        use DecisionRecord as D;
        let cases = [
            (entry(&[1]), D::Transfer(EntryId(1)), Verdict::Correct),
            (entry(&[1]), D::Confirm(EntryId(1)), Verdict::Correct),
            (entry(&[1, 3]), D::Transfer(EntryId(3)), Verdict::Correct),
            (
                entry(&[1]),
                D::Disambiguate(vec![EntryId(1), EntryId(3)]),
                Verdict::Correct,
            ),
            (
                entry(&[2]),
                D::Disambiguate(vec![EntryId(1), EntryId(3)]),
                Verdict::FalseAccept,
            ),
            (entry(&[1]), D::Transfer(EntryId(3)), Verdict::FalseAccept),
            (entry(&[1]), D::Confirm(EntryId(3)), Verdict::FalseAccept),
            (entry(&[1]), D::NoMatch, Verdict::FalseReject),
            (Expected::Reject, D::NoMatch, Verdict::Correct),
            (
                Expected::Reject,
                D::Confirm(EntryId(2)),
                Verdict::FalseAccept,
            ),
            (
                Expected::Reject,
                D::Disambiguate(vec![EntryId(1)]),
                Verdict::FalseAccept,
            ),
        ];
        for (expected, decision, want) in cases {
            assert_eq!(
                verdict(&expected, &decision),
                want,
                "{expected:?} / {decision:?}"
            );
        }
    }

    #[test]
    fn the_first_meaningful_utterance_decides() {
        use DecisionRecord as D;
        let cases: [(&[D], D); 4] = [
            (&[], D::NoMatch),
            (&[D::NoMatch, D::NoMatch], D::NoMatch),
            (
                &[D::NoMatch, D::Confirm(EntryId(2)), D::Transfer(EntryId(1))],
                D::Confirm(EntryId(2)),
            ),
            (
                &[D::Transfer(EntryId(1)), D::NoMatch],
                D::Transfer(EntryId(1)),
            ),
        ];
        for (utterances, want) in cases {
            assert_eq!(call_decision(utterances), want, "{utterances:?}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let cases = [
            (50.0, 5.0),
            (90.0, 9.0),
            (99.0, 10.0),
            (100.0, 10.0),
            (0.0, 1.0),
        ];
        for (p, want) in cases {
            assert_eq!(percentile(&v, p), want, "p{p}");
        }
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    fn scored(
        store: &str,
        expected: Expected,
        e: &str,
        decision: DecisionRecord,
        d: &str,
        ms: &[f64],
    ) -> Scored {
        Scored {
            store: store.into(),
            expected_label: e.into(),
            decided_label: d.into(),
            expected,
            decision,
            decode_ms: ms.to_vec(),
        }
    }

    /// Eight recordings, counted by hand:
    /// store A: 1 right transfer, 1 right confirm, Sophie→Paul (false accept), Julie rejected (false reject)
    /// store B: silence rejected (right), cough accepted as Paul (false accept), Sophie→Paul again, right menu.
    /// Correct 4/8; false accepts 3; false rejects 1; confirmations 2 (one right, one wrong) → 0.25.
    #[test]
    fn a_hand_checked_set() {
        use DecisionRecord as D;
        let e = |i| EntryId(i);
        let set = vec![
            scored(
                "A",
                entry(&[1]),
                "Sophie",
                D::Transfer(e(1)),
                "Sophie",
                &[10.0],
            ),
            scored(
                "A",
                entry(&[2]),
                "Hervé",
                D::Confirm(e(2)),
                "Hervé",
                &[20.0],
            ),
            scored(
                "A",
                entry(&[1]),
                "Sophie",
                D::Confirm(e(3)),
                "Paul",
                &[30.0],
            ),
            scored("A", entry(&[4]), "Julie", D::NoMatch, "no match", &[40.0]),
            scored("B", Expected::Reject, "reject", D::NoMatch, "no match", &[]),
            scored(
                "B",
                Expected::Reject,
                "reject",
                D::Transfer(e(3)),
                "Paul",
                &[50.0, 60.0],
            ),
            scored(
                "B",
                entry(&[1]),
                "Sophie",
                D::Transfer(e(3)),
                "Paul",
                &[70.0],
            ),
            scored(
                "B",
                entry(&[1, 3]),
                "Martin",
                D::Disambiguate(vec![e(1), e(3)]),
                "menu",
                &[80.0],
            ),
        ];
        let s = summarize(&set);
        assert_eq!(
            (s.total, s.correct, s.false_accepts, s.false_rejects),
            (8, 4, 3, 1)
        );
        assert_eq!((s.in_directory, s.negatives), (6, 2));
        assert_eq!(s.accuracy, 0.5);
        assert_eq!(s.confirmation_rate, 0.25);
        assert_eq!(
            s.per_store,
            vec![
                StoreAccuracy {
                    store: "A".into(),
                    total: 4,
                    correct: 2,
                    accuracy: 0.5
                },
                StoreAccuracy {
                    store: "B".into(),
                    total: 4,
                    correct: 2,
                    accuracy: 0.5
                },
            ]
        );
        let pairs: Vec<(&str, &str, usize)> = s
            .confused_pairs
            .iter()
            .map(|p| (p.expected.as_str(), p.decided.as_str(), p.count))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("Sophie", "Paul", 2),
                ("Julie", "no match", 1),
                ("reject", "Paul", 1)
            ]
        );
        // 8 decode times 10..80 ms: p50 = 40, p90 = 80 (rank ceil(7.2) = 8), max 80.
        assert_eq!(
            s.latency,
            Latency {
                utterances: 8,
                p50_ms: 40.0,
                p90_ms: 80.0,
                p99_ms: 80.0,
                max_ms: 80.0
            }
        );
    }
}
