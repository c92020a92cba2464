//! A caller says "이서연" to the Korean store (Vosk, Korean model) through
//! baresip and is transferred to her extension: the REFER reaches baresip,
//! which calls the SIPp target at ext 202; the call's record counts it as
//! put through by speech, understood at once.

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saying_a_korean_name_transfers_the_call() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore { language: Language::Ko, entries: speech::korean_entries(), settings: serde_json::json!({}) },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("이서연", "ko+f3");
        let mut caller = Caller::dial(
            attendant.sip,
            &[Mic::Silence(Duration::from_millis(1500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(6))],
            Duration::from_secs(15),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(25)).await;
        speech::expect_transferred_to(target, "202", &output).await;
        // The statistics count it as put through by speech, understood at once.
        let record = loop {
            let calls = attendant.store.recent_calls(attendant.store_id, 5).await.expect("recent calls");
            if let Some(record) = calls.into_iter().next() {
                break record;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(
            (record.outcome.as_deref(), record.recognition.as_deref(), record.entry_name.as_deref()),
            (Some("speech"), Some("at_once"), Some("이서연")),
            "{record:?}"
        );
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("test took too long");
}
