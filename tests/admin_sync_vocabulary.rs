//! The sync report, through the admin API, checks names against the real
//! speech engines of each store's language (PocketSphinx for English, Vosk for
//! Korean): names an engine cannot recognise are listed with the words at
//! fault, recognisable ones (including PocketSphinx's guessed pronunciations)
//! are not, and a language without an engine says it was not checked.

mod admin_support;

use std::sync::{Arc, OnceLock};

use admin_support::{Harness, Req};
use attendant::admin::sync::EngineVocabulary;
use attendant::asr::{Engine, EngineKind};
use attendant::config::AsrConfig;
use attendant::directory::{Language, StoreId};
use attendant::speech::registry::load_engine;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The engines, loaded once per test binary (the Vosk model takes seconds).
fn engine(language: Language) -> Option<Arc<dyn Engine>> {
    static SPHINX: OnceLock<Arc<dyn Engine>> = OnceLock::new();
    static VOSK: OnceLock<Arc<dyn Engine>> = OnceLock::new();
    let asr = AsrConfig::default();
    let load = |kind| load_engine(&asr, kind, language).expect("model installed: run scripts/fetch-models.sh");
    match language {
        Language::En => Some(SPHINX.get_or_init(|| load(EngineKind::Sphinx)).clone()),
        Language::Ko => Some(VOSK.get_or_init(|| load(EngineKind::Vosk)).clone()),
        // No French model on this machine: the report must say so.
        Language::Fr => None,
    }
}

async fn store(h: &Harness, number: &str, language: &str) -> StoreId {
    let created = h
        .send(Req::new(Method::POST, "/api/v1/stores", Some(&h.operator)).json(json!({
            "name": format!("Store {number}"), "number": number, "language": language, "operator": "100"
        })))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    StoreId(created.json["id"].as_i64().unwrap())
}

/// `(name, unknown words)` of every unrecognisable name in the report.
fn unrecognisable(report: &Value) -> Vec<(String, Vec<String>)> {
    report["unrecognisable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let words = u["unknown_words"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect();
            (u["name"].as_str().unwrap().to_owned(), words)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_report_lists_what_each_stores_engine_cannot_recognise() {
    let h = Harness::sqlite_with_vocabulary(Arc::new(EngineVocabulary::new(engine))).await;
    struct Case {
        language: &'static str,
        /// `(display name, aliases)` of the store's entries.
        entries: &'static [(&'static str, &'static [&'static str])],
        checked: bool,
        expected: &'static [(&'static str, &'static [&'static str])],
    }
    let cases = [
        Case {
            language: "en",
            entries: &[
                ("John Smith", &["the manager"]),
                // Not in the CMU dictionary: PocketSphinx guesses a pronunciation.
                ("Hervé Prodhomme", &[]),
                ("Qwzyk Blorf", &[]),
                // Digits and symbols have no pronunciation at all.
                ("Checkout 3", &["R2D2"]),
                ("Procter&Gamble", &[]),
            ],
            checked: true,
            expected: &[("Checkout 3", &["3"]), ("R2D2", &["r2d2"]), ("Procter&Gamble", &["procter&gamble"])],
        },
        Case {
            language: "ko",
            entries: &[("김민준", &["빵집"]), ("이서연", &["Qwzyk"]), ("Sophie Martin", &[])],
            checked: true,
            expected: &[("Qwzyk", &["qwzyk"]), ("Sophie Martin", &["sophie", "martin"])],
        },
        Case { language: "fr", entries: &[("Xavier Qwzyk", &[])], checked: false, expected: &[] },
    ];
    for (i, case) in cases.iter().enumerate() {
        let store = store(&h, &format!("010000000{i}"), case.language).await;
        for (j, (name, aliases)) in case.entries.iter().enumerate() {
            h.entry(store, &h.operator, json!({"name": name, "aliases": aliases, "extension": format!("2{j:02}")})).await;
        }
        let report = h.get(&format!("/api/v1/stores/{}/sync-report", store.0), &h.operator).await;
        assert_eq!(report.status, StatusCode::OK, "{:?}", report.json);
        let report = &report.json["sync"];
        assert_eq!(report["vocabulary_checked"], case.checked, "{}: {report}", case.language);
        let expected: Vec<(String, Vec<String>)> = case
            .expected
            .iter()
            .map(|(name, words)| ((*name).to_owned(), words.iter().map(|w| (*w).to_owned()).collect()))
            .collect();
        assert_eq!(unrecognisable(report), expected, "{}", case.language);
    }
}
