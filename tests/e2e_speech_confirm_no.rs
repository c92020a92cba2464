//! With every name confirmed, the caller answers "이서연?" with key 2 (no):
//! the call is not transferred to her (ext 202) but asks again, and the keys
//! the caller then presses dial ext 203 (Vosk, Korean store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_asks_again_instead_of_transferring() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore {
                language: Language::Ko,
                entries: speech::korean_entries(),
                settings: serde_json::json!({"thresholds": {"accept": 1.0, "confirm": 0.05, "margin": 0.1}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let name = speech::fixture("이서연", "ko");
        let mut caller = Caller::dial(
            attendant.sip,
            &[Mic::Silence(Duration::from_millis(1500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(9))],
            Duration::from_secs(28),
        );
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        // The name ends about 2.9 s in; the question comes about 1 s later.
        tokio::time::sleep(Duration::from_millis(5500)).await;
        caller.press('2').await;
        // Asked again (3 s question): the keypad now dials an extension.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for digit in ['2', '0', '3'] {
            caller.press(digit).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let output = caller.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(target, "203", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("test took too long");
}
