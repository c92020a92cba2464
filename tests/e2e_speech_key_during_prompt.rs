//! A caller presses keys while the name question plays: the call switches to
//! the DTMF menu at once and the keys dial extension 203 (Paul Martin), even
//! though the caller's microphone then says "Sophie Martin" (ext 201).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_during_the_name_question_goes_to_the_menu() {
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
            &[Mic::Silence(Duration::from_millis(2500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(5))],
            Duration::from_secs(25),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        // During the 3 s name question (greeting 0.2 s first), before the name is said.
        tokio::time::sleep(Duration::from_millis(500)).await;
        for digit in ['2', '0', '3'] {
            caller.press(digit).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let output = caller.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(target, "203", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
