//! Proves that `decide`, `decide_yes_no`, `keypad_search` and `similar_names`
//! give the expected outcome on small French, English and Korean directories:
//! exact names, accents, carrier phrases, fuzzy and phonetic errors,
//! namesakes, too-close candidates, disabled entries, keypad prefixes.

use super::*;
use crate::asr::Hypothesis;
use crate::directory::{Directory, DirectoryVersion, Entry, Store, StoreId, TransferTarget};

fn entry(id: i64, display_name: &str, aliases: &[&str], department: Option<&str>) -> Entry {
    Entry {
        id: EntryId(id),
        display_name: display_name.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        department: department.map(str::to_owned),
        extension: Some(format!("{}", 100 + id)),
        target: TransferTarget::Extension(format!("{}", 100 + id)),
        fallback: None,
        enabled: true,
    }
}

fn directory(language: Language, entries: Vec<Entry>) -> Directory {
    Directory {
        store: Store {
            id: StoreId(1),
            name: "Test store".to_owned(),
            number: "0400000000".to_owned(),
            language,
            operator: TransferTarget::Extension("9".to_owned()),
        },
        version: DirectoryVersion(1),
        entries,
        menu: Vec::new(),
    }
}

fn french() -> Directory {
    let mut disabled = entry(9, "Bernard Petit", &[], None);
    disabled.enabled = false;
    directory(
        Language::Fr,
        vec![
            entry(1, "Sophie Martin", &[], Some("Caisses")),
            entry(2, "Paul Martin", &[], None),
            entry(3, "Hervé Leclerc", &[], None),
            entry(4, "Jean Prodhomme", &[], None),
            entry(5, "Sorin Dupont", &[], None),
            entry(6, "Rayon Boulangerie", &["la boulangerie", "le pain"], None),
            entry(7, "Accueil", &["l'accueil", "standard"], None),
            entry(8, "Martine Girard", &[], None),
            disabled,
            entry(10, "Philippe Gauthier", &[], None),
            entry(11, "Marc Prost", &[], None),
            entry(12, "Claire Martine", &[], None),
        ],
    )
}

fn english() -> Directory {
    directory(
        Language::En,
        vec![
            entry(101, "John Smith", &[], None),
            entry(102, "Mary Johnson", &[], None),
            entry(103, "Catherine Thompson", &[], None),
            entry(104, "Bakery", &["bread"], None),
            entry(106, "Anna Smith", &[], None),
            entry(107, "Stephen Clarke", &[], Some("Pharmacy")),
        ],
    )
}

fn korean() -> Directory {
    directory(
        Language::Ko,
        vec![
            entry(201, "김민수", &[], None),
            entry(202, "이지은", &[], None),
        ],
    )
}

/// An N-best list as written in the tables: `(text, confidence)`, best first.
type NBest<'a> = &'a [(&'a str, f32)];

fn rec(alternatives: NBest<'_>) -> Recognition {
    Recognition {
        alternatives: alternatives
            .iter()
            .map(|(text, confidence)| Hypothesis {
                text: (*text).to_owned(),
                confidence: *confidence,
            })
            .collect(),
        in_grammar: None,
    }
}

use Decision::{Confirm, Disambiguate, NoMatch, Transfer};

fn ids(ids: &[i64]) -> Vec<EntryId> {
    ids.iter().copied().map(EntryId).collect()
}

/// Runs `(what, N-best, expected)` cases against one directory.
/// Also checks that the decision does not depend on the order of the
/// directory's entries (ties are broken by name and id, not by position).
fn check_decisions(dir: &Directory, cases: &[(&str, NBest<'_>, Decision)]) {
    let index = NameIndex::build(dir).expect("index builds");
    let mut reversed = dir.clone();
    reversed.entries.reverse();
    let reversed_index = NameIndex::build(&reversed).expect("index builds");
    let thresholds = Thresholds::default();
    for (what, alternatives, expected) in cases {
        let recognition = rec(alternatives);
        let got = decide(&index, &recognition, &thresholds);
        assert_eq!(
            &got,
            expected,
            "{what}: {alternatives:?}; ranking: {:#?}",
            rank(&index, &recognition)
        );
        let got_reversed = decide(&reversed_index, &recognition, &thresholds);
        assert_eq!(&got_reversed, expected, "{what}, entries reversed");
    }
}

#[test]
fn french_decisions() {
    check_decisions(
        &french(),
        &[
            (
                "exact, confident",
                &[("Sophie Martin", 0.9)],
                Transfer(EntryId(1)),
            ),
            (
                "exact, unsure",
                &[("sophie martin", 0.6)],
                Confirm(EntryId(1)),
            ),
            ("exact, too unsure", &[("sophie martin", 0.3)], NoMatch),
            (
                "last name first",
                &[("martin sophie", 0.9)],
                Transfer(EntryId(1)),
            ),
            (
                "accents dropped",
                &[("herve leclerc", 0.9)],
                Transfer(EntryId(3)),
            ),
            (
                "accents and case",
                &[("HERVÉ LECLERC", 0.9)],
                Transfer(EntryId(3)),
            ),
            (
                "carrier phrases",
                &[(
                    "euh je voudrais parler à Hervé Leclerc s'il vous plaît",
                    0.9,
                )],
                Transfer(EntryId(3)),
            ),
            (
                "carrier + department prefix",
                &[("passez-moi le rayon boulangerie", 0.9)],
                Transfer(EntryId(6)),
            ),
            ("alias", &[("la boulangerie", 0.9)], Transfer(EntryId(6))),
            (
                "alias inside carrier phrase",
                &[("je voudrais la boulangerie merci", 0.9)],
                Transfer(EntryId(6)),
            ),
            (
                "alias with apostrophe",
                &[("l'accueil", 0.9)],
                Transfer(EntryId(7)),
            ),
            ("department", &[("caisses", 0.9)], Transfer(EntryId(1))),
            (
                "phonetic last name",
                &[("Prodome", 0.95)],
                Confirm(EntryId(4)),
            ),
            (
                "phonetic full name",
                &[("jean prodome", 0.95)],
                Transfer(EntryId(4)),
            ),
            (
                "phonetic first name",
                &[("filip gauthier", 0.9)],
                Confirm(EntryId(10)),
            ),
            ("fuzzy typo", &[("sophie marton", 0.9)], Confirm(EntryId(1))),
            (
                "fuzzy never transfers",
                &[("sophie marton", 1.0)],
                Confirm(EntryId(1)),
            ),
            ("first name alone", &[("claire", 0.9)], Confirm(EntryId(12))),
            (
                "first name in a sentence",
                &[("je voudrais parler à claire", 0.9)],
                Confirm(EntryId(12)),
            ),
            ("namesakes", &[("Martin", 0.9)], Disambiguate(ids(&[2, 1]))),
            (
                "namesakes after a title",
                &[("monsieur martin s'il vous plaît", 0.9)],
                Disambiguate(ids(&[2, 1])),
            ),
            ("namesakes, unsure", &[("martin", 0.4)], NoMatch),
            (
                "namesake beside an exact full name",
                &[("paul martin", 0.9)],
                Transfer(EntryId(2)),
            ),
            (
                "too close to call: one question naming both",
                &[("sophie martin", 0.62), ("martine girard", 0.60)],
                Disambiguate(vec![EntryId(1), EntryId(8)]),
            ),
            (
                "n-best: second alternative",
                &[("sophie marteau", 0.5), ("sophie martin", 0.5)],
                Confirm(EntryId(1)),
            ),
            ("disabled entry", &[("bernard petit", 0.95)], NoMatch),
            ("out of directory", &[("jacques chirac", 0.9)], NoMatch),
            ("only carrier words", &[("bonjour", 0.9)], NoMatch),
            ("nothing heard", &[], NoMatch),
            ("empty text", &[("", 0.9)], NoMatch),
        ],
    );
}

#[test]
fn english_decisions() {
    check_decisions(
        &english(),
        &[
            ("exact", &[("john smith", 0.9)], Transfer(EntryId(101))),
            (
                "carrier phrases",
                &[("I'd like to speak to John Smith please", 0.9)],
                Transfer(EntryId(101)),
            ),
            (
                "carrier phrases 2",
                &[("um can I talk to the bakery thanks", 0.85)],
                Transfer(EntryId(104)),
            ),
            ("alias", &[("bread", 0.9)], Transfer(EntryId(104))),
            (
                "department",
                &[("the pharmacy please", 0.9)],
                Transfer(EntryId(107)),
            ),
            (
                "namesakes",
                &[("smith", 0.9)],
                Disambiguate(ids(&[106, 101])),
            ),
            (
                "phonetic first name",
                &[("jon smith", 0.9)],
                Confirm(EntryId(101)),
            ),
            (
                "phonetic last name",
                &[("stephen clark", 0.9)],
                Confirm(EntryId(107)),
            ),
            (
                "phonetic, very confident",
                &[("kathryn thompson", 0.97)],
                Transfer(EntryId(103)),
            ),
            (
                "transposed letters",
                &[("mary jonhson", 0.9)],
                Confirm(EntryId(102)),
            ),
            (
                "fuzzy, two edits",
                &[("catherine thomsen", 0.95)],
                Confirm(EntryId(103)),
            ),
            (
                "too close to call: one question naming both",
                &[("mary johnson", 0.6), ("john smith", 0.58)],
                Disambiguate(vec![EntryId(102), EntryId(101)]),
            ),
            ("out of directory", &[("barack obama", 0.9)], NoMatch),
        ],
    );
}

#[test]
fn korean_decisions() {
    check_decisions(
        &korean(),
        &[
            ("exact", &[("김민수", 0.9)], Transfer(EntryId(201))),
            (
                "carrier phrases",
                &[("김민수 씨 좀 바꿔 주세요", 0.9)],
                Transfer(EntryId(201)),
            ),
            ("unknown", &[("박서준", 0.9)], NoMatch),
        ],
    );
}

#[test]
fn margin_is_configurable() {
    let index = NameIndex::build(&french()).expect("index builds");
    let close = rec(&[("sophie martin", 0.62), ("martine girard", 0.60)]);
    let cases = [
        (
            Thresholds::default(),
            Disambiguate(vec![EntryId(1), EntryId(8)]),
        ),
        (
            Thresholds {
                margin: 0.0,
                ..Thresholds::default()
            },
            Confirm(EntryId(1)),
        ),
        (
            Thresholds {
                margin: 0.01,
                ..Thresholds::default()
            },
            Confirm(EntryId(1)),
        ),
        (
            Thresholds {
                margin: 0.03,
                ..Thresholds::default()
            },
            Disambiguate(vec![EntryId(1), EntryId(8)]),
        ),
    ];
    for (thresholds, expected) in cases {
        assert_eq!(
            decide(&index, &close, &thresholds),
            expected,
            "{thresholds:?}"
        );
    }
}

#[test]
fn namesakes_within_margin_are_offered_together() {
    // "Martin" is the whole name of one entry (weight 1.0) and the last name
    // of another (0.95): the scores differ by less than the margin, and both
    // were matched through the same spoken form, so the caller chooses.
    let dir = directory(
        Language::Fr,
        vec![
            entry(1, "Martin", &[], None),
            entry(2, "Sophie Martin", &[], None),
            entry(3, "Luc Martinez", &[], None),
        ],
    );
    check_decisions(
        &dir,
        &[
            (
                "same form, different kinds",
                &[("martin", 0.9)],
                Disambiguate(ids(&[1, 2])),
            ),
            (
                "full name wins",
                &[("sophie martin", 0.9)],
                Transfer(EntryId(2)),
            ),
        ],
    );
}

#[test]
fn threshold_validation() {
    let cases = [
        (Thresholds::default(), true),
        (
            Thresholds {
                accept: 1.0,
                confirm: 0.0,
                margin: 0.0,
                ..Thresholds::default()
            },
            true,
        ),
        (
            Thresholds {
                accept: 0.5,
                confirm: 0.5,
                margin: 0.1,
                ..Thresholds::default()
            },
            true,
        ),
        (
            Thresholds {
                accept: 0.4,
                confirm: 0.5,
                margin: 0.1,
                ..Thresholds::default()
            },
            false,
        ),
        (
            Thresholds {
                accept: 1.1,
                confirm: 0.5,
                margin: 0.1,
                ..Thresholds::default()
            },
            false,
        ),
        (
            Thresholds {
                accept: 0.8,
                confirm: -0.1,
                margin: 0.1,
                ..Thresholds::default()
            },
            false,
        ),
        (
            Thresholds {
                accept: 0.8,
                confirm: 0.4,
                margin: 1.0,
                ..Thresholds::default()
            },
            false,
        ),
        (
            Thresholds {
                accept: f32::NAN,
                confirm: 0.4,
                margin: 0.1,
                ..Thresholds::default()
            },
            false,
        ),
    ];
    for (thresholds, valid) in cases {
        assert_eq!(thresholds.validate().is_ok(), valid, "{thresholds:?}");
    }
}

#[test]
fn thresholds_read_from_config_with_defaults() {
    let cases = [
        ("", Thresholds::default()),
        (
            "accept = 0.9",
            Thresholds {
                accept: 0.9,
                ..Thresholds::default()
            },
        ),
        (
            "accept = 0.7\nconfirm = 0.3\nmargin = 0.2",
            Thresholds {
                accept: 0.7,
                confirm: 0.3,
                margin: 0.2,
                ..Thresholds::default()
            },
        ),
    ];
    for (text, expected) in cases {
        let parsed: Thresholds = toml::from_str(text).expect("valid thresholds");
        assert_eq!(parsed, expected, "{text:?}");
    }
    assert!(
        toml::from_str::<Thresholds>("acept = 0.9").is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn homonyms_are_all_kept() {
    let index = NameIndex::build(&french()).expect("index builds");
    let found: Vec<EntryId> = index.exact("martin").into_iter().map(|h| h.entry).collect();
    assert_eq!(found, ids(&[1, 2]));
    assert!(
        index.exact("bernard petit").is_empty(),
        "disabled entries are not indexed"
    );
}

#[test]
fn keypad_search_by_name_prefix() {
    let index = NameIndex::build(&french()).expect("index builds");
    let cases: &[(&str, &[i64])] = &[
        // s-o-p/r-h/i: Sophie and Sorin.
        ("7674", &[1, 5]),
        ("76744", &[1]),
        ("76746", &[5]),
        // "mart": Martine Girard, Paul Martin, Sophie Martin, Claire Martine (display-name order).
        ("6278", &[12, 8, 2, 1]),
        // "prost".
        ("7767", &[11]),
        // "herve", accent stripped.
        ("43783", &[3]),
        // Separators a caller's phone may send are ignored.
        ("4378#", &[3]),
        ("", &[]),
        ("999", &[]),
    ];
    for (digits, expected) in cases {
        assert_eq!(
            index.keypad_search(digits),
            ids(expected),
            "digits {digits:?}"
        );
    }
    assert!(
        index.keypad_search("2").len() > 1,
        "one digit finds every a/b/c name"
    );
}

#[test]
fn yes_no_from_n_best() {
    let cases: &[(Language, NBest<'_>, Option<bool>)] = &[
        (Language::Fr, &[("oui", 0.9)], Some(true)),
        (Language::Fr, &[("oui c'est ça merci", 0.9)], Some(true)),
        (Language::Fr, &[("non merci", 0.8)], Some(false)),
        (Language::Fr, &[("non c'est pas ça", 0.8)], Some(false)),
        (Language::Fr, &[("oui", 0.5), ("non", 0.4)], Some(true)),
        (Language::Fr, &[("euh", 0.5), ("oui", 0.3)], Some(true)),
        (
            Language::Fr,
            &[("euh", 0.5), ("oui", 0.3), ("non", 0.2)],
            None,
        ),
        (Language::Fr, &[("sophie martin", 0.9)], None),
        (Language::Fr, &[], None),
        (Language::En, &[("yes please", 0.9)], Some(true)),
        (Language::En, &[("yeah", 0.9)], Some(true)),
        (Language::En, &[("no", 0.9)], Some(false)),
        (Language::En, &[("nope that's not it", 0.9)], Some(false)),
        (Language::En, &[("oui", 0.9)], None),
        (Language::Ko, &[("네", 0.9)], Some(true)),
        (Language::Ko, &[("아니요", 0.9)], Some(false)),
    ];
    for (language, alternatives, expected) in cases {
        assert_eq!(
            decide_yes_no(&rec(alternatives), *language),
            *expected,
            "{language:?} {alternatives:?}"
        );
    }
}

fn pair_ids(names: &SoundAlikes) -> Vec<(EntryId, EntryId)> {
    names.pairs.iter().map(|p| (p.first, p.second)).collect()
}

#[test]
fn similar_names_report() {
    let dir = french();
    let found = similar_names(&dir, Language::Fr, 100).expect("index builds");
    // Sophie/Paul Martin share a last name; Claire Martine's last name is one
    // edit (or one sound) from theirs. Martine Girard's first name is not a
    // name callers are asked to say: she is nobody's sound-alike.
    assert_eq!(
        pair_ids(&found),
        vec![(EntryId(1), EntryId(2)), (EntryId(1), EntryId(12)), (EntryId(2), EntryId(12))]
    );
    assert_eq!((found.total_pairs, found.entries_with_sound_alikes, found.capped_entries), (3, 3, 0));
    assert_eq!(
        found.pairs[0].reason,
        SoundAlikeReason { kind: SoundAlikeKind::SameName, first_form: "martin".into(), second_form: "martin".into() }
    );
    assert_eq!(found.pairs[0].reason.to_string(), "both are called “martin”");

    let mut dupond = dir.clone();
    dupond.entries.push(entry(13, "Luc Dupond", &[], None));
    let found = similar_names(&dupond, Language::Fr, 100).expect("index builds");
    let dupont = found.pairs.iter().find(|p| (p.first, p.second) == (EntryId(5), EntryId(13)));
    assert_eq!(
        dupont.map(|p| &p.reason),
        Some(&SoundAlikeReason { kind: SoundAlikeKind::SameSound, first_form: "dupont".into(), second_form: "dupond".into() }),
        "Dupont/Dupond sound alike: {:?}",
        found.pairs
    );

    let english_pairs = similar_names(&english(), Language::En, 100).expect("index builds");
    assert_eq!(pair_ids(&english_pairs), vec![(EntryId(101), EntryId(106))], "John and Anna Smith");
}

/// A shared department or a shared first name is not a sound-alike; a shared
/// last name or alias is, and says so.
#[test]
fn sound_alike_says_why_and_ignores_departments_and_first_names() {
    let sophie_a = entry(1, "Sophie Durand", &[], Some("Caisses"));
    let sophie_b = entry(2, "Sophie Leroy", &[], Some("Caisses"));
    let paul = entry(3, "Paul Durand", &["Polo"], None);
    let pol = entry(4, "Marc Blanc", &["Pollo"], None);
    assert_eq!(sound_alike(&sophie_a, &sophie_b, Language::Fr), None);
    assert_eq!(
        sound_alike(&sophie_a, &paul, Language::Fr),
        Some(SoundAlikeReason { kind: SoundAlikeKind::SameName, first_form: "durand".into(), second_form: "durand".into() })
    );
    let polo = sound_alike(&paul, &pol, Language::Fr).expect("Polo/Pollo sound alike");
    assert_eq!((polo.first_form.as_str(), polo.second_form.as_str()), ("polo", "pollo"));
    assert_eq!(sound_alike(&paul, &paul, Language::Fr), None, "an entry is not its own sound-alike");
    let mut disabled = paul.clone();
    disabled.id = EntryId(5);
    disabled.enabled = false;
    assert_eq!(sound_alike(&sophie_a, &disabled, Language::Fr), None);

    let found = similar_names(&directory(Language::Fr, vec![sophie_a, sophie_b, paul, pol]), Language::Fr, 10)
        .expect("index builds");
    assert_eq!(pair_ids(&found), vec![(EntryId(1), EntryId(3)), (EntryId(3), EntryId(4))]);
}

/// 300 identical names: each entry gets at most its cap of sound-alikes, the
/// count says how many entries were capped, and nothing is quadratic.
#[test]
fn similar_names_are_bounded_per_entry() {
    let entries = (0..300).map(|i| entry(i + 1, "Agent Martin", &[], None)).collect();
    let found = similar_names(&directory(Language::Fr, entries), Language::Fr, 50).expect("index builds");
    assert_eq!(found.pairs.len(), 50);
    assert_eq!(found.entries_with_sound_alikes, 300);
    assert_eq!(found.capped_entries, 300);
    assert!(found.total_pairs <= 300 * SOUND_ALIKES_PER_ENTRY, "{} pairs", found.total_pairs);
    assert!(found.total_pairs >= 300 * SOUND_ALIKES_PER_ENTRY / 2, "{} pairs", found.total_pairs);
}

/// Random directories drawn from pools of names that collide in every way the
/// check looks at (namesakes, shared phonetic keys, one edit, short forms
/// under the fuzzy minimum, carrier words, disabled entries, three
/// languages): the indexed `similar_names` (uncapped) gives exactly the pairs
/// and reasons of the pairwise `sound_alike` over every two entries. Seeded, so a failure names its seed.
#[test]
fn similar_names_agrees_with_the_quadratic_reference() {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    const FIRST: &[&str] = &[
        "Sophie", "Sofie", "Paul", "Pol", "Léa", "Lea", "Li", "Lin", "Lina", "Jean", "Jeanne", "Hervé",
        "John", "Jon", "Anna", "Ana", "Marc", "Mark", "Claire", "Clair", "민수", "지은",
    ];
    const LAST: &[&str] = &[
        "Martin", "Martine", "Martins", "Dupont", "Dupond", "Du Pont", "Smith", "Smyth", "Leclerc",
        "Leclercq", "Prodhomme", "Prodome", "Thomas", "Tomas", "Roy", "Roi", "Gauthier", "Gautier",
        "김", "이",
    ];
    const OTHER: &[&str] = &[
        "la boulangerie", "boulangerie", "le pain", "pain", "bread", "bakery", "accueil", "l'accueil",
        "caisses", "caisse", "standard", "rayon 1", "rayon 2", "drive",
    ];
    let languages = [Language::Fr, Language::En, Language::Ko];
    let mut pairs_seen = 0;
    for seed in 0..200u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let count = rng.random_range(0..40);
        let mut pick = |pool: &[&'static str]| pool[rng.random_range(0..pool.len())];
        let mut entries = Vec::new();
        for id in 0..count {
            let name = match id % 4 {
                0 => pick(LAST).to_owned(),
                1 => pick(OTHER).to_owned(),
                _ => format!("{} {}", pick(FIRST), pick(LAST)),
            };
            let aliases: Vec<&str> = (0..id % 3).map(|_| pick(OTHER)).collect();
            let department = (id % 5 == 0).then(|| pick(OTHER));
            let mut e = entry(id, &name, &aliases, department);
            e.enabled = id % 7 != 3;
            entries.push(e);
        }
        let language = languages[seed as usize % languages.len()];
        let dir = directory(language, entries);
        for check_language in languages {
            let fast = super::similar::similar_names_capped(&dir, check_language, usize::MAX, usize::MAX, usize::MAX)
                .expect("index builds");
            let fast_pairs: Vec<_> = fast.pairs.iter().map(|p| (p.first, p.second, p.reason.kind)).collect();
            let reference = super::similar::similar_names_reference(&dir, check_language);
            assert_eq!(fast_pairs, reference, "seed {seed}, store {language:?}, checked as {check_language:?}");
            for p in &fast.pairs {
                let a = dir.entries.iter().find(|e| e.id == p.first).expect("listed entry exists");
                let b = dir.entries.iter().find(|e| e.id == p.second).expect("listed entry exists");
                let kind = super::similar::forms_meet(&p.reason.first_form, &p.reason.second_form, check_language);
                assert_eq!(kind, Some(p.reason.kind), "seed {seed}: the reason's forms meet as it says");
                assert!(sound_alike(a, b, check_language).is_some());
            }
            let with: std::collections::BTreeSet<EntryId> = reference.iter().flat_map(|p| [p.0, p.1]).collect();
            assert_eq!(fast.entries_with_sound_alikes, with.len(), "seed {seed}");
            assert_eq!(fast.capped_entries, 0);
            // Capped: a subset of the reference, at most the cap per entry
            // from its own side, every entry with a sound-alike still counted.
            let capped = super::similar::similar_names_capped(&dir, check_language, usize::MAX, 2, 3).expect("index builds");
            for p in &capped.pairs {
                assert!(reference.iter().any(|r| (r.0, r.1) == (p.first, p.second)), "seed {seed}: {p:?} not in the reference");
            }
            assert!(capped.total_pairs <= 2 * with.len());
            pairs_seen += fast.pairs.len();
        }
    }
    // The pools make collisions common: an equivalence over empty results
    // would prove nothing.
    assert!(pairs_seen > 3_000, "only {pairs_seen} pairs over all seeds");
}

#[test]
fn lookup_reports_how_each_name_was_found() {
    let french_index = NameIndex::build(&french()).expect("index builds");
    let english_index = NameIndex::build(&english()).expect("index builds");
    let cases: &[(&NameIndex, &str, i64, FormKind, MatchMethod)] = &[
        (
            &french_index,
            "jean prodhomme",
            4,
            FormKind::FullName,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "prodhomme jean",
            4,
            FormKind::ReversedName,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "prodhomme",
            4,
            FormKind::LastName,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "prodome",
            4,
            FormKind::LastName,
            MatchMethod::Phonetic,
        ),
        (
            &french_index,
            "jean prodome",
            4,
            FormKind::FullName,
            MatchMethod::Phonetic,
        ),
        (
            &french_index,
            "sophie marton",
            1,
            FormKind::FullName,
            MatchMethod::Fuzzy { distance: 1 },
        ),
        (
            &french_index,
            "herve leclerc",
            3,
            FormKind::FullName,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "la boulangerie",
            6,
            FormKind::Alias,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "le pain",
            6,
            FormKind::Alias,
            MatchMethod::Exact,
        ),
        (
            &french_index,
            "caisses",
            1,
            FormKind::Department,
            MatchMethod::Exact,
        ),
        (
            &english_index,
            "jon smith",
            101,
            FormKind::FullName,
            MatchMethod::Phonetic,
        ),
        (
            &english_index,
            "stephen clark",
            107,
            FormKind::FullName,
            MatchMethod::Phonetic,
        ),
        (
            &english_index,
            "mary jonhson",
            102,
            FormKind::FullName,
            MatchMethod::Phonetic,
        ),
        (
            &english_index,
            "catherine thomsen",
            103,
            FormKind::FullName,
            MatchMethod::Fuzzy { distance: 2 },
        ),
    ];
    for (index, query, entry, kind, method) in cases {
        let hits = index.lookup(query);
        let best = hits
            .first()
            .unwrap_or_else(|| panic!("{query:?} finds nothing"));
        assert_eq!(
            (best.entry, best.kind, best.method),
            (EntryId(*entry), *kind, *method),
            "{query:?}: {hits:#?}"
        );
    }
    // Quality order the scoring relies on: exact > alias > phonetic > fuzzy.
    let quality = |index: &NameIndex, query: &str| index.lookup(query)[0].quality;
    let exact = quality(&french_index, "jean prodhomme");
    let alias = quality(&french_index, "le pain");
    let phonetic = quality(&french_index, "jean prodome");
    let fuzzy = quality(&french_index, "sophie marton");
    assert!(
        exact > alias && alias > phonetic && phonetic > fuzzy,
        "{exact} {alias} {phonetic} {fuzzy}"
    );
}

#[test]
fn alternatives_naming_one_entry_add_up() {
    // Confidences are shares of one N-best list: the share that means an
    // entry is the sum over its spellings, so two equal spellings of one name
    // make a sure entry, while two different entries at 0.5 stay too close.
    let dir = directory(
        Language::Fr,
        vec![
            entry(1, "Hervé Prodhomme", &["Herve Prodhomme"], None),
            entry(2, "Sophie Martin", &[], None),
            entry(3, "Paul Leclerc", &[], None),
        ],
    );
    check_decisions(
        &dir,
        &[
            (
                "two spellings of one name, half each",
                &[("hervé prodhomme", 0.5), ("herve prodhomme", 0.5)],
                Transfer(EntryId(1)),
            ),
            (
                "name and carrier phrase variant",
                &[
                    ("sophie martin", 0.45),
                    ("sophie martin s'il vous plaît", 0.4),
                    ("paul leclerc", 0.15),
                ],
                Transfer(EntryId(2)),
            ),
            (
                "two entries, half each: one question naming both",
                &[("sophie martin", 0.5), ("paul leclerc", 0.5)],
                Disambiguate(vec![EntryId(3), EntryId(2)]),
            ),
            (
                "a sure name split three ways stays sure, capped at 1",
                &[
                    ("sophie martin", 0.6),
                    ("sophie martin", 0.3),
                    ("sophie martin", 0.3),
                ],
                Transfer(EntryId(2)),
            ),
        ],
    );
    let index = NameIndex::build(&dir).expect("index builds");
    let ranked = rank(
        &index,
        &rec(&[
            ("sophie martin", 0.6),
            ("sophie martin", 0.3),
            ("sophie martin", 0.3),
        ]),
    );
    assert_eq!(ranked[0].score, 1.0, "capped: {ranked:?}");
    assert_eq!(
        ranked[0].confidence, 0.6,
        "the biggest contributor is reported"
    );
}

/// Issue 10's store: a department with its own entry and staff in it, a pair
/// of sound-alikes (same sounds, different spellings), an operator.
fn issue_ten() -> Directory {
    directory(
        Language::En,
        vec![
            entry(301, "Jon Smith", &[], Some("Dairy")),
            entry(302, "John Smyth", &[], Some("Security")),
            entry(303, "Bakery", &[], Some("Bakery")),
            entry(304, "Paula Baker", &[], Some("Bakery")),
            entry(305, "Tom Bread", &[], Some("Bakery")),
            entry(306, "Mary Johnson", &[], Some("Dairy")),
            entry(307, "Catherine Thompson", &[], Some("Security")),
        ],
    )
}

fn decide_issue_ten(attempts: &[Recognition], declined: &[EntryId], t: &Thresholds) -> Decision {
    let dir = issue_ten();
    let index = NameIndex::build(&dir).unwrap();
    let alikes = ConfusableNames::build(&index, &dir);
    let attempts: Vec<&Recognition> = attempts.iter().collect();
    decide_with(&index, &alikes, &attempts, declined, t)
}

fn with_in_grammar(mut r: Recognition, confidence: f32) -> Recognition {
    r.in_grammar = Some(confidence);
    r
}

#[test]
fn sound_alikes_are_full_names_that_sound_the_same() {
    let dir = issue_ten();
    let index = NameIndex::build(&dir).unwrap();
    let alikes = ConfusableNames::build(&index, &dir);
    assert_eq!(alikes.of(EntryId(301)), [EntryId(302)]);
    assert_eq!(alikes.of(EntryId(302)), [EntryId(301)]);
    assert!(alikes.of(EntryId(306)).is_empty(), "{:?}", alikes.of(EntryId(306)));
}

#[test]
fn a_sound_alike_is_one_question_never_a_blind_transfer() {
    let t = Thresholds::default();
    // Heard sure, spelt as one of the pair: both offered, the heard one first.
    let sure = decide_issue_ten(&[rec(&[("jon smith", 1.0)])], &[], &t);
    assert_eq!(sure, Decision::Disambiguate(vec![EntryId(301), EntryId(302)]));
    // A coin toss between the two spellings: the same one question.
    let toss = decide_issue_ten(&[rec(&[("john smyth", 0.5), ("jon smith", 0.5)])], &[], &t);
    match toss {
        Decision::Disambiguate(entries) => {
            assert_eq!(entries.len(), 2);
            assert!(entries.contains(&EntryId(301)) && entries.contains(&EntryId(302)));
        }
        other => panic!("coin toss: {other:?}"),
    }
    // Someone with no sound-alike is still transferred at once.
    assert_eq!(
        decide_issue_ten(&[rec(&[("mary johnson", 1.0)])], &[], &t),
        Decision::Transfer(EntryId(306))
    );
}

#[test]
fn close_candidates_become_one_question_not_a_silent_no_match() {
    let t = Thresholds::default();
    let decision = decide_issue_ten(
        &[rec(&[("mary johnson", 0.5), ("catherine thompson", 0.5)])],
        &[],
        &t,
    );
    assert_eq!(decision, Decision::Disambiguate(vec![EntryId(307), EntryId(306)]));
}

#[test]
fn a_department_request_goes_to_the_departments_own_entry() {
    let t = Thresholds::default();
    for said in ["bakery", "the bakery please", "can i speak to bakery"] {
        assert_eq!(
            decide_issue_ten(&[rec(&[(said, 1.0)])], &[], &t),
            Decision::Transfer(EntryId(303)),
            "{said}"
        );
    }
    // A department without its own entry still offers its staff.
    match decide_issue_ten(&[rec(&[("security", 1.0)])], &[], &t) {
        Decision::Disambiguate(entries) => assert!(entries.contains(&EntryId(307))),
        other => panic!("security: {other:?}"),
    }
}

#[test]
fn operator_and_help_words_in_english_and_french() {
    let t = Thresholds::default();
    for said in ["operator", "reception", "someone", "a person", "can i speak to someone please"] {
        assert_eq!(decide_issue_ten(&[rec(&[(said, 0.9)])], &[], &t), Decision::Operator, "{said}");
    }
    for said in ["repeat", "help"] {
        assert_eq!(decide_issue_ten(&[rec(&[(said, 0.9)])], &[], &t), Decision::Help, "{said}");
    }
    let fr = french();
    let index = NameIndex::build(&fr).unwrap();
    for (said, expected) in [
        ("je voudrais parler à quelqu'un", Decision::Operator),
        ("répéter", Decision::Help),
        ("aide", Decision::Help),
    ] {
        assert_eq!(decide(&index, &rec(&[(said, 0.9)]), &t), expected, "{said}");
    }
}

#[test]
fn low_in_grammar_confidence_rejects_or_holds_back_the_transfer() {
    let t = Thresholds {
        reject: 0.3,
        trust: 0.6,
        ..Thresholds::default()
    };
    let heard = rec(&[("mary johnson", 1.0)]);
    assert_eq!(
        decide_issue_ten(&[with_in_grammar(heard.clone(), 0.1)], &[], &t),
        Decision::NoMatch,
        "out-of-grammar speech forced onto a name"
    );
    assert_eq!(
        decide_issue_ten(&[with_in_grammar(heard.clone(), 0.5)], &[], &t),
        Decision::Confirm(EntryId(306))
    );
    assert_eq!(
        decide_issue_ten(&[with_in_grammar(heard.clone(), 0.9)], &[], &t),
        Decision::Transfer(EntryId(306))
    );
    assert_eq!(
        decide_issue_ten(&[heard], &[], &t),
        Decision::Transfer(EntryId(306)),
        "an engine that measures nothing: scores alone"
    );
}

#[test]
fn a_second_attempt_adds_its_evidence_and_skips_declined_names() {
    let t = Thresholds::default();
    let first = rec(&[("mary johnson", 0.45), ("catherine thompson", 0.2)]);
    let second = rec(&[("mary johnson", 0.45), ("bakery", 0.3)]);
    assert_eq!(
        decide_issue_ten(&[second.clone()], &[], &t),
        Decision::Confirm(EntryId(306)),
        "alone, the second attempt is only worth a question"
    );
    assert_eq!(
        decide_issue_ten(&[first, second], &[], &t),
        Decision::Transfer(EntryId(306)),
        "0.45 + 0.45: sure"
    );
    // Declined: never offered again, the next candidate is.
    let again = rec(&[("mary johnson", 0.6), ("catherine thompson", 0.4)]);
    assert_eq!(
        decide_issue_ten(&[again], &[EntryId(306)], &t),
        Decision::NoMatch,
        "0.4 is under confirm once Mary is out"
    );
    let both = rec(&[("jon smith", 1.0)]);
    assert_eq!(
        decide_issue_ten(&[both], &[EntryId(302)], &t),
        Decision::Transfer(EntryId(301)),
        "the declined sound-alike is no longer a doubt"
    );
}
