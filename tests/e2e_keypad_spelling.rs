//! End to end with SIPp as the caller: keypad name search. The store's spell
//! key is 4; the caller presses 4, hears the spelling prompt, types 5-8 ("ju")
//! and # (RFC 4733), and gets a REFER to Julie Petit's extension 302, not to
//! the other name starting with 5 (Karine Durand, 303), then the attendant's BYE.

mod common;

use std::time::Duration;

use attendant::directory::TransferTarget;
use attendant::directory::store::NewEntry;
use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

fn entry(name: &str, extension: &str) -> NewEntry {
    NewEntry {
        display_name: name.to_string(),
        aliases: vec![],
        department: None,
        extension: Some(extension.to_string()),
        target: TransferTarget::Extension(extension.to_string()),
        fallback: None,
        enabled: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_spells_ju_and_is_transferred_to_julie_at_ext_302() {
    let attendant = harness::start(TestOptions {
        spell_key: Some('4'),
        extra_entries: vec![entry("Julie Petit", "302"), entry("Karine Durand", "303")],
        ..TestOptions::default()
    })
    .await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_spell_transfer.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;

    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting, Prompt::Menu, Prompt::SpellName, Prompt::Transferring],
        "prompts the caller heard"
    );
    attendant.stop().await;
}
