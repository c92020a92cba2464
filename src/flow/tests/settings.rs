//! Per-store flow settings: durations in milliseconds, every field optional with the documented defaults, speech off unless asked.

use std::time::Duration;

use crate::flow::{FlowSettings, Prompt};

#[test]
fn settings_read_from_json_with_defaults() {
    let cases = [
        ("empty: all defaults", "{}", FlowSettings::default()),
        (
            "some fields, in milliseconds",
            r#"{"no_input_timeout": 4500, "max_retries": 1, "speech_enabled": true}"#,
            FlowSettings {
                no_input_timeout: Duration::from_millis(4_500),
                max_retries: 1,
                speech_enabled: true,
                ..FlowSettings::default()
            },
        ),
    ];
    for (name, json, expected) in cases {
        let parsed: FlowSettings = serde_json::from_str(json).expect(name);
        assert_eq!(parsed, expected, "{name}");
        let again: FlowSettings =
            serde_json::from_str(&serde_json::to_string(&parsed).expect(name)).expect(name);
        assert_eq!(again, parsed, "{name}: round trip");
    }
    let defaults = FlowSettings::default();
    assert!(!defaults.speech_enabled, "speech is opt-in per store");
    assert_eq!(defaults.max_utterance, Duration::from_secs(10));
}

#[test]
fn prompt_files_are_distinct() {
    let mut stems: Vec<&str> = Prompt::ALL
        .iter()
        .map(|prompt| prompt.file_stem())
        .collect();
    stems.extend(Prompt::SPEECH_FILE_STEMS);
    let count = stems.len();
    stems.sort_unstable();
    stems.dedup();
    assert_eq!(stems.len(), count, "two prompts share a file: {stems:?}");
    let entry = crate::directory::EntryId(4);
    for prompt in [
        Prompt::AskName,
        Prompt::NotUnderstood,
        Prompt::DidYouMean(entry),
        Prompt::Disambiguation,
        Prompt::DisambiguationOption { key: '1', entry },
    ] {
        assert!(
            Prompt::SPEECH_FILE_STEMS.contains(&prompt.file_stem()),
            "{prompt:?}"
        );
    }
    assert_eq!(Prompt::DidYouMean(entry).entry(), Some(entry));
    assert_eq!(
        Prompt::DisambiguationOption { key: '2', entry }.entry(),
        Some(entry)
    );
    assert_eq!(Prompt::Menu.entry(), None);
}
