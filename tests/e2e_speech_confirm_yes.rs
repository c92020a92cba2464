//! With the accept threshold at its maximum, "이서연" is not sure enough to
//! transfer blindly: the attendant asks "이서연. 맞습니까?", the caller says
//! "네" (yes) and is transferred to ext 202 (Vosk, Korean store); the call's
//! record in recent calls says what was heard and understood, and how the
//! statistics count it (speech, after a confirmation, 이서연).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_name_is_transferred_after_yes() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore {
                language: Language::Ko,
                entries: speech::korean_entries(),
                // Only a perfect score transfers without asking.
                settings: serde_json::json!({"thresholds": {"accept": 1.0, "confirm": 0.05, "margin": 0.1}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("이서연", "ko");
        let yes = speech::fixture("네", "ko");
        let mut caller = Caller::dial(
            attendant.sip,
            &[
                Mic::Silence(Duration::from_millis(1500)),
                Mic::Fixture(&name),
                Mic::Silence(Duration::from_millis(3500)),
                Mic::Fixture(&yes),
                Mic::Silence(Duration::from_secs(3)),
            ],
            Duration::from_secs(28),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(target, "202", &output).await;
        // The call's record: two utterances heard, the name understood (to
        // confirm), transferred to 202. Written off the call's path: wait for it.
        let record = loop {
            let calls = attendant.store.recent_calls(attendant.store_id, 5).await.expect("recent calls");
            if let Some(record) = calls.into_iter().next() {
                break record;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(record.heard.split("; ").count(), 2, "two utterances: {record:?}");
        assert_eq!(record.understood.as_deref(), Some("이서연 (to confirm)"), "{record:?}");
        assert_eq!((record.decision.as_str(), record.transferred_to.as_deref()), ("transferred", Some("202")));
        // What the statistics count: put through by speech, after a confirmation, to 이서연.
        assert_eq!(
            (record.outcome.as_deref(), record.recognition.as_deref(), record.entry_name.as_deref()),
            (Some("speech"), Some("confirmed"), Some("이서연")),
            "{record:?}"
        );
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("test took too long");
}
