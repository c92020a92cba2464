//! The console's statistics from calls made end to end with SIPp: a menu key
//! (1 → bakery, ext 201), a spelled name (Julie Petit, ext 302) and an
//! extension typed whose first target is busy (301 → its fallback 302). The
//! records they leave are read back through the admin API: totals, how calls
//! ended, the names reached, the hours, and the CSV export.

mod common;

use std::time::Duration;

use attendant::admin::{self, AdminState};
use attendant::directory::TransferTarget;
use attendant::directory::store::NewEntry;
use attendant::directory::store::admin::{Actor, TokenScope};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use tower::ServiceExt;

fn entry(name: &str, extension: &str) -> NewEntry {
    NewEntry {
        display_name: name.to_string(),
        aliases: vec![],
        department: None,
        extension: Some(extension.to_string()),
        target: TransferTarget::Extension(extension.to_string()),
        fallback: None,
        enabled: true,
    }
}

async fn get(router: &axum::Router, uri: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let request = Request::get(uri)
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_count_the_calls_made_end_to_end() {
    let attendant = harness::start(TestOptions {
        spell_key: Some('4'),
        extra_entries: vec![entry("Julie Petit", "302"), entry("Karine Durand", "303")],
        ..TestOptions::default()
    })
    .await;
    let id = attendant.store_id().await;
    let actor = Actor {
        name: "e2e".to_owned(),
        at: jiff::Timestamp::now(),
    };
    let directory = attendant.store.load_directory(id).await.unwrap();
    let sophie = directory
        .entries
        .iter()
        .find(|e| e.extension.as_deref() == Some("301"))
        .unwrap();
    let mut changed = NewEntry::from(sophie);
    changed.fallback = Some(TransferTarget::Extension("302".to_owned()));
    attendant
        .store
        .update_entry(id, sophie.id, &changed, &actor)
        .await
        .unwrap();

    for scenario in [
        "caller_dtmf_transfer.xml",
        "caller_spell_transfer.xml",
        "caller_fallback_after_486.xml",
    ] {
        let sipp = Sipp::uac(scenario, attendant.sip, harness::STORE_NUMBER, &[]);
        sipp.expect_success(Duration::from_secs(30)).await;
    }
    let calls = attendant
        .wait_for_recent_calls(3, Duration::from_secs(5))
        .await;
    let mut outcomes: Vec<(Option<&str>, Option<&str>)> = calls
        .iter()
        .map(|c| (c.outcome.as_deref(), c.entry_name.as_deref()))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            (Some("keypad"), Some("Sophie Martin")),
            (Some("menu"), None),
            (Some("spelled"), Some("Julie Petit"))
        ],
        "{calls:#?}"
    );

    let operator = attendant
        .store
        .issue_token(TokenScope::Operator, "ops", None, &actor)
        .await
        .unwrap()
        .token;
    let router = admin::router(AdminState::new(attendant.store.clone()));
    // The store has no opening hours: its days are UTC days.
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let period = format!(
        "from={}&to={}",
        today.yesterday().unwrap(),
        today.tomorrow().unwrap()
    );
    let (status, body) = get(
        &router,
        &format!("/api/v1/stores/{}/statistics?{period}", id.0),
        &operator,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let stats: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (stats["calls"].as_u64(), stats["through"].as_u64()),
        (Some(3), Some(3)),
        "{stats:#}"
    );
    let count = |list: &str, key: &str| {
        stats[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .map_or(0, |c| c["calls"].as_u64().unwrap())
    };
    assert_eq!(
        (
            count("outcomes", "menu"),
            count("outcomes", "spelled"),
            count("outcomes", "keypad"),
            count("outcomes", "operator")
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(
        (
            count("names", "Julie Petit"),
            count("names", "Sophie Martin")
        ),
        (1, 1)
    );
    assert!(
        stats["recognition"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["calls"] == 0),
        "no speech in these calls"
    );
    let per_day: u64 = stats["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["calls"].as_u64().unwrap())
        .sum();
    let per_hour: u64 = stats["per_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!((per_day, per_hour), (3, 3));
    let day = stats["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == today.to_string())
        .unwrap();
    assert_eq!(day["calls"], 3);

    // Across stores (operator): the same three calls.
    let (status, body) = get(&router, &format!("/api/v1/statistics?{period}"), &operator).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["calls"],
        3
    );

    // The CSV export: a header and the three calls.
    let (status, body) = get(
        &router,
        &format!("/api/v1/stores/{}/calls/export?{period}", id.0),
        &operator,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(body).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("started_at,store,caller,heard,understood,outcome,recognition,entry,decision,transferred_to"), "{csv}");
    assert!(
        csv.contains(",spelled,,Julie Petit,transferred,302"),
        "{csv}"
    );
    attendant.stop().await;
}
