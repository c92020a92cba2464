//! End to end: garbage datagrams sprayed on the SIP port and on every RTP port
//! (before and during a call) are ignored; a normal SIPp call (press 1, REFER,
//! BYE) still goes through with the right prompts; the SIP garbage is counted
//! in the server's stats.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::capture::Capture;

const GARBAGE: [&[u8]; 6] = [
    b"\x00\x01\x02 definitely not SIP \xff",
    b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n",
    // RTP-looking: version 2, PT 0, but too short / lying CSRC count / odd PT.
    b"\x80\x00\x00\x01",
    b"\x8f\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01",
    b"\x80\x7f\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01abcdef",
];

async fn spray(socket: &tokio::net::UdpSocket, sip: SocketAddr, rtp: &common::RtpBlock) {
    for datagram in GARBAGE {
        socket.send_to(datagram, sip).await.unwrap();
        for port in (rtp.min..=rtp.max).step_by(2) {
            socket.send_to(datagram, ("127.0.0.1", port)).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_sip_and_rtp_ports_does_not_disturb_a_call() {
    let attendant = harness::start(TestOptions::default()).await;
    let garbage = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    spray(&garbage, attendant.sip, &attendant.rtp).await;
    // Every garbage datagram the guard keeps from the SIP stack is counted,
    // logged or not (a parseable response goes on to rsipstack, which drops it).
    let sent = GARBAGE
        .iter()
        .filter(|d| attendant::sip::guard::screen(d) != attendant::sip::guard::Screened::Pass)
        .count() as u64;
    assert!(sent >= 4, "the garbage includes datagrams the guard stops");
    attendant
        .wait_for_stats(Duration::from_secs(5), |s| {
            s.dropped_datagrams.malformed + s.dropped_datagrams.refused == sent && s.dropped_datagrams.untrusted == 0
        })
        .await;

    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac("caller_dtmf_transfer.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let media_port = sipp.media_port;
    // Again while the call runs (its RTP port is in the range by then).
    tokio::time::sleep(Duration::from_millis(300)).await;
    spray(&garbage, attendant.sip, &attendant.rtp).await;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting, Prompt::Menu, Prompt::Transferring]
    );
    attendant.stop().await;
}
