//! End to end with SIPp: an INVITE for a number that is no store is refused
//! with 404 (and the refusal's ACK closes it), while the attendant keeps serving.

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_store_number_gets_404() {
    let attendant = harness::start(TestOptions::default()).await;
    let sipp = Sipp::uac("uac_rejected_404.xml", attendant.sip, "9999", &[]);
    sipp.expect_success(Duration::from_secs(20)).await;
    // The known store still answers (a 404 scenario against it fails on the 200).
    let sipp = Sipp::uac("uac_rejected_404.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    let logs = sipp.expect_failure(Duration::from_secs(20)).await;
    assert!(
        logs.contains("SIP/2.0 200"),
        "the known store was not answered:\n{logs}"
    );
    attendant.stop().await;
}
