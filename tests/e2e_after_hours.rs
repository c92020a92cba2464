//! End to end with SIPp: a store closed now (hours set through the store API, open on no day) answers with its after-hours route — the `closed` prompt then goodbye and BYE, or the `closed` prompt then a REFER to the operator or to the after-hours number — and each call appears in the store's recent calls.

mod common;

use std::time::Duration;

use attendant::directory::TransferTarget;
use attendant::directory::hours::{AfterHoursRoute, OpeningHours, WeeklyHours};
use attendant::directory::store::admin::Actor;
use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestAttendant, TestOptions};
use common::capture::Capture;

/// Hours under which the store is never open, whatever the wall clock says.
fn never_open(route: AfterHoursRoute) -> OpeningHours {
    OpeningHours {
        time_zone: "Europe/Paris".to_owned(),
        weekly: WeeklyHours::default(),
        holidays: vec![],
        after_hours: route,
    }
}

async fn close_store(attendant: &TestAttendant, route: AfterHoursRoute) {
    let actor = Actor {
        name: "e2e".to_owned(),
        at: jiff::Timestamp::UNIX_EPOCH,
    };
    let id = attendant.store_id().await;
    attendant
        .store
        .set_opening_hours(id, Some(&never_open(route)), &actor)
        .await
        .expect("set the opening hours");
}

/// A copy of the REFER-accepting caller expecting `extension`, in `dir`.
fn refer_scenario(dir: &std::path::Path, extension: &str) -> String {
    let template = std::fs::read_to_string(common::scenario("caller_refer_template.xml"))
        .expect("read the template scenario");
    let path = dir.join(format!("caller_refer_{extension}.xml"));
    std::fs::write(&path, template.replace("REFER_EXTENSION", extension)).expect("write scenario");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_plays_its_message_and_hangs_up() {
    let attendant = harness::start(TestOptions::default()).await;
    close_store(
        &attendant,
        AfterHoursRoute::ClosedMessage {
            message: "The store is closed.".to_owned(),
        },
    )
    .await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac(
        "caller_waits_for_bye.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Closed, Prompt::Goodbye],
        "prompts the caller heard"
    );
    let calls = attendant
        .wait_for_recent_calls(1, Duration::from_secs(5))
        .await;
    assert_eq!(
        (
            calls[0].decision.as_str(),
            calls[0].transferred_to.as_deref(),
            calls[0].heard.as_str()
        ),
        ("closed", None, "")
    );
    assert_eq!(calls[0].caller, "********44", "stored redacted");
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_transfers_to_its_operator_or_after_hours_number() {
    let cases = [
        ("operator", AfterHoursRoute::Operator, "100"),
        (
            "after-hours number",
            AfterHoursRoute::Transfer {
                target: TransferTarget::Extension("555".to_owned()),
            },
            "555",
        ),
    ];
    let scenarios = tempfile::tempdir().expect("temp dir");
    for (name, route, extension) in cases {
        let attendant = harness::start(TestOptions::default()).await;
        close_store(&attendant, route).await;
        let capture = Capture::start(&attendant.rtp.capture_filter()).await;
        let scenario = refer_scenario(scenarios.path(), extension);
        let sipp = Sipp::uac(&scenario, attendant.sip, harness::STORE_NUMBER, &[]);
        let media_port = sipp.media_port;
        sipp.expect_success(Duration::from_secs(30)).await;
        let datagrams = capture.stop().await;
        assert_eq!(
            harness::prompts_heard(&datagrams, media_port),
            vec![Prompt::Closed, Prompt::Transferring],
            "{name}: prompts the caller heard"
        );
        let calls = attendant
            .wait_for_recent_calls(1, Duration::from_secs(5))
            .await;
        assert_eq!(
            (
                calls[0].decision.as_str(),
                calls[0].transferred_to.as_deref()
            ),
            ("after_hours_transfer", Some(extension)),
            "{name}: recorded"
        );
        attendant.stop().await;
    }
}
