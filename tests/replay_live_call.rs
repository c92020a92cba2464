//! A live call recorded end to end (baresip says "Sophie Martin" to the English
//! store, PocketSphinx, recording on) replays to the decision and N-best the call
//! made, and its sidecar says where the call went.

mod common;

use std::time::Duration;

use attendant::directory::{Language, TransferTarget};
use attendant::replay::input;
use attendant::replay::run::{ReplayConfig, Replayer};
use attendant::replay::score::DecisionRecord;
use common::Sipp;
use common::speech::{self, Caller, Mic, SpeechStore};
use indicatif::ProgressBar;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_replays_to_the_same_decision() {
    let test = async {
        let target = Sipp::builtin_uas();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries: speech::english_entries(),
                settings: serde_json::json!({"recording": {"enabled": true, "max_recordings": 10}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let mut caller = Caller::dial(
            attendant.sip,
            &[
                Mic::Silence(Duration::from_millis(1500)),
                Mic::Fixture(&name),
                Mic::Silence(Duration::from_secs(6)),
            ],
            Duration::from_secs(15),
        );
        assert!(
            caller
                .wait_for("Call established", Duration::from_secs(10))
                .await,
            "not answered:\n{}",
            caller.output
        );
        let output = caller.finish(Duration::from_secs(25)).await;
        speech::expect_transferred_to(target, "201", &output).await;
        let store_id = attendant.store_id;
        let data_dir = attendant.data_dir.clone();
        // The call task saves its recording when the call ends (after the REFER):
        // wait for the sidecar, then keep a copy (the attendant's folder goes with it).
        let store_dir = data_dir.join("recordings").join(store_id.0.to_string());
        let saved = async {
            loop {
                let sidecars = std::fs::read_dir(&store_dir)
                    .map(|d| {
                        d.filter_map(Result::ok)
                            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                            .count()
                    })
                    .unwrap_or(0);
                if sidecars > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), saved)
            .await
            .expect("no recording saved");
        let keep = tempfile::tempdir().unwrap();
        for file in std::fs::read_dir(&store_dir).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), keep.path().join(file.file_name())).unwrap();
        }
        assert_eq!(
            std::fs::read_dir(data_dir.join("recordings"))
                .unwrap()
                .count(),
            1,
            "only this store's folder"
        );
        attendant.stop().await;

        let items = input::load(keep.path()).unwrap();
        assert_eq!(items.len(), 1, "one call, one recording");
        let sidecar = items[0].sidecar.as_deref().unwrap();
        assert_eq!(sidecar.store, store_id);
        assert_eq!(
            sidecar.transfer_target,
            Some(TransferTarget::Extension("201".into()))
        );
        assert_eq!(sidecar.grammar_sha256.len(), 64);
        assert!(
            !sidecar.utterances.is_empty() && sidecar.audio_ms > 1000,
            "{sidecar:?}"
        );
        let sophie = sidecar
            .directory
            .entries
            .iter()
            .find(|e| e.display_name == "Sophie Martin")
            .unwrap()
            .id;

        let engine: std::sync::Arc<dyn attendant::asr::Engine> =
            std::sync::Arc::new(attendant::asr::sphinx::SphinxEngine::from_manifest().unwrap());
        let report = Replayer::with_engines([engine]).run(
            &items,
            &ReplayConfig::default(),
            &ProgressBar::hidden(),
        );
        let item = &report.items[0];
        assert_eq!(item.error, None);
        assert!(
            matches!(item.decision, DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id) if id == sophie),
            "{item:?}"
        );
        assert_eq!(
            Some(&item.decision),
            item.live_decision.as_ref(),
            "replay decides as the call did"
        );
        let best = |us: &[attendant::replay::record::RecordedUtterance]| {
            us.iter()
                .map(|u| u.nbest.first().map(|h| h.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(best(&item.utterances), best(&sidecar.utterances));
        // The recording says where each recognition listened and where the
        // live endpointer cut; replay's endpointer, started at the same
        // place, cuts the same samples, and the engine answers the same.
        assert!(!sidecar.listens.is_empty(), "{sidecar:?}");
        assert_eq!(sidecar.listens[0].call_sample % 128, 0, "frames on the call's grid");
        assert!(item.notes.is_empty(), "{:?}", item.notes);
        let cuts = |us: &[attendant::replay::record::RecordedUtterance]| {
            us.iter().map(|u| (u.samples, u.nbest.clone())).collect::<Vec<_>>()
        };
        assert_eq!(cuts(&item.utterances), cuts(&sidecar.utterances));
    };
    tokio::time::timeout(Duration::from_secs(120), test)
        .await
        .expect("test took too long");
}
