//! End to end with SIPp: the caller presses 1 as an in-dialog SIP INFO
//! (application/dtmf-relay) instead of RTP; the INFO is answered 200 and the
//! digit drives the flow to the same transfer (REFER ext 201, NOTIFY 200, BYE).

mod common;

use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_digit_transfers_like_an_rtp_digit() {
    let attendant = harness::start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_info_transfer.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting, Prompt::Menu, Prompt::Transferring]
    );
    attendant.stop().await;
}
