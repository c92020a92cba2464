//! End to end with SIPp as the caller: INVITE → 200 → ACK, the caller hears the
//! greeting and menu over RTP, presses 1 (RFC 4733 from a pcap), gets a REFER to
//! ext 201 that it accepts (202, NOTIFY sipfrag 200), then the attendant's BYE.

mod common;

use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_presses_1_and_is_transferred_to_ext_201() {
    let attendant = harness::start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_dtmf_transfer.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;

    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting, Prompt::Menu, Prompt::Transferring],
        "prompts the caller heard"
    );
    assert!(harness::rtp_packets_to(&datagrams, media_port) >= 3 * harness::PROMPT_FRAMES);
    attendant.stop().await;
}
