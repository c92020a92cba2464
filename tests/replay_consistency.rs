//! A recording made of a call's audio replays to the same decisions and N-best as
//! the call made (same directory snapshot, engine, thresholds, endpoint settings),
//! whatever the store; replaying against another directory or thresholds changes
//! what it should, and `--compare` reports exactly those recordings.
//!
//! The "live" side here is `understand_recording` run as the runtime runs it
//! (the speech branch wires that into the call task); the end-to-end version
//! over SIP needs that wiring.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use attendant::asr::Engine;
use attendant::asr::sphinx::SphinxEngine;
use attendant::directory::Directory;
use attendant::matching::Thresholds;
use attendant::replay::input;
use attendant::replay::record::{
    CallRecorder, RecordedUtterance, RecordingSettings, SIDECAR_FORMAT, Sidecar, grammar_sha256,
};
use attendant::replay::run::{DirectorySource, ReplayConfig, Replayer, compare};
use attendant::replay::score::{DecisionRecord, call_decision};
use attendant::speech::endpoint::EndpointSettings;
use attendant::speech::understand::{StoreSpeech, understand_recording};
use indicatif::ProgressBar;

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/qa/en")
}

/// Records `files` of the English corpus as calls of `directory`'s store.
fn record_calls(
    engine: &Arc<dyn Engine>,
    directory: &Arc<Directory>,
    files: &[&str],
    recorder: &CallRecorder,
) -> Vec<Vec<RecordedUtterance>> {
    let thresholds = Thresholds::default();
    let endpoint = EndpointSettings::default();
    let speech = StoreSpeech::build(directory.clone(), engine.clone(), thresholds).unwrap();
    let mut live = Vec::new();
    for (n, file) in files.iter().enumerate() {
        let pcm = input::read_wav(&corpus().join(file)).unwrap();
        let understood = understand_recording(&speech, &endpoint, &pcm).unwrap();
        let utterances: Vec<RecordedUtterance> = understood
            .iter()
            .map(|u| RecordedUtterance::from_understood(u, None))
            .collect();
        let sidecar = Sidecar {
            format: SIDECAR_FORMAT,
            call_id: format!("call-{n}@test"),
            store: directory.store.id,
            directory_version: directory.version,
            directory: (**directory).clone(),
            engine: engine.kind(),
            model: "en-us".into(),
            grammar_sha256: grammar_sha256(speech.grammar()),
            thresholds,
            endpoint: endpoint.clone(),
            started_at_unix_ms: 1_000 + n as u64,
            audio_ms: pcm.len() as u64 / 8,
            utterances: utterances.clone(),
            dtmf: String::new(),
            transfer_target: None,
            expected: None,
        };
        let keep = RecordingSettings {
            enabled: true,
            ..Default::default()
        };
        recorder
            .save(&sidecar, &pcm, &keep, UNIX_EPOCH + Duration::from_secs(10))
            .unwrap();
        live.push(utterances);
    }
    live
}

fn strip_times(us: &[RecordedUtterance]) -> Vec<RecordedUtterance> {
    us.iter()
        .cloned()
        .map(|mut u| {
            u.decode_ms = None;
            u
        })
        .collect()
}

#[test]
fn replay_matches_the_recorded_call_then_follows_directory_and_threshold_changes() {
    let engine: Arc<dyn Engine> = Arc::new(SphinxEngine::from_manifest().expect("run make setup"));
    let snapshot: Directory = input::load_directory(&corpus().join("directory.json")).unwrap();
    let store_a = Arc::new(snapshot.clone());
    // A second store with the same people: recordings must stay apart.
    let mut b = snapshot.clone();
    b.store.id = attendant::directory::StoreId(2);
    b.store.number = "2000".into();
    let store_b = Arc::new(b);

    let tmp = tempfile::tempdir().unwrap();
    let recorder = CallRecorder::new(tmp.path());
    let files_a = [
        "sophie-martin-1dd901cb.en-us.snr30.loss0.wav",
        "paul-martin-712f0884.en-gb-x-rp_m3.snr10.loss3.wav",
        "noise-9424ac79.noise.snr10.loss0.wav",
    ];
    let files_b = [
        "the-bakery-747d3f7d.en-us_f3.snr20.loss0.wav",
        "herv-prodhomme-c6063716.en-us_f3.snr20.loss1.wav",
    ];
    let mut live = record_calls(&engine, &store_a, &files_a, &recorder);
    live.extend(record_calls(&engine, &store_b, &files_b, &recorder));
    assert_eq!(
        std::fs::read_dir(recorder.store_dir(store_a.store.id))
            .unwrap()
            .count(),
        6
    );
    assert_eq!(
        std::fs::read_dir(recorder.store_dir(store_b.store.id))
            .unwrap()
            .count(),
        4
    );
    // The calls themselves decided something (not a vacuous comparison).
    let live_decisions: Vec<DecisionRecord> = live
        .iter()
        .map(|u| call_decision(u.iter().map(|x| &x.decision)))
        .collect();
    assert!(
        matches!(live_decisions[0], DecisionRecord::Transfer(_)),
        "{live_decisions:?}"
    );
    assert_eq!(live_decisions[2], DecisionRecord::NoMatch);
    // Both spellings of Hervé's name ("Hervé" / "Herve", the same sounds)
    // share the N-best list; together they mean one entry, which is taken.
    assert!(
        matches!(live_decisions[4], DecisionRecord::Transfer(_)),
        "{live_decisions:?}"
    );

    let items = input::load(&tmp.path().join("recordings")).unwrap();
    assert_eq!(items.len(), 5);
    let mut replayer = Replayer::with_engines([engine.clone()]);
    let recorded = ReplayConfig {
        name: "recorded".into(),
        ..Default::default()
    };
    let report = replayer.run(&items, &recorded, &ProgressBar::hidden());
    // Items are sorted by path: store 1's three calls, then store 2's two.
    for (item, want) in report.items.iter().zip(&live) {
        assert_eq!(item.error, None, "{}", item.id);
        assert_eq!(
            strip_times(&item.utterances),
            strip_times(want),
            "{}",
            item.id
        );
        assert_eq!(
            Some(&item.decision),
            item.live_decision.as_ref(),
            "{}",
            item.id
        );
        assert!(
            item.utterances.iter().all(|u| u.decode_ms.is_some()),
            "decode times measured: {}",
            item.id
        );
    }
    assert!(
        report.items[..3]
            .iter()
            .all(|i| i.store.starts_with("1000 "))
    );
    assert!(
        report.items[3..]
            .iter()
            .all(|i| i.store.starts_with("2000 "))
    );

    // The current directory of store 1 no longer has Sophie Martin: her call now
    // goes elsewhere or nowhere; store 2 (not in the map) cannot be replayed.
    let mut current = snapshot.clone();
    current
        .entries
        .retain(|e| e.display_name != "Sophie Martin");
    current.version.0 += 1;
    let current = ReplayConfig {
        name: "current".into(),
        directory: DirectorySource::Current(
            [(store_a.store.id, Arc::new(current))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    let now = replayer.run(&items, &current, &ProgressBar::hidden());
    assert_ne!(now.items[0].decision, report.items[0].decision);
    assert_eq!(now.items[0].directory_version, Some(2));
    assert!(now.items[3].error.is_some() && now.items[4].error.is_some());

    // Stricter thresholds: a transfer at `accept: 1.0` needs the whole
    // N-best list to mean one entry, so its confidences must add up to 1.
    let strict = ReplayConfig {
        name: "strict".into(),
        thresholds: Some(Thresholds {
            accept: 1.0,
            confirm: 0.99,
            margin: 0.0,
            ..Thresholds::default()
        }),
        ..Default::default()
    };
    let strict_report = replayer.run(&items, &strict, &ProgressBar::hidden());
    assert!(strict_report.items.iter().all(|i| {
        !matches!(i.decision, DecisionRecord::Transfer(_))
            || i.utterances
                .iter()
                .any(|u| u.nbest.iter().map(|h| h.confidence).sum::<f32>() >= 0.999)
    }));

    // The comparison with the current directory lists exactly the recordings
    // whose decision or error moved: Sophie Martin's call, and store 2's two.
    let sophie_id = report.items[0].id.clone();
    let moved: Vec<String> = report
        .items
        .iter()
        .zip(&now.items)
        .filter(|(a, b)| a.decision != b.decision || a.error != b.error)
        .map(|(a, _)| a.id.clone())
        .collect();
    assert_eq!(moved.len(), 3, "{moved:?}");
    let comparison = compare(report, now);
    assert_eq!(
        comparison
            .changes
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        moved
    );
    let sophie = comparison
        .changes
        .iter()
        .find(|c| c.id == sophie_id)
        .expect("Sophie's call changed");
    // Unlabelled live recordings: changed, neither fixed nor broken.
    assert!(
        sophie.a.starts_with("Sophie Martin (transfer")
            && !sophie.b.starts_with("Sophie Martin")
            && !sophie.broken
            && !sophie.fixed,
        "{sophie:?}"
    );
}
