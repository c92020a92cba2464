//! End to end with SIPp: shutting the server down during a call ends it with
//! our BYE, and `Server::wait` returns only after the call released its dialog
//! and RTP socket.

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hangs_up_calls_in_progress() {
    let attendant = harness::start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_waits_for_bye.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    // The INVITE is answered within milliseconds: by then the call is up and
    // its prompts are playing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    attendant.stop().await;
    sipp.expect_success(Duration::from_secs(10)).await;
    let datagrams = capture.stop().await;
    assert!(
        harness::rtp_packets_to(&datagrams, media_port) > 0,
        "the call never got media"
    );
    let our_ports: std::collections::BTreeSet<u16> = datagrams
        .iter()
        .filter(|d| d.dst_port == media_port)
        .map(|d| d.src_port)
        .collect();
    for port in our_ports {
        std::net::UdpSocket::bind(("0.0.0.0", port)).expect("an RTP port is still taken after shutdown");
    }
}
