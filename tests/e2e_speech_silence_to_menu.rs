//! A caller who says nothing is asked for a name twice, then gets the DTMF
//! menu; with no menu retries left (store settings `max_retries = 0`,
//! `no_input_timeout = 1000`) its silence ends at the operator, ext 100
//! (PocketSphinx, English store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_reprompts_then_falls_back_to_the_menu() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore { language: Language::En, entries: speech::english_entries(), settings: serde_json::json!({"max_retries": 0, "no_input_timeout": 1000}) },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let started = tokio::time::Instant::now();
        // Name question (3 s) + no input (1 s), the second ask ("just the first
        // and last name", 3 s) + no input (1 s), then the menu + no input (1 s):
        // the operator about 10.5 s in.
        let mut caller = Caller::dial(attendant.sip, &[Mic::Silence(Duration::from_secs(12))], Duration::from_secs(29));
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        assert!(
            speech::wait_for_target(&target, "INVITE sip:100@", Duration::from_secs(20)).await,
            "not transferred to the operator:\n{}",
            target.logs()
        );
        // Two name questions (3 s + 1 s each) come before the menu (0.2 s + 1 s):
        // going straight to the menu would reach the operator after about 2.5 s.
        let reached = started.elapsed();
        assert!(reached >= Duration::from_secs(8), "went to the operator too early: {reached:?}");
        let output = caller.finish(Duration::from_secs(35)).await;
        speech::expect_transferred_to(target, "100", &output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
