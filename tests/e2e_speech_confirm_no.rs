//! With every name confirmed, the caller answers "no" to "Sophie Martin?",
//! is asked again, says "Julie Dubois", answers "yes", and is transferred to
//! Julie's ext 204, not Sophie's 201 (PocketSphinx, English store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::Sipp;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_asks_again_and_the_second_name_is_transferred() {
    let test = async {
        let target = Sipp::builtin_uas();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries: speech::english_entries(),
                settings: serde_json::json!({"thresholds": {"accept": 1.0, "confirm": 0.05, "margin": 0.1}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let (sophie, julie) = (speech::fixture("Sophie Martin", "en-us"), speech::fixture("Julie Dubois", "en-us"));
        let (yes, no) = (speech::fixture("yes", "en-us"), speech::fixture("no", "en-us"));
        let gap = || Mic::Silence(Duration::from_millis(3000));
        let mut caller = Caller::dial(
            attendant.sip,
            &[
                Mic::Silence(Duration::from_millis(1500)),
                Mic::Fixture(&sophie),
                gap(),
                Mic::Fixture(&no),
                gap(),
                Mic::Fixture(&julie),
                gap(),
                Mic::Fixture(&yes),
                Mic::Silence(Duration::from_secs(6)),
            ],
            Duration::from_secs(30),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(40)).await;
        speech::expect_transferred_to(target, "204", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(100), test).await.expect("test took too long");
}
