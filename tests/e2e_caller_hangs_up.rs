//! End to end with SIPp: the caller hangs up (BYE) during the greeting; the
//! BYE is answered 200, prompt RTP stops, and the call's RTP port is free again.

mod common;

use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_bye_during_greeting_releases_the_call() {
    let attendant = harness::start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("uac_caller_bye.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(20)).await;
    // Leave time for any RTP that would (wrongly) follow the BYE to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let datagrams = capture.stop().await;

    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting],
        "cut during the greeting"
    );
    let to_caller: Vec<_> = datagrams.iter().filter(|d| d.dst_port == media_port).collect();
    assert!(!to_caller.is_empty(), "no RTP reached the caller");
    assert!(
        to_caller.len() < harness::PROMPT_FRAMES + 5,
        "RTP went on after the BYE: {} packets",
        to_caller.len()
    );
    // The RTP socket is released: its port can be bound again.
    let rtp_port = to_caller[0].src_port;
    std::net::UdpSocket::bind(("0.0.0.0", rtp_port)).expect("the call's RTP port is still taken");
    attendant.stop().await;
}
