//! A caller says "Sophie Martin" to the English store (PocketSphinx) through
//! baresip and is transferred to her extension: the REFER reaches baresip,
//! which calls the SIPp target at ext 201.

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saying_a_name_transfers_the_call() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore { language: Language::En, entries: speech::english_entries(), settings: serde_json::json!({}) },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let mut caller = Caller::dial(
            attendant.sip,
            &[Mic::Silence(Duration::from_millis(1500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(6))],
            Duration::from_secs(15),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(25)).await;
        speech::expect_transferred_to(target, "201", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
