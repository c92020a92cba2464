//! The administration API over SQLite: every route, every validation rule, auth
//! and its rate limit, isolation between stores, audit and the OpenAPI document.

mod admin_support;

use std::time::Duration;

use admin_support::{Harness, Req, concrete, valid_body};
use attendant::admin::auth::FailureLimit;
use attendant::admin::{AdminLimits, ROUTES};
use attendant::directory::import::ImportLimits;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn store_a_cannot_read_or_change_store_b_through_any_route() {
    admin_support::scenario_isolation(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn operator_token_works_on_every_route() {
    admin_support::scenario_operator_everywhere(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn store_tokens_see_their_own_scope() {
    admin_support::scenario_store_token_scope(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn changes_are_audited_versioned_and_announced() {
    admin_support::scenario_audit_and_events(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn import_dry_run_apply_and_export_round_trip() {
    admin_support::scenario_import_export(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn recent_calls_are_listed_redacted() {
    admin_support::scenario_calls(&Harness::sqlite().await).await;
}

#[tokio::test]
async fn openapi_names_exactly_the_routes_of_the_router() {
    let h = Harness::sqlite().await;
    let doc = h.send(Req::new(Method::GET, "/api/v1/openapi.json", None)).await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.json["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} missing from openapi.json"))[method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {path} missing from openapi.json");
        assert!(op["responses"].is_object(), "{method} {path} has responses");
    }
    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                ROUTES.iter().any(|(m, p)| p == path && m.as_str().eq_ignore_ascii_case(method)),
                "openapi.json documents {method} {path}, which ROUTES lacks"
            );
        }
    }
    assert_eq!(documented, ROUTES.len());
    // And ROUTES is what the router serves: no route of the list falls through to
    // the router's fallback (404 "route not found") or its 405.
    let (store, token) = h.store("0100000001", "A").await;
    let entry = h.entry(store, &token, json!({"name": "X", "extension": "201"})).await;
    for (method, path) in ROUTES {
        let uri = concrete(path, store, entry, "0000000000000000");
        let reply = h.send(Req::new(method.clone(), uri.clone(), Some(&h.operator))).await;
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_ne!(reply.json["error"]["message"], "route not found", "{method} {uri}");
    }
    let unrouted = h.send(Req::new(Method::GET, "/api/v1/nothing", Some(&h.operator))).await;
    assert_eq!((unrouted.status, unrouted.code()), (StatusCode::NOT_FOUND, "not_found"));
    let wrong_method = h.send(Req::new(Method::PATCH, "/api/v1/stores", Some(&h.operator))).await;
    assert_eq!((wrong_method.status, wrong_method.code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
}

#[tokio::test]
async fn tokens_are_required_checked_and_expire() {
    let h = Harness::sqlite().await;
    let (store, _) = h.store("0100000001", "A").await;
    let path = format!("/api/v1/stores/{}/entries", store.0);
    let expiring = h
        .send(Req::new(Method::POST, format!("/api/v1/stores/{}/tokens", store.0), Some(&h.operator)).json(json!({"label": "temp", "expires_in_days": 1})))
        .await
        .json["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_secret = format!("{}{}", &expiring[..expiring.len() - 1], if expiring.ends_with('0') { '1' } else { '0' });
    let cases: Vec<(Option<&str>, StatusCode, &str)> = vec![
        (None, StatusCode::UNAUTHORIZED, "missing_token"),
        (Some("not-a-token"), StatusCode::UNAUTHORIZED, "invalid_token"),
        (Some(&wrong_secret), StatusCode::UNAUTHORIZED, "invalid_token"),
        (Some(&expiring), StatusCode::OK, ""),
    ];
    for (token, status, code) in cases {
        let reply = h.send(Req::new(Method::GET, path.clone(), token)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{token:?}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(reply.headers["www-authenticate"], "Bearer");
        }
    }
    h.advance_ms(24 * 3600 * 1000);
    let expired = h.send(Req::new(Method::GET, path.clone(), Some(&expiring))).await;
    assert_eq!((expired.status, expired.code()), (StatusCode::UNAUTHORIZED, "token_expired"));
    // Revoked by the operator: refused at once.
    let me = h.get("/api/v1/me", &h.operator).await;
    let op_id = me.json["token"].as_str().unwrap().to_owned();
    let (_, token_b) = h.store("0100000002", "B").await;
    let b_id = h.get("/api/v1/me", &token_b).await.json["token"].as_str().unwrap().to_owned();
    assert_eq!(h.send(Req::new(Method::DELETE, format!("/api/v1/tokens/{b_id}"), Some(&h.operator))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get("/api/v1/me", &token_b).await.status, StatusCode::UNAUTHORIZED);
    assert_ne!(op_id, b_id);
}

#[tokio::test]
async fn failed_attempts_are_rate_limited_per_address() {
    let limits = AdminLimits { failures: FailureLimit { burst: 3, refill_every: Duration::from_secs(6) }, ..AdminLimits::default() };
    let h = Harness::sqlite_with(limits).await;
    let bad = format!("att.{}.{}", "a".repeat(16), "b".repeat(64));
    let attacker = [192, 0, 2, 7];
    for _ in 0..3 {
        let reply = h.send(Req::new(Method::GET, "/api/v1/me", Some(&bad)).with_ip(attacker)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let limited = h.send(Req::new(Method::GET, "/api/v1/me", Some(&bad)).with_ip(attacker)).await;
    assert_eq!((limited.status, limited.code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(limited.headers["retry-after"], "6");
    let correct_but_limited = h.send(Req::new(Method::GET, "/api/v1/me", Some(&h.operator)).with_ip(attacker)).await;
    assert_eq!(correct_but_limited.status, StatusCode::TOO_MANY_REQUESTS, "even a right guess is refused while limited");
    let other = h.send(Req::new(Method::GET, "/api/v1/me", Some(&h.operator)).with_ip([192, 0, 2, 8])).await;
    assert_eq!(other.status, StatusCode::OK, "other addresses are not affected");
    h.advance_ms(6_000);
    let later = h.send(Req::new(Method::GET, "/api/v1/me", Some(&h.operator)).with_ip(attacker)).await;
    assert_eq!(later.status, StatusCode::OK, "an attempt is earned back after 6 s");
}

#[tokio::test]
async fn every_validation_rule_answers_its_status() {
    let limits = AdminLimits { max_body_bytes: 4096, import: ImportLimits { max_bytes: 2048, max_entries: 3 }, ..AdminLimits::default() };
    let h = Harness::sqlite_with(limits).await;
    let (store, token) = h.store("0100000001", "A").await;
    let anne = h.entry(store, &token, json!({"name": "Anne", "extension": "201"})).await;
    let s = store.0;
    let entries = format!("/api/v1/stores/{s}/entries");
    let big_json = json!({"name": "x".repeat(5000)}).to_string();
    let big_csv = format!("name,extension\n{}", "Somebody Long,1\n".repeat(140));
    let four = "name,extension\nA,1\nB,2\nC,3\nD,4\n";
    let hours_bad = json!({"time_zone": "Europe/Paris", "weekly": {"monday": [{"open": "19:00", "close": "08:00"}]}, "after_hours": {"kind": "operator"}});
    let hours_tz = json!({"time_zone": "Mars/Olympus", "weekly": {}, "after_hours": {"kind": "operator"}});
    let hours_typo = json!({"time_zone": "Europe/Paris", "weekly": {"mondy": []}, "after_hours": {"kind": "operator"}});
    type Case<'a> = (&'a str, Method, String, Option<&'a str>, Vec<u8>, StatusCode, &'a str, &'a str);
    let j = |v: serde_json::Value| v.to_string().into_bytes();
    let cases: Vec<Case> = vec![
        ("bad JSON", Method::POST, entries.clone(), Some("application/json"), b"{\"name\": ".to_vec(), StatusCode::BAD_REQUEST, "bad_request", "EOF"),
        ("wrong type", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": 42})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "name"),
        ("wrong type in list", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "A", "aliases": "x"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "aliases"),
        ("unknown field", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "A", "colour": "red"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "unknown field `colour`"),
        ("missing content type", Method::POST, entries.clone(), None, j(json!({"name": "A"})), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", ""),
        ("text body", Method::POST, entries.clone(), Some("text/plain"), b"name".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", ""),
        ("huge body", Method::POST, entries.clone(), Some("application/json"), big_json.into_bytes(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "too large"),
        ("empty name", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": " ", "extension": "202"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "the name is empty"),
        ("no target", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "no target"),
        ("bad target", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B", "target": "mailto:x@y"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "neither an extension"),
        ("bad fallback", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B", "extension": "202", "fallback": "sip:"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "`fallback`"),
        ("bad extension", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B", "extension": "2O2"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "1 to 15 digits"),
        ("control characters", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B\u{7}", "extension": "202"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "control characters"),
        ("too long", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "B".repeat(121), "extension": "202"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "too long"),
        ("duplicate name", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "anne", "extension": "202"})), StatusCode::CONFLICT, "conflict", "already has an entry `anne`"),
        ("duplicate extension", Method::POST, entries.clone(), Some("application/json"), j(json!({"name": "Bea", "extension": "201"})), StatusCode::CONFLICT, "conflict", "extension 201"),
        ("non-numeric id", Method::GET, format!("{entries}/abc"), None, vec![], StatusCode::BAD_REQUEST, "bad_request", "abc"),
        ("unknown entry", Method::GET, format!("{entries}/999999"), None, vec![], StatusCode::NOT_FOUND, "not_found", "entry 999999"),
        ("unknown store", Method::GET, "/api/v1/stores/999999/entries".into(), None, vec![], StatusCode::FORBIDDEN, "forbidden", ""),
        ("unknown query key", Method::GET, format!("{entries}?colour=red"), None, vec![], StatusCode::BAD_REQUEST, "bad_request", "colour"),
        ("limit out of range", Method::GET, format!("/api/v1/stores/{s}/calls?limit=0"), None, vec![], StatusCode::UNPROCESSABLE_ENTITY, "invalid", "limit 0"),
        ("limit not a number", Method::GET, format!("/api/v1/stores/{s}/audit?limit=lots"), None, vec![], StatusCode::BAD_REQUEST, "bad_request", "limit"),
        ("menu digit 0", Method::PUT, format!("/api/v1/stores/{s}/menu"), Some("application/json"), j(json!([{"digit": "0", "label": "x", "target": "1"}])), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "digit '0' is not 1-9"),
        ("menu digit twice", Method::PUT, format!("/api/v1/stores/{s}/menu"), Some("application/json"), j(json!([{"digit": "1", "label": "x", "target": "1"}, {"digit": "1", "label": "y", "target": "2"}])), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "appears twice"),
        ("menu two keys", Method::PUT, format!("/api/v1/stores/{s}/menu"), Some("application/json"), j(json!([{"digit": "12", "label": "x", "target": "1"}])), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "one key"),
        ("menu bad target", Method::PUT, format!("/api/v1/stores/{s}/menu"), Some("application/json"), j(json!([{"digit": "1", "label": "x", "target": "nowhere"}])), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "`target` value `nowhere`"),
        ("menu empty label", Method::PUT, format!("/api/v1/stores/{s}/menu"), Some("application/json"), j(json!([{"digit": "1", "label": "", "target": "1"}])), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "label"),
        ("hours inverted", Method::PUT, format!("/api/v1/stores/{s}/hours"), Some("application/json"), j(hours_bad), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "closes before it opens"),
        ("hours time zone", Method::PUT, format!("/api/v1/stores/{s}/hours"), Some("application/json"), j(hours_tz), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "unknown time zone"),
        ("hours typo", Method::PUT, format!("/api/v1/stores/{s}/hours"), Some("application/json"), j(hours_typo), StatusCode::UNPROCESSABLE_ENTITY, "invalid", "mondy"),
        ("import content type", Method::POST, format!("/api/v1/stores/{s}/import"), Some("text/plain"), b"name\nA\n".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "text/csv or application/json"),
        ("import too large", Method::POST, format!("/api/v1/stores/{s}/import"), Some("text/csv"), big_csv.into_bytes(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "more than the limit of 2048"),
        ("import too many", Method::POST, format!("/api/v1/stores/{s}/import"), Some("text/csv"), four.as_bytes().to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file_rejected", "more than the limit of 3"),
        ("import encoding", Method::POST, format!("/api/v1/stores/{s}/import"), Some("text/csv; charset=utf-8"), b"name,extension\nHerv\xE9,202\n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file_rejected", "line 2: not valid UTF-8"),
        ("import unknown column", Method::POST, format!("/api/v1/stores/{s}/import"), Some("text/csv"), b"name,colour\nA,red\n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file_rejected", "unknown column `colour`"),
        ("import bad JSON", Method::POST, format!("/api/v1/stores/{s}/import"), Some("application/json"), b"[{\"name\": \"A\",\n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "file_rejected", "line 2: malformed JSON"),
        ("import dry_run not bool", Method::POST, format!("/api/v1/stores/{s}/import?dry_run=perhaps"), Some("text/csv"), b"name,extension\nA,1\n".to_vec(), StatusCode::BAD_REQUEST, "bad_request", "dry_run"),
        ("export format", Method::GET, format!("/api/v1/stores/{s}/export?format=xlsx"), None, vec![], StatusCode::BAD_REQUEST, "bad_request", "format"),
    ];
    let version_before = h.get(&format!("/api/v1/stores/{s}"), &token).await.json["version"].clone();
    for (name, method, uri, ct, body, status, code, fragment) in cases {
        let reply = h.send(Req::new(method.clone(), uri.clone(), Some(&token)).raw(ct, body)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{name}: {method} {uri}: {:?}", reply.json);
        let message = reply.json["error"]["message"].as_str().unwrap_or("").to_owned()
            + &reply.json["error"]["problems"].to_string();
        assert!(message.contains(fragment), "{name}: {message:?} lacks {fragment:?}");
    }
    assert_eq!(h.get(&format!("/api/v1/stores/{s}"), &token).await.json["version"], version_before, "no rejected request changed anything");
    assert_eq!(h.get(&format!("{entries}/{anne}"), &token).await.json["name"], "Anne");
    // Operator-only validation.
    let op_cases = [
        (json!({"name": "B", "number": "0100000001", "language": "fr", "operator": "100"}), StatusCode::CONFLICT, "conflict"),
        (json!({"name": "B", "number": "01-00", "language": "fr", "operator": "100"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        (json!({"name": "B", "number": "0100000009", "language": "de", "operator": "100"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        (json!({"name": "", "number": "0100000009", "language": "fr", "operator": "100"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        (json!({"name": "B", "number": "0100000009", "language": "fr", "operator": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
    ];
    for (body, status, code) in op_cases {
        let reply = h.send(Req::new(Method::POST, "/api/v1/stores", Some(&h.operator)).json(body.clone())).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{body}: {:?}", reply.json);
    }
    let unknown = h.get("/api/v1/stores/999999/entries", &h.operator).await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "not_found"));
    let days = h.send(Req::new(Method::POST, format!("/api/v1/stores/{s}/tokens"), Some(&h.operator)).json(json!({"label": "x", "expires_in_days": 0}))).await;
    assert_eq!(days.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_token = h.send(Req::new(Method::DELETE, "/api/v1/tokens/ffffffffffffffff", Some(&h.operator))).await;
    assert_eq!(unknown_token.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sql_looking_input_is_stored_verbatim() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("0100000001", "A").await;
    let nasty = ["Robert'); DROP TABLE entries;--", "' OR 1=1 --", "\"; DELETE FROM stores; --", "<script>alert(1)</script>"];
    for (i, name) in nasty.iter().enumerate() {
        let id = h
            .entry(store, &token, json!({"name": name, "aliases": [format!("{name} alias")], "department": name, "extension": format!("2{i}")}))
            .await;
        let back = h.get(&format!("/api/v1/stores/{}/entries/{id}", store.0), &token).await;
        assert_eq!(back.json["name"], *name);
        assert_eq!(back.json["department"], *name);
        assert_eq!(back.json["aliases"][0], format!("{name} alias"));
    }
    let search = h.get(&format!("/api/v1/stores/{}/entries?q={}", store.0, "%27%20OR%201%3D1"), &token).await;
    assert_eq!(search.json.as_array().unwrap().len(), 1, "search is a text match, not SQL");
    assert_eq!(h.get("/api/v1/stores", &h.operator).await.json.as_array().unwrap().len(), 1, "stores table intact");
}

#[tokio::test]
async fn menu_and_hours_round_trip() {
    let h = Harness::sqlite().await;
    let (store, token) = h.store("0100000001", "A").await;
    let s = store.0;
    assert_eq!(h.get(&format!("/api/v1/stores/{s}/hours"), &token).await.json, serde_json::Value::Null, "no hours: always open");
    let (ct, body) = valid_body(&Method::PUT, "/api/v1/stores/{store}/hours").unwrap();
    let put = h.send(Req::new(Method::PUT, format!("/api/v1/stores/{s}/hours"), Some(&token)).raw(Some(ct), body)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.json);
    let hours = h.get(&format!("/api/v1/stores/{s}/hours"), &token).await.json;
    assert_eq!(hours["weekly"]["monday"][0], json!({"open": "08:30:00", "close": "19:30:00"}));
    assert_eq!(hours["after_hours"], json!({"kind": "operator"}));
    let menu = json!([{"digit": "2", "label": "boucherie", "target": "302"}, {"digit": "1", "label": "boulangerie", "target": "sip:pain@pbx"}]);
    let put = h.send(Req::new(Method::PUT, format!("/api/v1/stores/{s}/menu"), Some(&token)).json(menu)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.json);
    let menu = h.get(&format!("/api/v1/stores/{s}/menu"), &token).await.json;
    assert_eq!(menu, json!([{"digit": "1", "label": "boulangerie", "target": "sip:pain@pbx"}, {"digit": "2", "label": "boucherie", "target": "302"}]));
    let clear = h.send(Req::new(Method::PUT, format!("/api/v1/stores/{s}/hours"), Some(&token)).json(serde_json::Value::Null)).await;
    assert_eq!(clear.status, StatusCode::OK);
    assert_eq!(h.get(&format!("/api/v1/stores/{s}/hours"), &token).await.json, serde_json::Value::Null);
    assert_eq!(h.get(&format!("/api/v1/stores/{s}"), &token).await.json["version"], 3, "each change bumped the version");
}

#[tokio::test]
async fn console_assets_are_served_with_a_strict_policy() {
    let h = Harness::sqlite().await;
    for (path, ct, marker) in [("/", "text/html", "sign-in-form"), ("/console.js", "text/javascript", "textContent"), ("/console.css", "text/css", "body")] {
        let reply = h.send(Req::new(Method::GET, path, None)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.headers["content-type"].to_str().unwrap().starts_with(ct));
        assert!(reply.headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
        assert!(String::from_utf8(reply.bytes).unwrap().contains(marker), "{path}");
    }
}

/// `GET /api/v1/registrations` shows each `[[registration]]` account's state
/// as the runtime reports it, to the operator only; with no registration
/// connected it lists none.
#[tokio::test]
async fn registrations_are_shown_to_the_operator_only() {
    use attendant::sip::registration::FailureReason;
    use attendant::sip::{RegistrationState, RegistrationStatus};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("attendant.db").display());
    let source: attendant::admin::RegistrationSource = std::sync::Arc::new(|| {
        vec![
            RegistrationStatus {
                aor: "sip:1000@pbx.example".into(),
                state: RegistrationState::Registered { granted: 600 },
                registered_count: 3,
            },
            RegistrationStatus {
                aor: "sip:2000@pbx.example".into(),
                state: RegistrationState::Retrying { failures: 2, reason: FailureReason::Rejected { status: 403 } },
                registered_count: 0,
            },
        ]
    });
    let h = Harness::configured(&url, Some(dir), AdminLimits::default(), |state| state.with_registrations(source)).await;
    let reply = h.get("/api/v1/registrations", &h.operator).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(
        reply.json,
        json!([
            {"aor": "sip:1000@pbx.example", "state": "registered", "granted_secs": 600, "failures": null, "reason": null, "registered_count": 3},
            {"aor": "sip:2000@pbx.example", "state": "retrying", "granted_secs": null, "failures": 2, "reason": "rejected with 403", "registered_count": 0}
        ])
    );
    let (_, store_token) = h.store("1000", "Store").await;
    let reply = h.get("/api/v1/registrations", &store_token).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "forbidden"));

    let none = Harness::sqlite().await;
    let reply = none.get("/api/v1/registrations", &none.operator).await;
    assert_eq!((reply.status, reply.json.clone()), (StatusCode::OK, json!([])));
}
