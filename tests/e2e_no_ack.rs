//! End to end with SIPp: a caller that never ACKs our 200 OK gets a BYE once
//! `timers.ack_timeout` has passed, and the call's RTP port is released.

mod common;

use std::time::{Duration, Instant};

use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_ack_ends_the_call_with_bye() {
    let ack_timeout = Duration::from_millis(1500);
    let attendant = harness::start(TestOptions {
        ack_timeout,
        ..TestOptions::default()
    })
    .await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let started = Instant::now();
    let sipp = Sipp::uac("uac_no_ack.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(20)).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= ack_timeout, "BYE came before the ACK timeout: {elapsed:?}");
    assert!(
        elapsed < ack_timeout + Duration::from_secs(5),
        "BYE came late: {elapsed:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let datagrams = capture.stop().await;
    // No ACK: the flow never started, so no prompt was sent, and the port is free.
    assert_eq!(harness::prompts_heard(&datagrams, media_port), vec![]);
    let ports: std::collections::BTreeSet<u16> = datagrams.iter().map(|d| d.src_port).collect();
    for port in ports {
        std::net::UdpSocket::bind(("0.0.0.0", port)).expect("an RTP port is still taken");
    }
    attendant.stop().await;
}
