//! PocketSphinx through the `Engine` trait: the English demo store's spoken names
//! (telephone-channel fixtures) are recognised with its grammar; names missing
//! from the CMU dictionary get espeak-ng G2P pronunciations (measured against the
//! dictionary itself); unpronounceable words (quotes, backslashes) are reported
//! while the rest of the grammar still loads; decoders are pooled and reloaded
//! when the grammar changes.

mod asr_common;

use std::sync::OnceLock;

use asr_common::*;
use attendant::asr::sphinx::SphinxEngine;
use attendant::asr::sphinx::g2p::phone_edit_distance;
use attendant::asr::{AsrError, Engine, EngineKind, GrammarSpec, Meaning};
use attendant::directory::{EntryId, Language};

/// One model for the whole test binary.
fn engine() -> &'static SphinxEngine {
    static ENGINE: OnceLock<SphinxEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        SphinxEngine::from_manifest().expect("en-us model: run scripts/fetch-models.sh")
    })
}

#[test]
fn recognises_demo_store_fixtures() {
    let engine = engine();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&demo_store_en()))
        .expect("grammar");
    assert_eq!(grammar.engine(), EngineKind::Sphinx);
    assert!(grammar.rejected.is_empty(), "{:?}", grammar.rejected);
    let guessed: Vec<&str> = grammar.guessed.iter().map(|g| g.word.as_str()).collect();
    assert_eq!(
        guessed,
        ["hervé", "prodhomme"],
        "only the words missing from cmudict are guessed"
    );

    let outcomes = run_all(engine, &grammar, &fixtures("sphinx"));
    let oog = confidence_report(engine, &grammar, &outcomes);
    assert_eq!(oog.len(), 9, "out-of-grammar fixtures");
    assert_eq!(
        outcomes.len(),
        30,
        "fixture manifest changed: update the thresholds below"
    );
    // Measured with espeak-ng voices through the G.711 channel: 17 exact, 24 right
    // meaning, 25 with the meaning in the N-best (of 30). Regression guards.
    // Since the grammar holds the operator words (issue 10), one of those 24,
    // "paul martin" in the en-gb voice, is heard as "operator": 23 right
    // meaning, 25 in the N-best. Going to the operator is the safe outcome
    // (a person answers), so that case is allowed below; any other miss is not.
    let meaning = outcomes.iter().filter(|o| o.meaning).count();
    let in_nbest = outcomes.iter().filter(|o| o.in_nbest).count();
    assert!(meaning >= 22, "meaning-level top-1 fell to {meaning}/30");
    assert!(in_nbest >= 23, "meaning in N-best fell to {in_nbest}/30");
    for o in outcomes.iter().filter(|o| {
        ["sophie martin", "paul martin", "julie dubois"].contains(&o.fixture.expected.as_str())
    }) {
        let heard_operator = o.recognition.best().is_some_and(|best| {
            attendant::asr::grammar::stock_phrases(attendant::directory::Language::En)
                .operator
                .iter()
                .any(|word| *word == best.text)
        });
        assert!(
            o.exact || heard_operator,
            "{} ({}) must be recognised exactly (or, at worst, taken for the operator): {:?}",
            o.fixture.expected, o.fixture.voice, o.recognition.best()
        );
    }
    let herve = outcomes
        .iter()
        .filter(|o| o.fixture.expected == "hervé prodhomme" && o.exact)
        .count();
    assert!(herve >= 1, "a G2P-only name is recognised at least once");
    for o in &outcomes {
        let alts = &o.recognition.alternatives;
        assert!(alts.len() <= 5);
        assert!(
            alts.iter().all(|h| (0.0..=1.0).contains(&h.confidence)),
            "{alts:?}"
        );
        assert!(
            alts.iter()
                .skip(1)
                .all(|h| !grammar.meanings_of(&h.text).is_empty()),
            "alternatives are grammar sentences: {alts:?}"
        );
    }
}

/// Names that are in cmudict: the G2P's output is compared with the dictionary's.
const G2P_PROBE: &[&str] = &[
    "martin",
    "dubois",
    "bernard",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "vincent",
    "fournier",
    "girard",
    "mercier",
    "dupont",
    "lambert",
    "bonnet",
    "sophie",
    "julie",
    "paul",
    "pierre",
    "marie",
    "claire",
    "nicolas",
    "antoine",
    "lucas",
    "emma",
    "louis",
    "johnson",
    "smith",
    "williams",
    "brown",
    "jones",
    "miller",
    "wilson",
    "anderson",
    "taylor",
    "bakery",
    "hardware",
    "department",
    "pharmacy",
    "customer",
    "service",
    "butchery",
];

#[test]
fn g2p_against_cmudict() {
    let engine = engine();
    let words: Vec<&str> = G2P_PROBE
        .iter()
        .copied()
        .filter(|w| engine.dictionary_phones(w).is_some())
        .collect();
    assert!(words.len() >= 45, "probe words in cmudict: {}", words.len());
    let guesses = engine.g2p().pronounce(&words).expect("espeak-ng runs");
    let (mut errors, mut phones, mut exact) = (0, 0, 0);
    for (word, guess) in words.iter().zip(&guesses) {
        let reference: Vec<&str> = engine
            .dictionary_phones(word)
            .expect("in dict")
            .split(' ')
            .collect();
        let guess = guess.as_deref().expect("every probe word is pronounced");
        let hyp: Vec<&str> = guess.split(' ').collect();
        let d = phone_edit_distance(&reference, &hyp);
        errors += d;
        phones += reference.len();
        exact += usize::from(d == 0);
        if d > 0 {
            eprintln!("{word:<12} cmudict {:<24} g2p {guess}", reference.join(" "));
        }
    }
    let per = errors as f64 / phones as f64;
    eprintln!(
        "G2P on {} words: phone error rate {:.1}%, exact {exact}/{}",
        words.len(),
        per * 100.0,
        words.len()
    );
    // Measured on these 50 words: 8.0% phone error rate, 36/50 exact. Most errors
    // are unstressed vowels (AH vs IH) and French names read the English way.
    assert!(per < 0.11, "phone error rate {per:.3}");
    assert!(exact >= 33, "exact {exact}/{}", words.len());
}

#[test]
fn unpronounceable_words_are_reported_and_the_rest_loads() {
    let engine = engine();
    let dir = store(
        Language::En,
        vec![
            entry(1, "Paul Martin", &[], None),
            entry(2, "Anne \"Nanou\" D\\Arc", &["Anne"], None),
            entry(3, "R2D2 Droid", &[], None),
            entry(4, "Jean-Pierre O'Brien", &[], None),
        ],
    );
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&dir))
        .expect("grammar");
    let rejected: Vec<(&str, Vec<&str>)> = grammar
        .rejected
        .iter()
        .map(|r| {
            (
                r.phrase.text.as_str(),
                r.unknown_words.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            ("anne \"nanou\" d\\arc", vec!["\"nanou\"", "d\\arc"]),
            ("r2d2 droid", vec!["r2d2"])
        ]
    );
    assert!(
        grammar
            .accepted
            .iter()
            .any(|p| p.text == "anne" && p.meaning == Meaning::Entry(EntryId(2))),
        "alias kept"
    );
    assert!(
        grammar
            .accepted
            .iter()
            .any(|p| p.text == "jean-pierre o'brien"),
        "hyphen and apostrophe are JSGF tokens"
    );
    let guessed: Vec<&str> = grammar.guessed.iter().map(|g| g.word.as_str()).collect();
    assert!(
        guessed.is_empty(),
        "jean-pierre, o'brien, anne and droid are all in cmudict: {guessed:?}"
    );
    assert!(
        !grammar.source_text().contains('"') && !grammar.source_text().contains('\\'),
        "{}",
        grammar.source_text()
    );

    let fixture = fixtures("sphinx")
        .into_iter()
        .find(|f| f.expected == "paul martin" && f.voice == "en-us")
        .expect("fixture");
    let recognition = recognize(engine, &grammar, &samples(&fixture));
    assert_eq!(
        recognition.best().map(|h| h.text.as_str()),
        Some("paul martin")
    );
}

#[test]
fn word_checks() {
    let engine = engine();
    let cases = [
        ("martin", true),
        ("prodhomme", true),
        ("o'brien", true),
        ("r2d2", false),
        ("\"nanou\"", false),
        ("", false),
    ];
    for (word, ok) in cases {
        assert_eq!(engine.can_recognize(word), ok, "can_recognize({word:?})");
    }
}

#[test]
fn wrong_language_and_empty_grammars_are_errors() {
    let engine = engine();
    assert!(matches!(
        engine.compile_grammar(&GrammarSpec::from_directory(&test_store_ko())),
        Err(AsrError::LanguageMismatch {
            engine: EngineKind::Sphinx,
            model: Language::En,
            grammar: Language::Ko
        })
    ));
    let nothing = GrammarSpec {
        language: Language::En,
        phrases: vec![],
        carriers: vec![],
    };
    assert!(matches!(
        engine.compile_grammar(&nothing),
        Err(AsrError::EmptyGrammar { rejected: 0 })
    ));
}

#[test]
fn audio_decoded_as_it_comes_gives_the_whole_utterance_result() {
    // Live calls feed 100 ms blocks while the caller speaks (upsampled as they
    // come); the result must be the one of the whole utterance given at once.
    let engine = engine();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&demo_store_en()))
        .expect("grammar");
    for fixture in fixtures("sphinx").iter().filter(|f| f.voice == "en-us") {
        let audio = samples(fixture);
        let mut whole = engine.recognizer(&grammar).expect("recognizer");
        whole.push_audio(&audio).expect("push");
        let whole = whole.finish().expect("finish");
        for block in [160, 800, 1234] {
            let mut streamed = engine.recognizer(&grammar).expect("recognizer");
            for piece in audio.chunks(block) {
                streamed.push_audio(piece).expect("push");
            }
            // Exactly the same: the utterance is decoded whole (batch CMN), so
            // neither the cuts nor the decoder's earlier utterances matter.
            assert_eq!(streamed.finish().expect("finish"), whole, "{} in blocks of {block}", fixture.file);
        }
    }
    // An abandoned recognizer leaves its decoder clean for the next utterance.
    let mut abandoned = engine.recognizer(&grammar).expect("recognizer");
    abandoned.push_audio(&vec![1000i16; 4000]).expect("push");
    drop(abandoned);
    let fixture = fixtures("sphinx").into_iter().find(|f| f.expected == "paul martin" && f.voice == "en-us").expect("fixture");
    let best = recognize(engine, &grammar, &samples(&fixture)).best().map(|h| h.text.clone());
    assert_eq!(best.as_deref(), Some("paul martin"));
}

#[test]
fn decoders_are_pooled_and_follow_the_grammar() {
    let engine = engine();
    let with_paul = engine
        .compile_grammar(&GrammarSpec::from_directory(&demo_store_en()))
        .expect("grammar");
    let without_paul = engine
        .compile_grammar(&GrammarSpec::from_directory(&store(
            Language::En,
            vec![
                entry(1, "Sophie Martin", &[], None),
                entry(2, "Julie Dubois", &[], None),
            ],
        )))
        .expect("grammar");
    let fixture = fixtures("sphinx")
        .into_iter()
        .find(|f| f.expected == "paul martin" && f.voice == "en-us")
        .expect("fixture");
    let audio = samples(&fixture);

    // Recognizers listening hold no decoder (an engine of its own, so that the
    // count is this test's); decoding borrows one and gives it back.
    let own = SphinxEngine::from_manifest().expect("PocketSphinx model");
    let listening: Vec<_> = (0..3)
        .map(|_| own.recognizer(&with_paul).expect("recognizer"))
        .collect();
    assert_eq!(own.idle_decoders(), 1, "the one loaded to check the model");
    for recognizer in listening {
        recognizer.finish().expect("finish");
    }
    assert_eq!(own.idle_decoders(), 1, "one decoder did all three");

    // The same pooled decoders switch grammars back and forth.
    for _ in 0..2 {
        let best = recognize(engine, &with_paul, &audio)
            .best()
            .map(|h| h.text.clone());
        assert_eq!(best.as_deref(), Some("paul martin"));
        let other = recognize(engine, &without_paul, &audio);
        assert!(
            other.alternatives.iter().all(|h| !h.text.contains("paul")),
            "{other:?}"
        );
    }
}

#[test]
fn a_missing_model_is_a_load_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dict = engine_dict();
    let cases = [
        (
            dir.path().join("hmm"),
            dir.path().join("absent.dict"),
            dir.path().join("absent.dict"),
        ),
        (
            dir.path().join("absent-hmm"),
            dict.clone(),
            dir.path().join("absent-hmm"),
        ),
    ];
    for (hmm, dict, blamed) in cases {
        match SphinxEngine::load(&hmm, &dict) {
            Err(AsrError::ModelLoad {
                engine: EngineKind::Sphinx,
                path,
            }) => assert_eq!(path, blamed),
            other => panic!("expected ModelLoad for {hmm:?} / {dict:?}, got {other:?}"),
        }
    }
}

/// The installed CMU dictionary (valid), to isolate a bad acoustic model path.
fn engine_dict() -> std::path::PathBuf {
    let manifest = attendant::asr::models::ModelManifest::find(
        &attendant::asr::models::default_manifest_dir(),
        EngineKind::Sphinx,
        Language::En,
    )
    .expect("manifest");
    let dir = manifest
        .installed_dir(&attendant::asr::models::default_deps_dir())
        .expect("installed");
    dir.join(manifest.sphinx.expect("sphinx files").dict)
}
