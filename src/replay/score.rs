//! Scoring replayed recordings: what each decision means against what was
//! expected, and the figures QA reads (accuracy, false accepts and rejects,
//! confirmation rate, confused pairs, latency percentiles). Pure functions over
//! plain values, so the figures are tested on hand-checked sets.

use std::collections::BTreeMap;

use crate::directory::{Directory, EntryId};

pub use crate::recording::{DecisionRecord, Expected};

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

/// What a request asks for, in the terms of issue 10's figures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A person (or any entry that is not a department's own entry).
    Name,
    /// A department's own entry (its name is its department: "Bakery" in Bakery).
    Department,
    /// Nothing in the directory: must be rejected.
    OutOfDirectory,
}

/// The category of a request expecting `expected` in `directory`: a rejection
/// is out of the directory; entries that are all departments' own entries (the
/// display name is the department, as the directory models a department desk)
/// are a department request; anything else asks for a name.
pub fn category(expected: &Expected, directory: &Directory) -> Category {
    let norm = crate::asr::grammar::normalize;
    match expected {
        Expected::Reject => Category::OutOfDirectory,
        Expected::Entry(ids) => {
            let department_entry = |id: &EntryId| {
                directory.entries.iter().any(|e| {
                    e.id == *id && e.department.as_deref().map(norm) == Some(norm(&e.display_name))
                })
            };
            if !ids.is_empty() && ids.iter().all(department_entry) {
                Category::Department
            } else {
                Category::Name
            }
        }
    }
}

/// Largest menu that still counts as routing the caller right: a caller can
/// pick among three names, not among twelve.
pub const MAX_MENU: usize = 3;

/// Where a request went, in the terms of issue 10.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// Transferred or confirmed to the expected entry, or a menu of at most
    /// [`MAX_MENU`] holding it; for a request to reject: rejected.
    Right,
    /// Transferred or confirmed to another entry (or, for a request to reject, to any).
    Wrong,
    /// A menu too long or without the expected entry: neither right nor a wrong transfer.
    Menu,
    /// No match (for a request expecting an entry).
    Rejected,
}

/// Judges one decision as issue 10 counts it.
pub fn routing(expected: &Expected, decision: &DecisionRecord) -> Routing {
    match (expected, decision) {
        (Expected::Reject, DecisionRecord::NoMatch) => Routing::Right,
        (_, DecisionRecord::NoMatch) => Routing::Rejected,
        (Expected::Reject, DecisionRecord::Disambiguate(_)) => Routing::Menu,
        (Expected::Reject, _) => Routing::Wrong,
        (Expected::Entry(want), DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id)) => {
            if want.contains(id) {
                Routing::Right
            } else {
                Routing::Wrong
            }
        }
        (Expected::Entry(want), DecisionRecord::Disambiguate(offered)) => {
            if offered.len() <= MAX_MENU && offered.iter().any(|id| want.contains(id)) {
                Routing::Right
            } else {
                Routing::Menu
            }
        }
    }
}

/// How many turns (prompts answered) a call took to reach its decision: the
/// position of the first utterance that means something, else every utterance
/// heard; at least one (the caller was asked once).
pub fn turns<'a>(utterances: impl IntoIterator<Item = &'a DecisionRecord>) -> usize {
    let mut heard = 0;
    for d in utterances {
        heard += 1;
        if *d != DecisionRecord::NoMatch {
            return heard;
        }
    }
    heard.max(1)
}

/// Counts of one category.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CategoryCounts {
    pub total: usize,
    /// [`Routing::Right`]; for departments, a transfer or confirmation of the
    /// department entry only (a menu is not "at once").
    pub right: usize,
    /// Transferred or confirmed to the wrong entry.
    pub wrong: usize,
    /// Any menu not counted right.
    pub menu: usize,
    pub rejected: usize,
    /// Department requests that reached a menu holding the department entry.
    pub menu_right: usize,
}

impl CategoryCounts {
    pub fn right_rate(&self) -> f64 {
        ratio(self.right, self.total)
    }
    pub fn wrong_rate(&self) -> f64 {
        ratio(self.wrong, self.total)
    }
}

/// The figures of issue 10: name requests routed right (a menu counts with at
/// most [`MAX_MENU`] options), transferred or confirmed to the wrong person,
/// out-of-directory requests rejected, department requests transferred or
/// confirmed at once, turns per call.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IssueFigures {
    pub names: CategoryCounts,
    pub departments: CategoryCounts,
    /// `right` = rejected, `wrong` = transferred or confirmed to someone.
    pub out_of_directory: CategoryCounts,
    pub calls: usize,
    pub turns: usize,
    /// `turns / calls` (0 when empty).
    pub turns_per_call: f64,
}

impl IssueFigures {
    /// The figures of scored recordings.
    pub fn of(results: &[Scored]) -> IssueFigures {
        let mut f = IssueFigures::default();
        for r in results {
            let route = routing(&r.expected, &r.decision);
            let counts = match r.category {
                Category::Name => &mut f.names,
                Category::Department => &mut f.departments,
                Category::OutOfDirectory => &mut f.out_of_directory,
            };
            counts.total += 1;
            let department_menu = r.category == Category::Department
                && matches!(r.decision, DecisionRecord::Disambiguate(_));
            match route {
                Routing::Right if department_menu => {
                    counts.menu += 1;
                    counts.menu_right += 1;
                }
                Routing::Right => counts.right += 1,
                Routing::Wrong => counts.wrong += 1,
                Routing::Menu => {
                    counts.menu += 1;
                    if department_menu
                        && let Expected::Entry(want) = &r.expected
                        && r.decision.entries().iter().any(|id| want.contains(id))
                    {
                        counts.menu_right += 1;
                    }
                }
                Routing::Rejected => counts.rejected += 1,
            }
            f.calls += 1;
            f.turns += r.turns;
        }
        f.turns_per_call = ratio(f.turns, f.calls);
        f
    }

    /// One line for logs and docs.
    pub fn line(&self) -> String {
        let pct = |a: usize, b: usize| 100.0 * ratio(a, b);
        format!(
            "names routed right {}/{} ({:.1} %), wrong transfer/confirm {}/{} ({:.1} %), out-of-directory rejected {}/{} ({:.1} %), departments at once {}/{} ({:.1} %), turns per call {:.2}",
            self.names.right,
            self.names.total,
            pct(self.names.right, self.names.total),
            self.names.wrong,
            self.names.total,
            pct(self.names.wrong, self.names.total),
            self.out_of_directory.right,
            self.out_of_directory.total,
            pct(self.out_of_directory.right, self.out_of_directory.total),
            self.departments.right,
            self.departments.total,
            pct(self.departments.right, self.departments.total),
            self.turns_per_call
        )
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
    /// What the request asks for ([`category`]).
    pub category: Category,
    /// Turns the call took ([`turns`]).
    pub turns: usize,
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
    /// Absent in reports written before it.
    #[serde(default)]
    pub p95_ms: f64,
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
    /// Issue 10's figures by category (absent in reports written before them).
    #[serde(default)]
    pub figures: IssueFigures,
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
        p95_ms: percentile(&decode, 95.0),
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
        figures: IssueFigures::of(results),
    }
}

#[cfg(test)]
mod tests {
    //! The figures of a small hand-checked set.
    use super::*;
    use crate::directory::EntryId;

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
            category: if expected == Expected::Reject {
                Category::OutOfDirectory
            } else {
                Category::Name
            },
            expected,
            decision,
            decode_ms: ms.to_vec(),
            turns: 1,
        }
    }

    #[test]
    fn routing_counts_short_menus_only() {
        use DecisionRecord as D;
        let e = EntryId;
        let cases = [
            (entry(&[1]), D::Transfer(e(1)), Routing::Right),
            (entry(&[1]), D::Confirm(e(2)), Routing::Wrong),
            (
                entry(&[1]),
                D::Disambiguate(vec![e(1), e(2), e(3)]),
                Routing::Right,
            ),
            (
                entry(&[1]),
                D::Disambiguate(vec![e(1), e(2), e(3), e(4)]),
                Routing::Menu,
            ),
            (
                entry(&[1]),
                D::Disambiguate(vec![e(2), e(3)]),
                Routing::Menu,
            ),
            (entry(&[1]), D::NoMatch, Routing::Rejected),
            (Expected::Reject, D::NoMatch, Routing::Right),
            (Expected::Reject, D::Transfer(e(1)), Routing::Wrong),
            (Expected::Reject, D::Disambiguate(vec![e(1)]), Routing::Menu),
        ];
        for (expected, decision, want) in cases {
            assert_eq!(
                routing(&expected, &decision),
                want,
                "{expected:?} / {decision:?}"
            );
        }
    }

    #[test]
    fn turns_count_up_to_the_deciding_utterance() {
        use DecisionRecord as D;
        assert_eq!(turns(&[]), 1);
        assert_eq!(turns(&[D::Transfer(EntryId(1))]), 1);
        assert_eq!(turns(&[D::NoMatch, D::Confirm(EntryId(1)), D::NoMatch]), 2);
        assert_eq!(turns(&[D::NoMatch, D::NoMatch]), 2);
    }

    #[test]
    fn a_department_request_is_the_department_entry() {
        let dir: Directory = serde_json::from_value(serde_json::json!({
            "store": {"id": 1, "name": "s", "number": "1", "language": "en",
                      "operator": {"kind": "extension", "value": "9"}},
            "version": 1, "menu": [],
            "entries": [
                {"id": 1, "display_name": "Bakery", "aliases": ["the bakery"], "department": "bakery",
                 "extension": "1", "target": {"kind": "extension", "value": "1"}, "fallback": null, "enabled": true},
                {"id": 2, "display_name": "Anna Smith", "aliases": [], "department": "Bakery",
                 "extension": "2", "target": {"kind": "extension", "value": "2"}, "fallback": null, "enabled": true}
            ]
        }))
        .unwrap();
        assert_eq!(category(&entry(&[1]), &dir), Category::Department);
        assert_eq!(category(&entry(&[2]), &dir), Category::Name);
        assert_eq!(category(&entry(&[1, 2]), &dir), Category::Name);
        assert_eq!(category(&Expected::Reject, &dir), Category::OutOfDirectory);
    }

    /// Issue 10's figures of a hand-counted set: names (right transfer, right
    /// menu of 3, menu of 4, wrong confirm, rejected), departments (transfer =
    /// at once, menu holding it = not at once), out of directory (rejected,
    /// transferred), one call of two turns.
    #[test]
    fn issue_figures_by_category() {
        use DecisionRecord as D;
        let e = EntryId;
        let mut set = vec![
            scored("A", entry(&[1]), "", D::Transfer(e(1)), "", &[]),
            scored(
                "A",
                entry(&[1]),
                "",
                D::Disambiguate(vec![e(1), e(2), e(3)]),
                "",
                &[],
            ),
            scored(
                "A",
                entry(&[1]),
                "",
                D::Disambiguate(vec![e(1), e(2), e(3), e(4)]),
                "",
                &[],
            ),
            scored("A", entry(&[1]), "", D::Confirm(e(2)), "", &[]),
            scored("A", entry(&[1]), "", D::NoMatch, "", &[]),
            scored("A", entry(&[9]), "", D::Transfer(e(9)), "", &[]),
            scored(
                "A",
                entry(&[9]),
                "",
                D::Disambiguate(vec![e(9), e(4)]),
                "",
                &[],
            ),
            scored("A", Expected::Reject, "", D::NoMatch, "", &[]),
            scored("A", Expected::Reject, "", D::Transfer(e(3)), "", &[]),
        ];
        set[5].category = Category::Department;
        set[6].category = Category::Department;
        set[1].turns = 2;
        let f = IssueFigures::of(&set);
        let counts =
            |c: &CategoryCounts| (c.total, c.right, c.wrong, c.menu, c.rejected, c.menu_right);
        assert_eq!(counts(&f.names), (5, 2, 1, 1, 1, 0));
        assert_eq!(counts(&f.departments), (2, 1, 0, 1, 0, 1));
        assert_eq!(counts(&f.out_of_directory), (2, 1, 1, 0, 0, 0));
        assert_eq!((f.calls, f.turns), (9, 10));
        assert!((f.turns_per_call - 10.0 / 9.0).abs() < 1e-12);
        assert!(
            f.line()
                .starts_with("names routed right 2/5 (40.0 %), wrong transfer/confirm 1/5"),
            "{}",
            f.line()
        );
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
                p95_ms: 80.0,
                p99_ms: 80.0,
                max_ms: 80.0
            }
        );
    }
}
