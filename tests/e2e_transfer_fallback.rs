//! End to end with SIPp: the caller types extension 301, whose entry falls back to 302 (set through the store API); the REFER to 301 gets NOTIFY 486 Busy Here, the attendant announces and REFERs to 302 at once (no failure prompt, no menu), which succeeds; the call then appears in the store's recent calls with the keys typed and where it went.

mod common;

use std::time::Duration;

use attendant::directory::TransferTarget;
use attendant::directory::store::admin::Actor;
use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_extension_falls_back_to_its_second_target() {
    let attendant = harness::start(TestOptions::default()).await;
    let id = attendant.store_id().await;
    let directory = attendant.store.load_directory(id).await.expect("directory");
    let sophie = directory
        .entries
        .iter()
        .find(|entry| entry.extension.as_deref() == Some("301"))
        .expect("the fixture's entry at 301");
    let mut changed = attendant::directory::NewEntry::from(sophie);
    changed.fallback = Some(TransferTarget::Extension("302".to_owned()));
    let actor = Actor {
        name: "e2e".to_owned(),
        at: jiff::Timestamp::UNIX_EPOCH,
    };
    attendant
        .store
        .update_entry(id, sophie.id, &changed, &actor)
        .await
        .expect("give the entry a fallback");

    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac(
        "caller_fallback_after_486.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    // Greeting and menu are over before the first key; then one announcement
    // per REFER, and no failure prompt or menu between them.
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![
            Prompt::Greeting,
            Prompt::Menu,
            Prompt::Transferring,
            Prompt::Transferring
        ],
        "prompts the caller heard"
    );

    let calls = attendant
        .wait_for_recent_calls(1, Duration::from_secs(5))
        .await;
    assert_eq!(
        (
            calls[0].heard.as_str(),
            calls[0].decision.as_str(),
            calls[0].transferred_to.as_deref()
        ),
        ("keys 301", "transferred", Some("302"))
    );
    attendant.stop().await;
}
