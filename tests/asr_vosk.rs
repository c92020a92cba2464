//! Vosk through the `Engine` trait (Korean model, the only Vosk model in a
//! registry): the Korean test store's spoken names are recognised with its
//! grammar; words outside the model's vocabulary are reported instead of being
//! silently dropped; a name with `"` and `\` leaves the JSON grammar valid; one
//! engine serves recognizers on several threads; a grammar compiled for the
//! other engine is refused.

mod asr_common;

use std::sync::{Arc, OnceLock};

use asr_common::*;
use attendant::asr::sphinx::SphinxEngine;
use attendant::asr::vosk::VoskEngine;
use attendant::asr::{AsrError, Engine, EngineKind, GrammarSpec, Meaning};
use attendant::directory::{EntryId, Language};

/// One model for the whole test binary (about 500 MiB; tests run in parallel).
fn engine() -> &'static VoskEngine {
    static ENGINE: OnceLock<VoskEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        VoskEngine::from_manifest(Language::Ko)
            .expect("Korean Vosk model: run scripts/fetch-models.sh")
    })
}

#[test]
fn recognises_korean_store_fixtures() {
    let engine = engine();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&test_store_ko()))
        .expect("grammar");
    assert_eq!(grammar.engine(), EngineKind::Vosk);
    assert!(
        grammar.rejected.is_empty(),
        "every word of the store is in the model: {:?}",
        grammar.rejected
    );

    let outcomes = run_all(engine, &grammar, &fixtures("vosk"));
    let oog = confidence_report(engine, &grammar, &outcomes);
    assert_eq!(oog.len(), 9, "out-of-grammar fixtures");
    assert_eq!(
        outcomes.len(),
        36,
        "fixture manifest changed: update the thresholds below"
    );
    // Measured with espeak-ng's Korean voices through the G.711 channel: 7 exact,
    // 10 right meaning, 15 with the meaning in the N-best (of 36). espeak-ng's
    // Korean is far from natural speech; these guard against regressions.
    let meaning = outcomes.iter().filter(|o| o.meaning).count();
    let in_nbest = outcomes.iter().filter(|o| o.in_nbest).count();
    assert!(meaning >= 9, "meaning-level top-1 fell to {meaning}/36");
    assert!(in_nbest >= 13, "meaning in N-best fell to {in_nbest}/36");
    for o in outcomes
        .iter()
        .filter(|o| ["네", "이서연"].contains(&o.fixture.expected.as_str()))
    {
        assert!(
            o.exact,
            "{} ({}) must be recognised exactly",
            o.fixture.expected, o.fixture.voice
        );
    }
    for o in &outcomes {
        let sum: f32 = o
            .recognition
            .alternatives
            .iter()
            .map(|h| h.confidence)
            .sum();
        assert!(
            o.recognition.alternatives.len() <= 5,
            "at most 5 alternatives"
        );
        assert!(
            o.recognition.alternatives.is_empty() || (sum - 1.0).abs() < 1e-3,
            "confidences sum to 1: {sum}"
        );
        assert!(
            o.recognition
                .alternatives
                .windows(2)
                .all(|w| w[0].confidence >= w[1].confidence),
            "N-best sorted by confidence"
        );
    }
}

#[test]
fn word_checks_use_the_model_vocabulary() {
    let engine = engine();
    let cases = [
        ("김민준", true),
        ("빵집", true),
        ("부탁드립니다", true),
        ("부탁합니다", false),
        ("맞아요", false),
        ("sophie", false),
        ("[unk]", false),
        ("", false),
        ("김민준 빵집", false),
    ];
    for (word, known) in cases {
        assert_eq!(engine.can_recognize(word), known, "can_recognize({word:?})");
    }
}

#[test]
fn unknown_names_are_reported_not_dropped() {
    let engine = engine();
    let dir = store(
        Language::Ko,
        vec![
            entry(1, "이서연", &[], None),
            entry(2, "Sophie Martin", &["김민준 sophie"], None),
            entry(3, "Anne \"Nanou\" D\\Arc", &[], None),
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
            ("anne \"nanou\" d\\arc", vec!["anne", "\"nanou\"", "d\\arc"]),
            ("sophie martin", vec!["sophie", "martin"]),
            ("김민준 sophie", vec!["sophie"]),
        ]
    );
    assert_eq!(
        grammar.unknown_words(),
        ["\"nanou\"", "anne", "d\\arc", "martin", "sophie"]
    );
    let sentences: Vec<String> =
        serde_json::from_str(grammar.source_text()).expect("grammar is valid JSON");
    assert!(sentences.contains(&"이서연".to_string()));
    assert!(
        !sentences.iter().any(|s| s.contains("sophie")),
        "a rejected phrase never reaches Vosk: {sentences:?}"
    );
    assert!(
        grammar
            .accepted
            .iter()
            .any(|p| p.meaning == Meaning::Entry(EntryId(1)))
    );

    // The grammar still works: 이서연 is recognised through it.
    let fixture = fixtures("vosk")
        .into_iter()
        .find(|f| f.expected == "이서연" && f.voice == "ko")
        .expect("fixture");
    let recognition = recognize(engine, &grammar, &samples(&fixture));
    assert_eq!(recognition.best().map(|h| h.text.as_str()), Some("이서연"));
}

#[test]
fn wrong_language_and_empty_grammars_are_errors() {
    let engine = engine();
    let english = GrammarSpec::from_directory(&demo_store_en());
    assert!(matches!(
        engine.compile_grammar(&english),
        Err(AsrError::LanguageMismatch {
            engine: EngineKind::Vosk,
            model: Language::Ko,
            grammar: Language::En
        })
    ));
    let nothing = GrammarSpec {
        language: Language::Ko,
        phrases: vec![],
        carriers: vec![],
    };
    assert!(matches!(
        engine.compile_grammar(&nothing),
        Err(AsrError::EmptyGrammar { rejected: 0 })
    ));
}

#[test]
fn partial_result_before_finish() {
    let engine = engine();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&test_store_ko()))
        .expect("grammar");
    let fixture = fixtures("vosk")
        .into_iter()
        .find(|f| f.expected == "이서연" && f.voice == "ko")
        .expect("fixture");
    let mut recognizer = engine.recognizer(&grammar).expect("recognizer");
    assert_eq!(recognizer.partial(), None, "nothing heard yet");
    recognizer.push_audio(&samples(&fixture)).expect("push");
    assert_eq!(recognizer.partial().as_deref(), Some("이서연"));
    let recognition = recognizer.finish().expect("finish");
    assert_eq!(recognition.best().map(|h| h.text.as_str()), Some("이서연"));
}

#[test]
fn one_engine_serves_recognizers_on_several_threads() {
    // A second, owned model: the Arc<dyn Engine> the runtime would hold.
    let engine: Arc<dyn Engine> = Arc::new(
        VoskEngine::from_manifest(Language::Ko)
            .expect("Korean Vosk model: run scripts/fetch-models.sh"),
    );
    let grammar = Arc::new(
        engine
            .compile_grammar(&GrammarSpec::from_directory(&test_store_ko()))
            .expect("grammar"),
    );
    let picked: Vec<Fixture> = fixtures("vosk")
        .into_iter()
        .filter(|f| ["네", "이서연", "아니요"].contains(&f.expected.as_str()))
        .collect();
    let sequential: Vec<_> = picked
        .iter()
        .map(|f| recognize(engine.as_ref(), &grammar, &samples(f)))
        .collect();
    let threads: Vec<_> = picked
        .iter()
        .cloned()
        .map(|f| {
            let (engine, grammar) = (Arc::clone(&engine), Arc::clone(&grammar));
            std::thread::spawn(move || recognize(engine.as_ref(), &grammar, &samples(&f)))
        })
        .collect();
    let parallel: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    // Same best words. libvosk is not bit-reproducible when several recognizers
    // decode at once (measured: N-best tails and confidences vary by up to about
    // 0.06 between runs), so only the decision-relevant part is compared.
    for (p, s) in parallel.iter().zip(&sequential) {
        let best = |r: &attendant::asr::Recognition| r.best().map(|h| h.text.clone());
        assert_eq!(
            best(p),
            best(s),
            "recognizers are independent of each other"
        );
        assert!(best(p).is_some(), "every picked fixture is recognised");
    }
}

#[test]
fn a_grammar_only_runs_on_its_own_engine() {
    let vosk = engine();
    let sphinx = SphinxEngine::from_manifest().expect("en-us model: run scripts/fetch-models.sh");
    let ko = vosk
        .compile_grammar(&GrammarSpec::from_directory(&test_store_ko()))
        .expect("grammar");
    let en = sphinx
        .compile_grammar(&GrammarSpec::from_directory(&demo_store_en()))
        .expect("grammar");
    assert!(matches!(
        vosk.recognizer(&en).err(),
        Some(AsrError::WrongEngine {
            engine: EngineKind::Vosk,
            grammar: EngineKind::Sphinx
        })
    ));
    assert!(matches!(
        sphinx.recognizer(&ko).err(),
        Some(AsrError::WrongEngine {
            engine: EngineKind::Sphinx,
            grammar: EngineKind::Vosk
        })
    ));
}

#[test]
fn a_missing_model_is_a_load_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    match VoskEngine::load(&dir.path().join("absent"), Language::Fr) {
        Err(AsrError::ModelLoad {
            engine: EngineKind::Vosk,
            path,
        }) => {
            assert_eq!(path, dir.path().join("absent"))
        }
        other => panic!("expected ModelLoad, got {other:?}"),
    }
}
