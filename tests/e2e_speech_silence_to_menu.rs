//! A caller who says nothing is asked for a name twice, then gets the DTMF
//! menu; with no menu retries left (store settings `max_retries = 0`,
//! `no_input_timeout = 1500`) its silence ends at the operator, ext 100
//! (PocketSphinx, English store).

mod common;

use std::time::Duration;

use attendant::directory::Language;
use common::Sipp;
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_reprompts_then_falls_back_to_the_menu() {
    let test = async {
        let target = Sipp::builtin_uas();
        let attendant = speech::start(
            SpeechStore { language: Language::En, entries: speech::english_entries(), settings: serde_json::json!({"max_retries": 0, "no_input_timeout": 1500}) },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let started = tokio::time::Instant::now();
        // Name question (3 s) + no input (1.5 s), again, then the menu + no input
        // (1.5 s): the operator about 12 s in.
        let mut caller = Caller::dial(attendant.sip, &[Mic::Silence(Duration::from_secs(14))], Duration::from_secs(29));
        assert!(caller.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", caller.output);
        let output = caller.finish(Duration::from_secs(35)).await;
        speech::expect_transferred_to(target, "100", &output).await;
        // Two name questions with their no-input waits come before the menu's.
        assert!(started.elapsed() >= Duration::from_secs(9), "went to the operator too early: {:?}", started.elapsed());
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test).await.expect("test took too long");
}
