//! End to end with SIPp: a transfer that fails (REFER 202 then NOTIFY sipfrag
//! 486, or REFER refused with 603) makes the caller hear the TransferFailed
//! prompt and the menu again; the caller chooses again (2) and that transfer works.

mod common;

use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

async fn refused_then_second_choice(scenario: &str) {
    let attendant = harness::start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac(scenario, attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![
            Prompt::Greeting,
            Prompt::Menu,
            Prompt::Transferring,
            Prompt::TransferFailed,
            Prompt::Menu,
            Prompt::Transferring
        ],
        "{scenario}: prompts the caller heard"
    );
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_486_plays_transfer_failed_and_caller_chooses_again() {
    refused_then_second_choice("caller_transfer_notify_486.xml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_603_plays_transfer_failed_and_caller_chooses_again() {
    refused_then_second_choice("caller_transfer_603.xml").await;
}
