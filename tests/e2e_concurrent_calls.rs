//! End to end with SIPp: 20 callers (10 new calls per second, up to 20 at once)
//! each press 1 and are transferred; every call completes and the attendant
//! shuts down with nothing left running.

mod common;

use std::time::{Duration, Instant};

use common::Sipp;
use common::attendant::{self as harness, TestOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_are_all_transferred() {
    let attendant = harness::start(TestOptions::default()).await;
    let started = Instant::now();
    let sipp = Sipp::uac(
        "caller_dtmf_transfer.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &["-m", "20", "-l", "20", "-r", "10"],
    );
    sipp.expect_success(Duration::from_secs(40)).await;
    let elapsed = started.elapsed();
    // 20 calls started at 10 per second take about 2 s to start: proof SIPp ran them all.
    assert!(
        elapsed >= Duration::from_millis(1900),
        "too fast for 20 calls: {elapsed:?}"
    );
    eprintln!("20 calls transferred in {elapsed:?}");
    attendant.stop().await;
}
