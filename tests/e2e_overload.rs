//! Overload: with `limits.max_calls` = 2 and two calls up, a third INVITE gets
//! 503 with Retry-After; the two calls are not disturbed (still up, then ended
//! normally), and once one is over a new call is taken again.

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_calls_new_invites_get_503_and_calls_up_are_untouched() {
    let attendant = harness::start(TestOptions {
        max_calls: 2,
        ..TestOptions::default()
    })
    .await;
    let limit = Duration::from_secs(10);

    // Two callers who stay on the line until the attendant hangs up.
    let first = Sipp::uac(
        "caller_waits_for_bye.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    let second = Sipp::uac(
        "caller_waits_for_bye.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    attendant
        .wait_for_stats(limit, |s| s.active_calls == 2 && s.open_rtp_sockets == 2)
        .await;

    // Full: refused at once, with Retry-After, and no dialog or task made for it.
    Sipp::uac(
        "uac_rejected_503.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    )
    .expect_success(limit)
    .await;
    let stats = attendant.server().stats();
    assert_eq!(
        (stats.active_calls, stats.sip_calls, stats.active_dialogs),
        (2, 2, 2),
        "{stats:?}"
    );
    assert!(stats.accepting, "overload is not a drain: {stats:?}");

    // A call that is answered and hangs up by itself while the two wait: the
    // limit must let it in only when a slot is free, so it is refused now...
    Sipp::uac(
        "uac_caller_bye.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    )
    .expect_failure(limit)
    .await;

    // ...and the two calls up are still there, then end normally (our BYE,
    // answered) when the attendant stops: they were not cut by the overload.
    let stats = attendant.server().stats();
    assert_eq!(
        (stats.active_calls, stats.open_rtp_sockets),
        (2, 2),
        "{stats:?}"
    );
    attendant.stop().await;
    first.expect_success(limit).await;
    second.expect_success(limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_slot_takes_the_next_call() {
    let attendant = harness::start(TestOptions {
        max_calls: 1,
        ..TestOptions::default()
    })
    .await;
    let limit = Duration::from_secs(20);
    // One at a time, each hangs up by itself: the slot is given back every time.
    for _ in 0..3 {
        Sipp::uac(
            "uac_caller_bye.xml",
            attendant.sip,
            harness::STORE_NUMBER,
            &[],
        )
        .expect_success(limit)
        .await;
        attendant.wait_for_stats(limit, |s| s.sip_calls == 0).await;
    }
    attendant.stop().await;
}
