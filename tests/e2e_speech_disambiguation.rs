//! Two entries named "Sophie Martin" (Bakery, ext 201; Butchery, ext 205): the
//! name leads to the disambiguation menu ("Sophie Martin, Bakery: press 1.
//! Sophie Martin, Butchery: press 2."), the caller presses 2 (RFC 4733 from
//! baresip) and is transferred to ext 205 (PocketSphinx, English store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore, entry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namesakes_are_told_apart_by_a_key() {
    let test = async {
        let target = speech::transfer_target();
        let mut entries = speech::english_entries();
        entries.push(entry("Sophie Martin", Some("Butchery"), "205"));
        let attendant = speech::start(
            SpeechStore { language: Language::En, entries, settings: serde_json::json!({}) },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let mut caller = Caller::dial(
            attendant.sip,
            &[Mic::Silence(Duration::from_millis(1500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(9))],
            Duration::from_secs(28),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        // The name ends 3.4 s in; end of speech, decoding and the first option
        // take about 2 s more. A key is taken during the options or after them.
        tokio::time::sleep(Duration::from_millis(6500)).await;
        caller.press('2').await;
        let output = caller.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(target, "205", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
