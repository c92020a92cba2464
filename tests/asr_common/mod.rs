//! Shared by the ASR tests: fixture manifest, WAV reading, test stores, decoding.
#![allow(dead_code)] // each test binary uses a subset

use std::path::{Path, PathBuf};

use attendant::asr::{CompiledGrammar, Engine, Recognition};
use attendant::directory::{
    Directory, DirectoryVersion, Entry, EntryId, Language, Store, StoreId, TransferTarget,
};

/// One line of fixtures/audio/names/manifest.json (`expected` is null for
/// speech outside the store's grammar).
#[derive(Debug, Clone, serde::Deserialize)]
struct ManifestLine {
    file: String,
    engine: String,
    language: String,
    spoken: String,
    expected: Option<String>,
    voice: String,
    speed: u32,
}

/// A fixture; `expected` is empty for out-of-grammar speech.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub file: String,
    pub engine: String,
    pub language: String,
    pub spoken: String,
    pub expected: String,
    pub voice: String,
    pub speed: u32,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/names")
}

fn manifest(engine: &str, in_grammar: bool) -> Vec<Fixture> {
    let text =
        std::fs::read_to_string(fixtures_dir().join("manifest.json")).expect("fixture manifest");
    let all: Vec<ManifestLine> = serde_json::from_str(&text).expect("manifest JSON");
    all.into_iter()
        .filter(|l| l.engine == engine && l.expected.is_some() == in_grammar)
        .map(|l| Fixture {
            file: l.file,
            engine: l.engine,
            language: l.language,
            spoken: l.spoken,
            expected: l.expected.unwrap_or_default(),
            voice: l.voice,
            speed: l.speed,
        })
        .collect()
}

/// The engine's fixtures whose words are in the store's grammar.
pub fn fixtures(engine: &str) -> Vec<Fixture> {
    manifest(engine, true)
}

/// The engine's fixtures of speech outside the store's grammar.
pub fn out_of_grammar(engine: &str) -> Vec<Fixture> {
    manifest(engine, false)
}

/// Prints the mean best confidence of right, wrong and out-of-grammar results,
/// and checks that out-of-grammar speech comes back as grammar words (or
/// nothing): the engines have no rejection of their own. Returns the
/// out-of-grammar results.
pub fn confidence_report(
    engine: &dyn Engine,
    grammar: &CompiledGrammar,
    outcomes: &[Outcome],
) -> Vec<Recognition> {
    let mean = |xs: &[f32]| xs.iter().sum::<f32>() / xs.len().max(1) as f32;
    let best = |r: &Recognition| r.best().map(|h| h.confidence);
    let right: Vec<f32> = outcomes
        .iter()
        .filter(|o| o.meaning)
        .filter_map(|o| best(&o.recognition))
        .collect();
    let wrong: Vec<f32> = outcomes
        .iter()
        .filter(|o| !o.meaning)
        .filter_map(|o| best(&o.recognition))
        .collect();
    let words: std::collections::BTreeSet<&str> = grammar
        .accepted
        .iter()
        .flat_map(|p| p.text.split(' '))
        .chain(grammar.carriers.iter().flat_map(|c| c.words()))
        .collect();
    let mut oog = Vec::new();
    for f in out_of_grammar(&format!("{:?}", engine.kind()).to_lowercase()) {
        let r = recognize(engine, grammar, &samples(&f));
        // Forced: whatever was said comes back as words of the grammar (Vosk may
        // mix words of different phrases; PocketSphinx follows the JSGF).
        if let Some(h) = r.best() {
            assert!(
                h.text.split(' ').all(|w| words.contains(w)),
                "{:?} gave words outside the grammar: {:?}",
                f.spoken,
                h.text
            );
        }
        eprintln!("OOG  {:<28} {:<16} -> {:?}", f.spoken, f.voice, r.best());
        oog.push(r);
    }
    let oog_conf: Vec<f32> = oog.iter().filter_map(best).collect();
    eprintln!(
        "{:?} best confidence: right meaning {:.2} (n={}), wrong {:.2} (n={}), out of grammar {:.2} (n={}, {} forced onto a phrase)",
        engine.kind(),
        mean(&right),
        right.len(),
        mean(&wrong),
        wrong.len(),
        mean(&oog_conf),
        oog.len(),
        oog_conf.len()
    );
    oog
}

/// 8 kHz mono 16-bit samples of a fixture.
pub fn samples(fixture: &Fixture) -> Vec<i16> {
    let mut reader = hound::WavReader::open(fixtures_dir().join(&fixture.file)).expect("wav");
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16),
        "{}",
        fixture.file
    );
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect()
}

/// Decodes a fixture through the trait, in 20 ms frames as RTP delivers them.
pub fn recognize(engine: &dyn Engine, grammar: &CompiledGrammar, audio: &[i16]) -> Recognition {
    let mut recognizer = engine.recognizer(grammar).expect("recognizer");
    for frame in audio.chunks(160) {
        recognizer.push_audio(frame).expect("push_audio");
    }
    recognizer.finish().expect("finish")
}

pub fn entry(id: i64, name: &str, aliases: &[&str], department: Option<&str>) -> Entry {
    Entry {
        id: EntryId(id),
        display_name: name.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        department: department.map(Into::into),
        extension: Some(format!("{}", 200 + id)),
        target: TransferTarget::Extension(format!("{}", 200 + id)),
        fallback: None,
        enabled: true,
    }
}

pub fn store(language: Language, entries: Vec<Entry>) -> Directory {
    Directory {
        store: Store {
            id: StoreId(7),
            name: "test store".into(),
            number: "0400000000".into(),
            language,
            operator: TransferTarget::Extension("9".into()),
        },
        version: DirectoryVersion(1),
        entries,
        menu: vec![],
    }
}

/// The English demo store.
pub fn demo_store_en() -> Directory {
    store(
        Language::En,
        vec![
            entry(1, "Sophie Martin", &["Sophie"], Some("Bakery")),
            entry(2, "Hervé Prodhomme", &[], Some("Hardware")),
            entry(3, "Paul Martin", &[], Some("Butchery")),
            entry(4, "Julie Dubois", &[], None),
            entry(5, "The bakery", &["bakery"], None),
            entry(6, "The hardware department", &["hardware"], None),
            entry(7, "Customer service", &["reception"], None),
        ],
    )
}

/// A Korean test store (the Vosk model the registries carry is Korean).
pub fn test_store_ko() -> Directory {
    store(
        Language::Ko,
        vec![
            entry(1, "김민준", &[], None),
            entry(2, "이서연", &[], None),
            entry(3, "박지훈", &[], None),
            entry(4, "최지우", &[], None),
            entry(5, "빵집", &[], None),
            entry(6, "정육점", &[], None),
            entry(7, "고객 센터", &[], None),
            entry(8, "안내 데스크", &[], None),
        ],
    )
}

/// Outcome of one fixture.
pub struct Outcome {
    pub fixture: Fixture,
    pub recognition: Recognition,
    /// The best text is exactly the expected sentence.
    pub exact: bool,
    /// The best text means what the expected sentence means (e.g. "아니오" for
    /// "아니요", both No; "bakery" for "the bakery", both the bakery's entry).
    pub meaning: bool,
    /// The expected meaning is among the N-best.
    pub in_nbest: bool,
}

/// Runs every fixture through a fresh recognizer and prints a table.
pub fn run_all(
    engine: &dyn Engine,
    grammar: &CompiledGrammar,
    fixtures: &[Fixture],
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for f in fixtures {
        let recognition = recognize(engine, grammar, &samples(f));
        let expected = grammar.meanings_of(&f.expected);
        assert!(
            !expected.is_empty(),
            "fixture text {:?} is not a sentence of the grammar",
            f.expected
        );
        let means = |text: &str| {
            grammar
                .meanings_of(text)
                .iter()
                .any(|m| expected.contains(m))
        };
        let exact = recognition.best().is_some_and(|h| h.text == f.expected);
        let meaning = recognition.best().is_some_and(|h| means(&h.text));
        let in_nbest = recognition.alternatives.iter().any(|h| means(&h.text));
        let best = recognition
            .best()
            .map(|h| format!("{} ({:.2})", h.text, h.confidence))
            .unwrap_or_default();
        let mark = if exact {
            "ok  "
        } else if meaning {
            "same"
        } else if in_nbest {
            "nbst"
        } else {
            "MISS"
        };
        eprintln!("{mark} {:<28} {:<16} -> {best}", f.expected, f.voice);
        if std::env::var_os("ASR_DEBUG").is_some() {
            eprintln!("     {:?}", recognition.alternatives);
        }
        out.push(Outcome {
            fixture: f.clone(),
            recognition,
            exact,
            meaning,
            in_nbest,
        });
    }
    let n = out.len();
    let count = |p: fn(&Outcome) -> bool| out.iter().filter(|o| p(o)).count();
    eprintln!(
        "{:?}: exact {}/{n}, meaning {}/{n}, meaning in N-best {}/{n}",
        engine.kind(),
        count(|o| o.exact),
        count(|o| o.meaning),
        count(|o| o.in_nbest)
    );
    out
}
