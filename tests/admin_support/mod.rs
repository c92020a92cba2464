//! Shared harness and scenarios of the administration API tests, run against
//! SQLite (tests/admin_api.rs) and PostgreSQL (tests/admin_pg.rs).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use attendant::admin::{self, AdminLimits, AdminState, ROUTES};
use attendant::directory::store::DirectoryStore;
use attendant::directory::store::admin::{Actor, NewCall, TokenScope};
use attendant::directory::{DirectoryVersion, StoreId};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Start of the fake clock: 2026-11-30T10:00:00Z.
pub const T0_MS: i64 = 1_796_032_800_000;

pub struct Harness {
    pub db: DirectoryStore,
    pub app: axum::Router,
    pub operator: String,
    /// Milliseconds since the epoch, read by the API's clock.
    pub clock: Arc<AtomicI64>,
    pub _dir: Option<tempfile::TempDir>,
}

/// A response: status, headers, body (parsed as JSON when it is JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// A request to send.
pub struct Req<'a> {
    pub method: Method,
    pub path: String,
    pub token: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: Vec<u8>,
    pub ip: [u8; 4],
}

impl<'a> Req<'a> {
    pub fn new(method: Method, path: impl Into<String>, token: Option<&'a str>) -> Req<'a> {
        Req { method, path: path.into(), token, content_type: None, body: Vec::new(), ip: [10, 0, 0, 1] }
    }
    pub fn json(mut self, value: Value) -> Self {
        self.content_type = Some("application/json");
        self.body = value.to_string().into_bytes();
        self
    }
    pub fn raw(mut self, content_type: Option<&'a str>, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = content_type;
        self.body = body.into();
        self
    }
    pub fn with_ip(mut self, ip: [u8; 4]) -> Self {
        self.ip = ip;
        self
    }
}

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("attendant.db").display());
        Harness::over(&url, Some(dir), AdminLimits::default()).await
    }

    pub async fn sqlite_with(limits: AdminLimits) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("attendant.db").display());
        Harness::over(&url, Some(dir), limits).await
    }

    /// A fresh database on the PostgreSQL server named by `ATTENDANT_TEST_PG_URL`.
    pub async fn postgres() -> Harness {
        let url = fresh_postgres_database().await;
        Harness::over(&url, None, AdminLimits::default()).await
    }

    /// SQLite, with the sync report's vocabulary check connected.
    pub async fn sqlite_with_vocabulary(vocabulary: Arc<dyn admin::sync::VocabularyCheck>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("attendant.db").display());
        Harness::configured(&url, Some(dir), AdminLimits::default(), |state| state.with_vocabulary(vocabulary)).await
    }

    pub async fn over(url: &str, dir: Option<tempfile::TempDir>, limits: AdminLimits) -> Harness {
        Harness::configured(url, dir, limits, |state| state).await
    }

    /// Like [`Harness::over`], with `configure` applied to the API state.
    pub async fn configured(
        url: &str,
        dir: Option<tempfile::TempDir>,
        limits: AdminLimits,
        configure: impl FnOnce(AdminState) -> AdminState,
    ) -> Harness {
        let db = DirectoryStore::open(url).await.unwrap();
        let clock = Arc::new(AtomicI64::new(T0_MS));
        let read = clock.clone();
        let state = configure(AdminState::new(db.clone()))
            .with_limits(limits)
            .with_clock(Arc::new(move || Timestamp::from_millisecond(read.load(Ordering::SeqCst)).unwrap()));
        let operator = db.issue_token(TokenScope::Operator, "operator", None, &setup_actor()).await.unwrap().token;
        Harness { app: admin::router(state), db, operator, clock, _dir: dir }
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    pub async fn send(&self, req: Req<'_>) -> Reply {
        let mut builder = Request::builder().method(req.method).uri(req.path);
        if let Some(token) = req.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = req.content_type {
            builder = builder.header("content-type", ct);
        }
        let mut request = builder.body(Body::from(req.body)).unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((req.ip, 40000))));
        self.send_request(request).await
    }

    /// Sends a request built by the test (e.g. with a streamed body), from 127.0.0.1.
    pub async fn send_request(&self, mut request: Request<Body>) -> Reply {
        if request.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024).await.unwrap().to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, bytes, json }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Req::new(Method::GET, path, Some(token))).await
    }

    /// Creates a store through the API (operator) and issues its admin token.
    pub async fn store(&self, number: &str, name: &str) -> (StoreId, String) {
        let created = self
            .send(Req::new(Method::POST, "/api/v1/stores", Some(&self.operator)).json(json!({
                "name": name, "number": number, "language": "fr", "operator": "100"
            })))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
        let id = created.json["id"].as_i64().unwrap();
        let issued = self
            .send(
                Req::new(Method::POST, format!("/api/v1/stores/{id}/tokens"), Some(&self.operator))
                    .json(json!({"label": format!("admin {number}")})),
            )
            .await;
        assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.json);
        (StoreId(id), issued.json["token"].as_str().unwrap().to_owned())
    }

    /// Adds an entry through the API and returns its id.
    pub async fn entry(&self, store: StoreId, token: &str, fields: Value) -> i64 {
        let reply =
            self.send(Req::new(Method::POST, format!("/api/v1/stores/{}/entries", store.0), Some(token)).json(fields)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        reply.json["entry"]["id"].as_i64().unwrap()
    }

    /// Everything the API shows of a store, to prove it did not change.
    pub async fn snapshot(&self, store: StoreId) -> Value {
        let s = store.0;
        let mut all = serde_json::Map::new();
        for path in ["", "/entries", "/menu", "/hours", "/calls", "/audit", "/sync-report"] {
            let reply = self.get(&format!("/api/v1/stores/{s}{path}"), &self.operator).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.json);
            all.insert(path.to_owned(), reply.json);
        }
        let export = self.get(&format!("/api/v1/stores/{s}/export?format=csv"), &self.operator).await;
        all.insert("export".to_owned(), Value::String(String::from_utf8(export.bytes).unwrap()));
        Value::Object(all)
    }
}

pub fn setup_actor() -> Actor {
    Actor { name: "test-setup".into(), at: Timestamp::from_millisecond(T0_MS).unwrap() }
}

/// Connects to `ATTENDANT_TEST_PG_URL` and creates a new, empty database for
/// one test; returns its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let Ok(base) = std::env::var("ATTENDANT_TEST_PG_URL") else {
        panic!(
            "ATTENDANT_TEST_PG_URL is not set: these tests need a PostgreSQL server. Run `make test`, \
             which starts one with scripts/start-postgres.sh and sets the variable."
        );
    };
    let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to ATTENDANT_TEST_PG_URL");
    let name = format!("attendant_test_{}", rand_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    // Replace the database name (the path) of the base URL.
    let (prefix, rest) = base.split_at(base.find("://").map(|i| i + 3).unwrap_or(0));
    let (authority, query) = match rest.find('/') {
        Some(slash) => {
            let after = &rest[slash..];
            let query = after.find('?').map(|q| &after[q..]).unwrap_or("");
            (&rest[..slash], query)
        }
        None => (rest, ""),
    };
    format!("{prefix}{authority}/{name}{query}")
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{}", std::process::id(), nanos)
}

// ---------------------------------------------------------------------------
// Scenarios, shared by the SQLite and PostgreSQL runs.

/// Fills a placeholder path of ROUTES with real ids.
pub fn concrete(path: &str, store: StoreId, entry: i64, token_id: &str) -> String {
    path.replace("{store}", &store.0.to_string()).replace("{entry}", &entry.to_string()).replace("{token}", token_id).replace("{lang}", "fr")
}

/// A valid request body for each route that takes one.
pub fn valid_body(method: &Method, path: &str) -> Option<(&'static str, Vec<u8>)> {
    let json = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    match (method.as_str(), path) {
        ("POST", "/api/v1/stores") => json(json!({"name": "New", "number": "+33100000999", "language": "fr", "operator": "100"})),
        ("POST", "/api/v1/stores/{store}/tokens") => json(json!({"label": "second admin", "expires_in_days": 30})),
        ("POST", "/api/v1/stores/{store}/entries") => json(json!({"name": "Zoé Zola", "extension": "299"})),
        ("PUT", "/api/v1/stores/{store}/entries/{entry}") => json(json!({"name": "Anne Mod", "extension": "201"})),
        ("PUT", "/api/v1/stores/{store}/menu") => json(json!([{"digit": "1", "label": "bakery", "target": "301"}])),
        ("PUT", "/api/v1/stores/{store}/hours") => json(json!({
            "time_zone": "Europe/Paris",
            "weekly": {"monday": [{"open": "08:30", "close": "19:30"}]},
            "after_hours": {"kind": "operator"}
        })),
        ("POST", "/api/v1/stores/{store}/hours/preview") => json(json!({
            "time_zone": "Europe/Paris",
            "weekly": {"monday": [{"open": "08:30", "close": "19:30"}]},
            "after_hours": {"kind": "operator"}
        })),
        ("POST", "/api/v1/stores/{store}/import") => {
            Some(("text/csv", b"name,extension\nAnne Mod,201\nBruno Brun,202\n".to_vec()))
        }
        _ => None,
    }
}

/// Store A's token gets 403 on every store-scoped route of store B, and B is
/// exactly as before; on the operator-only routes it gets 403 too.
pub async fn scenario_isolation(h: &Harness) {
    let (a, token_a) = h.store("0100000001", "Store A").await;
    let (b, token_b) = h.store("0100000002", "Store B").await;
    let entry_b = h.entry(b, &token_b, json!({"name": "Bob Secret", "extension": "201"})).await;
    let entry_a = h.entry(a, &token_a, json!({"name": "Alice", "extension": "201"})).await;
    let second_b = h
        .send(Req::new(Method::POST, format!("/api/v1/stores/{}/tokens", b.0), Some(&h.operator)).json(json!({"label": "x"})))
        .await;
    let token_b_id = second_b.json["id"].as_str().unwrap().to_owned();
    let before = h.snapshot(b).await;
    let mut checked = 0;
    for (method, path) in ROUTES {
        let public = matches!(*path, "/" | "/console.js" | "/console.css" | "/api/v1/openapi.json" | "/api/v1/i18n/{lang}" | "/api/v1/me");
        if public {
            continue;
        }
        let uri = concrete(path, b, entry_b, &token_b_id);
        let mut req = Req::new(method.clone(), uri.clone(), Some(&token_a));
        if let Some((ct, body)) = valid_body(method, path) {
            req = req.raw(Some(ct), body);
        }
        let reply = h.send(req).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {uri} with store A's token: {:?}", reply.json);
        assert_eq!(reply.code(), "forbidden");
        checked += 1;
    }
    assert!(checked >= 19, "every non-public route was tried ({checked})");
    assert_eq!(h.snapshot(b).await, before, "store B is unchanged");
    // B's entry id under A's own path: not found, and A's token still works there.
    let reply = h.get(&format!("/api/v1/stores/{}/entries/{entry_b}", a.0), &token_a).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"));
    for (method, body) in [(Method::PUT, Some(json!({"name": "Hijack", "extension": "666"}))), (Method::DELETE, None)] {
        let mut req = Req::new(method.clone(), format!("/api/v1/stores/{}/entries/{entry_b}", a.0), Some(&token_a));
        if let Some(body) = body {
            req = req.json(body);
        }
        assert_eq!(h.send(req).await.status, StatusCode::NOT_FOUND, "{method} of B's id via A");
    }
    assert_eq!(h.get(&format!("/api/v1/stores/{}/entries/{entry_a}", a.0), &token_a).await.status, StatusCode::OK);
    assert_eq!(h.snapshot(b).await, before, "store B is still unchanged");
}

/// The operator token works on every route, each answering success.
pub async fn scenario_operator_everywhere(h: &Harness) {
    let (a, token_a) = h.store("0100000001", "Store A").await;
    let entry = h.entry(a, &token_a, json!({"name": "Anne", "extension": "201"})).await;
    let spare = h
        .send(Req::new(Method::POST, format!("/api/v1/stores/{}/tokens", a.0), Some(&h.operator)).json(json!({"label": "spare"})))
        .await;
    let spare_id = spare.json["id"].as_str().unwrap().to_owned();
    // Deletions after the reads and updates of the entry, and the import (which
    // replaces every entry, ids included) last.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|(m, p)| if p.ends_with("/import") { 2 } else { u8::from(*m == Method::DELETE) });
    for (method, path) in routes {
        let mut uri = concrete(path, a, entry, &spare_id);
        if path.ends_with("/import") {
            // A replacing import confirms the removals its preview counted.
            let (ct, body) = valid_body(method, path).unwrap();
            let dry = h.send(Req::new(Method::POST, format!("{uri}?dry_run=true"), Some(&h.operator)).raw(Some(ct), body)).await;
            uri = format!("{uri}?confirm_removals={}", dry.json["diff"]["removed"].as_array().unwrap().len());
        }
        let mut req = Req::new(method.clone(), uri.clone(), Some(&h.operator));
        if let Some((ct, body)) = valid_body(method, path) {
            req = req.raw(Some(ct), body);
        }
        let reply = h.send(req).await;
        assert!(reply.status.is_success(), "{method} {uri} with the operator token: {} {:?}", reply.status, reply.json);
    }
    let audit = h.get(&format!("/api/v1/stores/{}/audit", a.0), &h.operator).await;
    let actions: Vec<&str> = audit.json.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    for expected in ["store.create", "token.issue", "entry.create", "entry.update", "entry.delete", "token.revoke", "menu.set", "hours.set", "directory.import"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
}

/// Store tokens can see themselves and their store, not the installation.
pub async fn scenario_store_token_scope(h: &Harness) {
    let (a, token_a) = h.store("0100000001", "Store A").await;
    let me = h.get("/api/v1/me", &token_a).await;
    assert_eq!(me.json["scope"], json!({"kind": "store", "store": a.0}));
    assert_eq!(h.get(&format!("/api/v1/stores/{}", a.0), &token_a).await.json["name"], "Store A");
    let op_me = h.get("/api/v1/me", &h.operator).await;
    assert_eq!(op_me.json["scope"], json!({"kind": "operator"}));
}

/// Changes through the API are audited with who and when, bump the version,
/// and are announced on the store's events after commit.
pub async fn scenario_audit_and_events(h: &Harness) {
    let (a, token_a) = h.store("0100000001", "Store A").await;
    let mut events = h.db.events().subscribe();
    h.advance_ms(60_000);
    let id = h.entry(a, &token_a, json!({"name": "Anne", "extension": "201", "fallback": "sip:accueil@pbx"})).await;
    let put = h
        .send(
            Req::new(Method::PUT, format!("/api/v1/stores/{}/entries/{id}", a.0), Some(&token_a))
                .json(json!({"name": "Anne Martin", "extension": "201", "aliases": ["Annie"]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.json);
    assert_eq!(put.json["version"], 2);
    let event = events.try_recv().unwrap();
    assert_eq!((event.store, event.version), (a, DirectoryVersion(1)));
    assert_eq!(events.try_recv().unwrap().version, DirectoryVersion(2));
    let me = h.get("/api/v1/me", &token_a).await;
    let token_id = me.json["token"].as_str().unwrap();
    let audit = h.get(&format!("/api/v1/stores/{}/audit", a.0), &token_a).await;
    let latest = &audit.json[0];
    assert_eq!(latest["action"], "entry.update");
    assert_eq!(latest["actor"], format!("store-admin:{token_id}"));
    assert_eq!(latest["at"], "2026-11-30T10:01:00Z");
    assert_eq!(latest["before"]["entry"]["display_name"], "Anne");
    assert_eq!(latest["before"]["entry"]["fallback"], json!({"kind": "uri", "value": "sip:accueil@pbx"}));
    assert_eq!(latest["after"]["entry"]["display_name"], "Anne Martin");
    assert_eq!(latest["after"]["entry"]["aliases"], json!(["Annie"]));
    assert_eq!(audit.json[1]["action"], "entry.create");
}

/// Import: a dry run shows the diff and changes nothing; applying bumps the
/// version, reports similar names, and export → import is a no-op diff.
pub async fn scenario_import_export(h: &Harness) {
    let (a, token) = h.store("0100000001", "Store A").await;
    h.entry(a, &token, json!({"name": "Old Person", "extension": "250"})).await;
    let base = format!("/api/v1/stores/{}", a.0);
    let csv = "name,aliases,department,extension,target,fallback,enabled\n\
               Sophie Martin,,Caisses,201,,,\n\
               Sophie Martine,,Boucherie,202,,sip:accueil@pbx,\n\
               \"Robert'); DROP TABLE entries;--\",,,203,,,false\n";
    let dry = h.send(Req::new(Method::POST, format!("{base}/import?dry_run=true"), Some(&token)).raw(Some("text/csv"), csv)).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.json);
    assert_eq!(dry.json["dry_run"], true);
    assert_eq!(dry.json["diff"]["added"].as_array().unwrap().len(), 3);
    assert_eq!(dry.json["diff"]["removed"][0]["name"], "Old Person");
    assert_eq!(dry.json["sync"]["similar"][0]["first_name"], "Sophie Martin");
    assert_eq!(dry.json["sync"]["similar"][0]["second_name"], "Sophie Martine");
    assert_eq!(h.get(&base, &token).await.json["version"], 1, "a dry run changes nothing");

    // Replacing removes "Old Person": refused until the removal is confirmed.
    let unconfirmed = h.send(Req::new(Method::POST, format!("{base}/import"), Some(&token)).raw(Some("text/csv; charset=utf-8"), csv)).await;
    assert_eq!((unconfirmed.status, unconfirmed.code()), (StatusCode::CONFLICT, "confirm_removals"), "{:?}", unconfirmed.json);
    assert_eq!(unconfirmed.json["error"]["removed"], 1);
    let applied = h
        .send(Req::new(Method::POST, format!("{base}/import?confirm_removals=1&version=1"), Some(&token)).raw(Some("text/csv; charset=utf-8"), csv))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.json);
    assert_eq!(applied.json["version"], 2);
    assert_eq!(applied.json["sync"]["similar"].as_array().unwrap().len(), 1);
    assert_eq!(applied.json["sync"]["similar_total"], 1);
    let entries = h.get(&format!("{base}/entries"), &token).await.json;
    let names: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sophie Martin", "Sophie Martine", "Robert'); DROP TABLE entries;--"], "stored verbatim");
    assert_eq!(entries[1]["fallback"], "sip:accueil@pbx");
    let search = h.get(&format!("{base}/entries?q=martine"), &token).await.json;
    assert_eq!(search.as_array().unwrap().len(), 1);

    for format in ["csv", "json"] {
        let export = h.get(&format!("{base}/export?format={format}"), &token).await;
        assert_eq!(export.status, StatusCode::OK);
        let ct = export.headers["content-type"].to_str().unwrap().to_owned();
        let again = h
            .send(Req::new(Method::POST, format!("{base}/import?dry_run=true"), Some(&token)).raw(Some(&ct), export.bytes.clone()))
            .await;
        assert_eq!(again.status, StatusCode::OK, "{format}: {:?}", again.json);
        let diff = &again.json["diff"];
        assert_eq!((diff["added"].as_array().unwrap().len(), diff["changed"].as_array().unwrap().len(), diff["removed"].as_array().unwrap().len(), diff["unchanged"].as_u64()), (0, 0, 0, Some(3)), "{format} round trip");
    }

    // A rejected file: every problem with its line; nothing changes.
    let bad = "name,extension\nA,201\n,202\nC,abc\n";
    let rejected = h.send(Req::new(Method::POST, format!("{base}/import"), Some(&token)).raw(Some("text/csv"), bad)).await;
    assert_eq!((rejected.status, rejected.code()), (StatusCode::UNPROCESSABLE_ENTITY, "file_rejected"));
    let messages: Vec<&str> = rejected.json["error"]["problems"].as_array().unwrap().iter().map(|p| p["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["line 3: the name is empty", "line 4: extension `abc` must be 1 to 15 digits"]);
    assert_eq!(h.get(&base, &token).await.json["version"], 2);
}

/// Recent calls recorded by the runtime are listed newest first, redacted.
pub async fn scenario_calls(h: &Harness) {
    let (a, token) = h.store("0100000003", "Store C").await;
    for (offset, heard) in [(0, "sophie martin"), (1000, "boulangerie")] {
        h.db.record_call(&NewCall {
            store: a,
            started_at: Timestamp::from_millisecond(T0_MS + offset).unwrap(),
            caller_number: "+33612345678",
            heard,
            understood: Some("Sophie Martin"),
            decision: "transfer",
            transferred_to: Some("201"),
            outcome: Some("speech"),
            recognition: Some("at_once"),
            entry_name: Some("Sophie Martin"),
        })
        .await
        .unwrap();
    }
    let calls = h.get(&format!("/api/v1/stores/{}/calls?limit=10", a.0), &token).await;
    assert_eq!(calls.status, StatusCode::OK);
    assert_eq!(calls.json[0]["heard"], "boulangerie");
    assert_eq!(calls.json[0]["caller"], "**********78");
    assert_eq!(calls.json.as_array().unwrap().len(), 2);
}
