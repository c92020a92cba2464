//! One admin's worst-case import preview through the real API router
//! (`POST /api/v1/stores/{store}/import?dry_run=true`: parse, diff against the
//! current 20,000 entries, sync report with the similar-names check): how long
//! it takes and how much resident memory it adds, for files of 20,000 entries
//! whose names are all alike. Before the similar-names check was bounded, a
//! 19,999-line file took 820 s and 6.4 GB in the process that answers calls.
//!
//! Run: `cargo bench --bench admin_preview` (plain `main`, one run per file;
//! the figures go to docs/admin-guide.md). Fails if a preview takes more than
//! 2 s or adds more than 100 MB.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use attendant::admin::{self, AdminState};
use attendant::directory::Language;
use attendant::directory::import::{self, Format, ImportLimits};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::admin::{Actor, TokenScope};
use attendant::directory::store::{DirectoryStore, NewStore};
use attendant::directory::TransferTarget;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use tower::ServiceExt;

const ENTRIES: usize = 20_000;

/// Resident set now and its peak since the last reset, in kB (Linux).
fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak (VmHWM) to the current RSS (Linux ≥ 4.0).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("write /proc/self/clear_refs");
}

fn file(name: impl Fn(usize) -> (String, String)) -> Vec<u8> {
    let mut csv = String::from("name,department,extension\n");
    for i in 0..ENTRIES {
        let (name, department) = name(i);
        csv.push_str(&format!("{name},{department},{}\n", 100_000 + i));
    }
    csv.into_bytes()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let actor = || Actor { name: "bench".into(), at: jiff::Timestamp::from_millisecond(0).unwrap() };
    let (app, store, operator) = rt.block_on(async {
        let db = DirectoryStore::open(&url).await.unwrap();
        let store = db
            .upsert_store(&NewStore {
                name: "Bench".into(),
                number: "1000".into(),
                language: Language::Fr,
                operator: TransferTarget::Extension("100".into()),
                settings: StoreSettings::default(),
            })
            .await
            .unwrap();
        // The current directory: 20,000 distinct names (the diff compares both).
        let current = file(|i| (format!("Prénom{i} Nom{i}"), String::new()));
        let entries = import::parse(&current, Format::Csv, ImportLimits::default()).unwrap();
        db.import_entries(store, &entries, &actor()).await.unwrap();
        let operator = db.issue_token(TokenScope::Operator, "bench", None, &actor()).await.unwrap().token;
        (admin::router(AdminState::new(db)), store, operator)
    });

    let cases: [(&str, Vec<u8>); 3] = [
        ("20,000 × the same name (one per department)", file(|i| ("Sophie Martin".into(), format!("Rayon {i}")))),
        ("20,000 × \"Agent N\"", file(|i| (format!("Agent {i}"), String::new()))),
        ("20,000 sharing a last name", file(|i| (format!("Prénom{i} Martin"), String::new()))),
    ];
    let mut failed = false;
    eprintln!("| file | bytes | preview | added RSS (peak) | pairs counted | entries with a sound-alike | capped |");
    eprintln!("|---|---|---|---|---|---|---|");
    for (what, csv) in cases {
        let (before, _) = rss_kb();
        reset_peak();
        let started = Instant::now();
        let reply = rt.block_on(async {
            let mut request = Request::post(format!("/api/v1/stores/{}/import?dry_run=true", store.0))
                .header("authorization", format!("Bearer {operator}"))
                .header("content-type", "text/csv")
                .body(Body::from(csv.clone()))
                .unwrap();
            request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
            let response = app.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            let bytes = axum::body::to_bytes(response.into_body(), 256 * 1024 * 1024).await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        });
        let took = started.elapsed();
        let (_, peak) = rss_kb();
        let added_mb = peak.saturating_sub(before) as f64 / 1024.0;
        let sync = &reply["sync"];
        eprintln!(
            "| {what} | {} | {:.2} s | {added_mb:.1} MB | {} | {} | {} |",
            csv.len(),
            took.as_secs_f64(),
            sync["similar_total"],
            sync["similar_entries"],
            sync["similar_capped"],
        );
        if took > Duration::from_secs(2) || added_mb > 100.0 {
            failed = true;
        }
    }
    assert!(!failed, "a preview took more than 2 s or added more than 100 MB");
}
