//! End to end with SIPp: an offer with only G.729 (no G.711) is refused with
//! 488 Not Acceptable Here, and no RTP port stays reserved for it.

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_without_g711_gets_488() {
    let attendant = harness::start(TestOptions::default()).await;
    let sipp = Sipp::uac("uac_rejected_488.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    sipp.expect_success(Duration::from_secs(20)).await;
    attendant.stop().await;
}
