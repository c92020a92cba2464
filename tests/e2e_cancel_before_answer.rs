//! End to end with SIPp: the attendant rings (180) before answering; the caller
//! CANCELs meanwhile and gets 200 for the CANCEL and 487 for the INVITE, and
//! the call task releases everything (shutdown completes at once).

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_ringing_gets_487_and_200() {
    let attendant = harness::start(TestOptions {
        answer_delay: Duration::from_secs(3),
        ..TestOptions::default()
    })
    .await;
    let sipp = Sipp::uac("uac_cancel.xml", attendant.sip, harness::STORE_NUMBER, &[]);
    sipp.expect_success(Duration::from_secs(20)).await;
    attendant.stop().await;
}
