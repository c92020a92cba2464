//! End to end with SIPp as the caller: keypad name search, store spell key 4,
//! keys by RFC 4733. One caller types 5-8 ("ju") and # and is transferred to
//! Julie Petit (302), not to the other name starting with 5; another types 5
//! and #, hears six matching names read out (spoken by espeak-ng when the
//! store's index is built) and picks the sixth, Laura Morel (306).

mod common;

use std::time::Duration;

use attendant::directory::TransferTarget;
use attendant::directory::store::NewEntry;
use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::{Capture, Datagram};

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

/// RTP packets to `port` whose audio varies within the packet: speech (the
/// spoken names), as opposed to our constant-level test prompts and silence.
fn speech_packets_to(datagrams: &[Datagram], port: u16) -> usize {
    datagrams
        .iter()
        .filter(|d| d.dst_port == port)
        .filter_map(|d| d.rtp())
        .filter(|(pt, payload)| *pt == 0 && payload.iter().any(|b| *b != payload[0]))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_picks_the_sixth_of_six_matching_names() {
    let attendant = harness::start(TestOptions {
        spell_key: Some('4'),
        extra_entries: vec![
            entry("Jacques Aubert", "301"),
            entry("Jean Blanc", "302"),
            entry("Julie Petit", "303"),
            entry("Karine Durand", "304"),
            entry("Kevin Roux", "305"),
            entry("Laura Morel", "306"),
        ],
        ..TestOptions::default()
    })
    .await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_spell_choose.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;

    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![
            Prompt::Greeting,
            Prompt::Menu,
            Prompt::SpellName,
            Prompt::NamesMatch,
            Prompt::Transferring
        ],
        "prompts the caller heard"
    );
    // At least a second of names (50 packets) before the caller chose.
    let spoken = speech_packets_to(&datagrams, media_port);
    assert!(spoken >= 50, "names read out: {spoken} speech packets");
    attendant.stop().await;
}
