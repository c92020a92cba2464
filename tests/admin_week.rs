//! A store admin's real week through the API: a preview of a worst-case file
//! stays bounded and says why names sound alike; a stalled upload is stopped
//! at the request time limit; stores are reached by their number; tokens
//! expire by default and are never cached; every answer is `nosniff`.

mod admin_support;

use std::time::Duration;

use admin_support::{Harness, Req};
use attendant::admin::AdminLimits;
use attendant::admin::sync::MAX_LISTED_PAIRS;
use attendant::matching::SOUND_ALIKES_PER_ENTRY;
use axum::http::{Method, StatusCode};
use serde_json::json;

fn csv_of(lines: impl Iterator<Item = String>) -> Vec<u8> {
    let mut text = String::from("name,department,extension\n");
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text.into_bytes()
}

/// 5,000 entries all called "Sophie Martin" (one per department): before the
/// bound, 12.5 million pairs were enumerated. Now each entry gets at most its
/// cap, every entry is counted, and each listed pair says why.
#[tokio::test]
async fn a_preview_of_identical_names_is_bounded_and_explained() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("0100000001", "A").await;
    let file = csv_of((0..5000).map(|i| format!("Sophie Martin,Rayon {i},{}", 10_000 + i)));
    let reply = h
        .send(
            Req::new(Method::POST, format!("/api/v1/stores/{}/import?dry_run=true", store.0), Some(&token))
                .raw(Some("text/csv"), file),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let sync = &reply.json["sync"];
    assert_eq!(sync["similar"].as_array().unwrap().len(), MAX_LISTED_PAIRS);
    assert_eq!(sync["similar_entries"], 5000);
    assert_eq!(sync["similar_capped"], 5000);
    let total = sync["similar_total"].as_u64().unwrap() as usize;
    assert!((5000..=5000 * SOUND_ALIKES_PER_ENTRY).contains(&total), "{total} pairs");
    assert_eq!(sync["similar"][0]["reason"]["kind"], "same_name");
    assert_eq!(sync["similar"][0]["why"], "both are called “martin”");
}

/// Two people of one department, or two Sophies, are not "sound-alikes".
#[tokio::test]
async fn a_shared_department_or_first_name_is_not_a_sound_alike() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("0100000001", "A").await;
    let file = b"name,department,extension\nSophie Durand,Caisses,201\nSophie Leroy,Caisses,202\nPaul Blanc,Caisses,203\n";
    let reply = h
        .send(
            Req::new(Method::POST, format!("/api/v1/stores/{}/import?dry_run=true", store.0), Some(&token))
                .raw(Some("text/csv"), file.to_vec()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["sync"]["similar_total"], 0, "{:?}", reply.json["sync"]);
}

/// An upload that stops half-way is answered 503 at the request time limit
/// (it used to hold a worker, and SIGTERM, for as long as the client liked).
#[tokio::test]
async fn a_stalled_upload_is_stopped_at_the_time_limit() {
    let limits = AdminLimits { request_timeout: Duration::from_secs(5), ..AdminLimits::default() };
    let h = Harness::sqlite_with(limits).await;
    let (store, token) = h.store("0100000001", "A").await;
    // The first bytes of a file, then nothing, never the end.
    let stalled = futures_stream(b"name,extension\nA,201\n".to_vec());
    let request = axum::http::Request::post(format!("/api/v1/stores/{}/import?dry_run=true", store.0))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .header("content-length", "100000")
        .body(axum::body::Body::from_stream(stalled))
        .unwrap();
    let reply = h.send_request(request).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", reply.json);
    assert_eq!(reply.code(), "request_timeout");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    // The API still answers.
    assert_eq!(h.get(&format!("/api/v1/stores/{}", store.0), &token).await.status, StatusCode::OK);
}

/// A body stream that yields `first` and then never ends.
fn futures_stream(first: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    struct Stalled(Option<Vec<u8>>);
    impl futures_core::Stream for Stalled {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            match self.0.take() {
                Some(bytes) => std::task::Poll::Ready(Some(Ok(bytes))),
                None => std::task::Poll::Pending,
            }
        }
    }
    Stalled(Some(first))
}

/// `/stores/1000` is the store callers reach at 1000 (its number), as well as
/// the store with id 1000; another store's number is refused like its id.
#[tokio::test]
async fn stores_are_reached_by_number_or_id() {
    let h = Harness::sqlite().await;
    let (a, token_a) = h.store("1000", "A").await;
    let (b, _) = h.store("2000", "B").await;
    let by_number = h.get("/api/v1/stores/1000", &token_a).await;
    assert_eq!(by_number.status, StatusCode::OK, "{:?}", by_number.json);
    assert_eq!(by_number.json["id"], a.0);
    let by_id = h.get(&format!("/api/v1/stores/{}", a.0), &token_a).await;
    assert_eq!(by_id.json, by_number.json);
    let entries = h.get("/api/v1/stores/1000/entries", &token_a).await;
    assert_eq!(entries.status, StatusCode::OK);
    for other in ["2000".to_owned(), b.0.to_string(), "9999".to_owned()] {
        let refused = h.get(&format!("/api/v1/stores/{other}/entries"), &token_a).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{other}: {:?}", refused.json);
    }
    let operator = h.get("/api/v1/stores/2000", &h.operator).await;
    assert_eq!(operator.json["id"], b.0);
}

/// A token issued without an expiry expires after the configured lifetime;
/// its issuance is never cached; every API answer is `nosniff`.
#[tokio::test]
async fn tokens_expire_by_default_and_are_not_cached() {
    let h = Harness::sqlite().await;
    let (store, _) = h.store("0100000001", "A").await;
    let issued =
        h.send(Req::new(Method::POST, format!("/api/v1/stores/{}/tokens", store.0), Some(&h.operator)).json(json!({"label": "t"}))).await;
    assert_eq!(issued.status, StatusCode::CREATED);
    assert_eq!(issued.headers["cache-control"], "no-store");
    assert_eq!(issued.headers["x-content-type-options"], "nosniff");
    let token = issued.json["token"].as_str().unwrap().to_owned();
    let me = h.get("/api/v1/me", &token).await;
    assert_eq!(me.headers["x-content-type-options"], "nosniff");
    assert!(me.json["expires_at"].is_string(), "{:?}", me.json);
    h.advance_ms(89 * 24 * 3600 * 1000);
    assert_eq!(h.get("/api/v1/me", &token).await.status, StatusCode::OK);
    h.advance_ms(2 * 24 * 3600 * 1000);
    let expired = h.get("/api/v1/me", &token).await;
    assert_eq!((expired.status, expired.code()), (StatusCode::UNAUTHORIZED, "token_expired"));
    let missing = h.get("/api/v1/nothing-here", &h.operator).await;
    assert_eq!(missing.headers["x-content-type-options"], "nosniff");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/directory").join(name)).unwrap()
}

/// French Excel files through the API: `;` + Windows-1252 (guessed, and
/// said), `;` + BOM, tabs; the accents arrive intact. Merge keeps the
/// others; Apply with a stale version gets 409 and changes nothing; the
/// preview names every changed field; the Excel export reads back exactly.
#[tokio::test]
async fn french_excel_files_modes_versions_and_exports() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("1000", "Magasin").await;
    h.entry(store, &token, json!({"name": "Old Person", "extension": "250"})).await;
    let import = |query: &str| format!("/api/v1/stores/1000/import{query}");
    for name in ["fr-excel-cp1252.csv", "fr-excel-utf8-bom.csv", "fr-excel-tab.txt"] {
        let dry = h
            .send(Req::new(Method::POST, import("?dry_run=true&mode=merge"), Some(&token)).raw(Some("text/csv"), fixture(name)))
            .await;
        assert_eq!(dry.status, StatusCode::OK, "{name}: {:?}", dry.json);
        let added: Vec<&str> = dry.json["diff"]["added"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(added, ["Hélène Dupré", "François Lefèvre", "Zoé Bénard", "Accueil"], "{name}");
        assert_eq!(dry.json["diff"]["removed"].as_array().unwrap().len(), 0, "merge keeps the others");
        assert_eq!(dry.json["diff"]["unchanged"], 1);
    }
    let cp1252 = h
        .send(Req::new(Method::POST, import("?dry_run=true"), Some(&token)).raw(Some("text/csv"), fixture("fr-excel-cp1252.csv")))
        .await;
    assert_eq!(cp1252.json["reading"]["encoding"], "windows-1252");
    assert_eq!(cp1252.json["reading"]["separator"], ";");
    assert!(cp1252.json["reading"]["notes"][0].as_str().unwrap().contains("not UTF-8"), "{:?}", cp1252.json["reading"]);
    let version = cp1252.json["version"].as_i64().unwrap();

    // Someone else edits after the preview: the apply is refused, nothing changes.
    h.entry(store, &token, json!({"name": "Someone Else", "extension": "251"})).await;
    let stale = h
        .send(
            Req::new(Method::POST, import(&format!("?mode=merge&version={version}")), Some(&token))
                .raw(Some("text/csv"), fixture("fr-excel-cp1252.csv")),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (StatusCode::CONFLICT, "directory_changed"), "{:?}", stale.json);
    assert_eq!(stale.json["error"]["current_version"], version + 1);
    assert_eq!(h.get("/api/v1/stores/1000/entries", &token).await.json.as_array().unwrap().len(), 2);
    let merged = h
        .send(
            Req::new(Method::POST, import(&format!("?mode=merge&version={}", version + 1)), Some(&token))
                .raw(Some("text/csv"), fixture("fr-excel-cp1252.csv")),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{:?}", merged.json);
    let entries = h.get("/api/v1/stores/1000/entries", &token).await.json;
    let names: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"Hélène Dupré") && names.contains(&"Old Person"), "{names:?}");

    // Re-enabling Zoé and changing her aliases: the preview names both fields.
    let export = h.get("/api/v1/stores/1000/export?dialect=excel", &token).await;
    assert!(export.bytes.starts_with(b"\xEF\xBB\xBFname;aliases;"), "BOM and `;`");
    let text = String::from_utf8(export.bytes.clone()).unwrap();
    let edited = text.replace("Zoé Bénard;Zoé;Épicerie;303;;;false", "Zoé Bénard;\"Zoé;la zo\\;é\";Épicerie;303;;;true");
    assert_ne!(edited, text, "the export holds Zoé's line as expected:\n{text}");
    let preview = h.send(Req::new(Method::POST, import("?dry_run=true"), Some(&token)).raw(Some("text/csv"), edited.clone())).await;
    assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.json);
    let changed = &preview.json["diff"]["changed"];
    assert_eq!(changed.as_array().unwrap().len(), 1, "{changed:?}");
    assert_eq!(changed[0]["fields"], json!(["aliases", "enabled"]));
    assert_eq!(changed[0]["after"]["aliases"], json!(["Zoé", "la zo;é"]), "an alias holding `;` stays one");
    // The Excel export, imported as is, changes nothing.
    let again = h.send(Req::new(Method::POST, import("?dry_run=true"), Some(&token)).raw(Some("text/csv"), export.bytes)).await;
    let diff = &again.json["diff"];
    assert_eq!((diff["added"].as_array().unwrap().len(), diff["changed"].as_array().unwrap().len(), diff["removed"].as_array().unwrap().len()), (0, 0, 0));

    // Merging a file whose extension another entry has: a clear conflict.
    let clash = h
        .send(Req::new(Method::POST, import("?mode=merge"), Some(&token)).raw(Some("text/csv"), "name,extension\nNew Person,250\n"))
        .await;
    assert_eq!((clash.status, clash.code()), (StatusCode::CONFLICT, "conflict"), "{:?}", clash.json);
    assert!(clash.json["error"]["message"].as_str().unwrap().contains("extension 250"), "{:?}", clash.json);
}

/// One entry's problems are said without a file's "line 1", each once.
#[tokio::test]
async fn entry_errors_speak_of_the_entry() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("0100000001", "A").await;
    let reply = h
        .send(
            Req::new(Method::POST, format!("/api/v1/stores/{}/entries", store.0), Some(&token))
                .json(json!({"name": " ", "target": "mailto:x"})),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let message = reply.json["error"]["message"].as_str().unwrap();
    assert!(!message.contains("line 1") && !message.contains("file"), "{message}");
    assert_eq!(message.matches("the name is empty").count(), 1, "{message}");
    assert!(message.contains("neither an extension"), "{message}");
}
