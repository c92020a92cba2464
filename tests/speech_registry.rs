//! The speech registry gives a store speech only when its settings enable it and
//! an engine serves its language, and `refresh` swaps in a new directory
//! version while an `Arc` taken before keeps the old one.

use std::sync::Arc;

use attendant::config::AsrConfig;
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::{DirectoryStore, NewEntry, NewStore};
use attendant::directory::{Language, TransferTarget};
use attendant::flow::FlowSettings;
use attendant::speech::registry::{RegistrySettings, SpeechRegistry};

fn entry(name: &str, extension: &str) -> NewEntry {
    NewEntry {
        display_name: name.to_string(),
        aliases: vec![],
        department: None,
        extension: Some(extension.to_string()),
        target: TransferTarget::Extension(extension.to_string()),
        fallback: None,
        enabled: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_get_speech_by_settings_and_language_and_refresh_swaps_versions() {
    let dir = tempfile::tempdir().unwrap();
    let directory = DirectoryStore::open(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
    let store = |number: &str, language, speech: bool| NewStore {
        name: number.to_string(),
        number: number.to_string(),
        language,
        operator: TransferTarget::Extension("100".to_string()),
        settings: StoreSettings::from_json(serde_json::json!({ "speech_enabled": speech })).unwrap(),
    };
    // (number, language, speech on, expected to have speech)
    let cases = [
        ("1000", Language::En, true, true),
        ("1001", Language::En, false, false),
        // No engine configured for French below: DTMF only.
        ("2000", Language::Fr, true, false),
    ];
    let mut ids = Vec::new();
    for (number, language, speech, _) in cases {
        let id = directory.upsert_store(&store(number, language, speech)).await.unwrap();
        directory.replace_directory(id, &[entry("Sophie Martin", "201"), entry("Paul Martin", "203")], &[]).await.unwrap();
        ids.push(id);
    }
    let mut asr = AsrConfig::default();
    asr.engines.remove("fr");
    let settings = RegistrySettings {
        asr,
        prompts_dir: dir.path().join("prompts"),
        prompt_texts_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/texts"),
        flow_defaults: FlowSettings::default(),
    };
    let registry = SpeechRegistry::start(settings, directory.clone()).await.unwrap();
    for ((number, _, _, expected), id) in cases.iter().zip(&ids) {
        assert_eq!(registry.current(*id).is_some(), *expected, "store {number}");
    }

    let before: Arc<_> = registry.current(ids[0]).unwrap();
    assert!(before.name_audio(before.directory().entries[0].id).is_some(), "names are spoken");
    directory.replace_directory(ids[0], &[entry("Sophie Martin", "209")], &[]).await.unwrap();
    registry.refresh(ids[0]).await.unwrap();
    let after = registry.current(ids[0]).unwrap();
    assert_ne!(after.directory().version, before.directory().version);
    assert_eq!(before.directory().entries.len(), 2, "a call's Arc keeps its version");
    assert_eq!(after.directory().entries.len(), 1);

    // Speech switched off in the settings: gone at the next refresh.
    directory.upsert_store(&store("1000", Language::En, false)).await.unwrap();
    registry.refresh(ids[0]).await.unwrap();
    assert!(registry.current(ids[0]).is_none());
}
