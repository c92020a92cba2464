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
