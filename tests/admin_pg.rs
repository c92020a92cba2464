//! The administration API over PostgreSQL (the same scenarios as admin_api.rs),
//! each test in a fresh database on the server named by `ATTENDANT_TEST_PG_URL`
//! (`make test` starts one with scripts/start-postgres.sh). Without it these
//! tests fail rather than pass silently.

mod admin_support;

use admin_support::Harness;

#[tokio::test]
async fn pg_store_a_cannot_read_or_change_store_b_through_any_route() {
    admin_support::scenario_isolation(&Harness::postgres().await).await;
}

#[tokio::test]
async fn pg_operator_token_works_on_every_route() {
    admin_support::scenario_operator_everywhere(&Harness::postgres().await).await;
}

#[tokio::test]
async fn pg_store_tokens_see_their_own_scope() {
    admin_support::scenario_store_token_scope(&Harness::postgres().await).await;
}

#[tokio::test]
async fn pg_changes_are_audited_versioned_and_announced() {
    admin_support::scenario_audit_and_events(&Harness::postgres().await).await;
}

#[tokio::test]
async fn pg_import_dry_run_apply_and_export_round_trip() {
    admin_support::scenario_import_export(&Harness::postgres().await).await;
}

#[tokio::test]
async fn pg_recent_calls_are_listed_redacted() {
    admin_support::scenario_calls(&Harness::postgres().await).await;
}

/// A backup taken from SQLite restores into PostgreSQL, and PostgreSQL's own
/// backup of it is byte-identical (ids, JSON text, booleans and instants kept);
/// the restored server keeps assigning fresh ids.
#[tokio::test]
async fn pg_backup_from_sqlite_restores_into_postgres_byte_identical() {
    use attendant::directory::store::DirectoryStore;
    use attendant::directory::store::admin::backup::{Backup, BackupScope};
    use axum::http::{Method, StatusCode};
    use serde_json::json;

    let source = Harness::sqlite().await;
    admin_support::scenario_import_export(&source).await;
    admin_support::scenario_calls(&source).await;
    let first = source.db.backup(BackupScope::Installation).await.unwrap().to_json();

    let pg = DirectoryStore::open(&admin_support::fresh_postgres_database().await).await.unwrap();
    pg.restore(&Backup::from_json(&first).unwrap()).await.unwrap();
    let second = pg.backup(BackupScope::Installation).await.unwrap().to_json();
    assert_eq!(String::from_utf8(second.clone()).unwrap(), String::from_utf8(first).unwrap());

    let again = DirectoryStore::open(&admin_support::fresh_postgres_database().await).await.unwrap();
    again.restore(&Backup::from_json(&second).unwrap()).await.unwrap();
    assert_eq!(again.backup(BackupScope::Installation).await.unwrap().to_json(), second);

    // The restored operator token works, and new rows get new ids.
    let h = Harness { db: pg.clone(), app: attendant::admin::router(attendant::admin::AdminState::new(pg)), ..source };
    let (store, _) = h.store("0100000077", "After restore").await;
    let created = h
        .send(admin_support::Req::new(Method::POST, format!("/api/v1/stores/{}/entries", store.0), Some(&h.operator)).json(json!({"name": "New", "extension": "1"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
}
