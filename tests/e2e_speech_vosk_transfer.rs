//! A caller says "이서연" to the Korean store (Vosk, Korean model) through
//! baresip and is transferred to her extension: the REFER reaches baresip,
//! which calls the SIPp target at ext 202.

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
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("test took too long");
}
