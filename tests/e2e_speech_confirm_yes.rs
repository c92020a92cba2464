//! With the accept threshold at its maximum, "Sophie Martin" is confirmed
//! ("Sophie Martin, Bakery. Is that right?"); the caller says "yes" and is
//! transferred to ext 201 (PocketSphinx, English store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::Sipp;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_name_is_transferred_after_yes() {
    let test = async {
        let target = Sipp::builtin_uas();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries: speech::english_entries(),
                // Nothing is sure enough to transfer blindly: every name is confirmed.
                settings: serde_json::json!({"thresholds": {"accept": 1.0, "confirm": 0.05, "margin": 0.1}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let yes = speech::fixture("yes", "en-us");
        let mut caller = Caller::dial(
            attendant.sip,
            &[
                Mic::Silence(Duration::from_millis(1500)),
                Mic::Fixture(&name),
                Mic::Silence(Duration::from_millis(3000)),
                Mic::Fixture(&yes),
                Mic::Silence(Duration::from_secs(6)),
            ],
            Duration::from_secs(20),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(target, "201", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
