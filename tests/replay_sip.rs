//! Replay over SIP: corpus recordings placed as real baresip calls to a running
//! attendant (English store, PocketSphinx) end where they should: "Sophie
//! Martin" is transferred to her extension (baresip follows the REFER to a SIPp
//! target), line noise is not transferred to anyone but the operator.

mod common;

use std::time::Duration;

use attendant::directory::Language;
use attendant::replay::input;
use attendant::replay::sip::{SipPlan, replay_over_sip};
use common::Sipp;
use common::speech::{self, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_recordings_as_calls_reach_the_right_extension() {
    let test = async {
        let target = Sipp::builtin_uas();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries: speech::english_entries(),
                settings: serde_json::json!({}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/qa/en");
        let items: Vec<_> = input::load(&corpus)
            .unwrap()
            .into_iter()
            .filter(|i| {
                i.id == "sophie-martin-1dd901cb.en-us.snr30.loss0.wav" || i.id.starts_with("noise-")
            })
            .collect();
        assert_eq!(items.len(), 2);
        let sip = attendant.sip;
        let outcomes = tokio::task::spawn_blocking(move || {
            let plan = SipPlan {
                attendant: sip,
                number: common::speech::STORE_NUMBER.to_owned(),
                limit: Duration::from_secs(25),
                tail: Duration::from_secs(4),
                jobs: 2,
            };
            let mut outcomes = Vec::new();
            replay_over_sip(&items, &plan, |o| outcomes.push(o));
            outcomes
        })
        .await
        .unwrap();
        let sophie = outcomes
            .iter()
            .find(|o| o.id.starts_with("sophie"))
            .unwrap();
        assert_eq!(sophie.expected_targets, vec!["201".to_owned()]);
        assert!(
            sophie
                .transferred_to
                .as_deref()
                .is_some_and(|uri| uri.contains("sip:201@")),
            "{}\n{sophie:?}",
            sophie.caller_log
        );
        assert_eq!(sophie.right, Some(true));
        // The call ended at the REFER, not at baresip's limit.
        assert!(sophie.call_ms < 15_000, "{sophie:?}");
        assert!(sophie.refer_after_answer_ms.is_some(), "{sophie:?}");
        let noise = outcomes.iter().find(|o| o.id.starts_with("noise")).unwrap();
        assert_eq!(noise.right, Some(true), "{noise:?}");
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test)
        .await
        .expect("test took too long");
}
