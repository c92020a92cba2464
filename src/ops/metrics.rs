//! The Prometheus metrics: names, help texts, and one function per event so
//! that call sites stay one line.
//!
//! Recorded through the `metrics` facade; [`install`] puts the Prometheus
//! recorder (`metrics-exporter-prometheus`) in place once per process and
//! returns the handle that renders the text exposition for `/metrics`. Until
//! then (CLI commands, unit tests) every function here is a no-op.
//!
//! Every metric is documented in `docs/metrics.md`; the test
//! `tests/ops_metrics.rs` scrapes them after real calls.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

/// Calls held now (from INVITE accepted for set-up until released).
pub const CALLS_ACTIVE: &str = "attendant_calls_active";
/// Calls ended, by `outcome`.
pub const CALLS: &str = "attendant_calls_total";
/// INVITEs refused by the SIP layer before any call was made, by `reason`.
pub const INVITES_REFUSED: &str = "attendant_invites_refused_total";
/// INVITE received to answer ready (store, prompts, RTP port), seconds.
pub const CALL_SETUP: &str = "attendant_call_setup_seconds";
/// REFER sent to the transfer's outcome, seconds, by `result`.
pub const TRANSFER: &str = "attendant_transfer_seconds";
/// Speech decisions, by `decision`.
pub const RECOGNITION_DECISIONS: &str = "attendant_recognition_decisions_total";
/// End of an utterance to its decoded result, seconds.
pub const DECODE: &str = "attendant_decode_seconds";
/// RTP packets accepted from callers.
pub const RTP_RECEIVED: &str = "attendant_rtp_packets_received_total";
/// RTP packets missing from callers' streams (sequence-number gaps).
pub const RTP_LOST: &str = "attendant_rtp_packets_lost_total";
/// RTP packets that arrived late or twice, and were dropped.
pub const RTP_LATE: &str = "attendant_rtp_packets_late_total";
/// The directory version each store's calls use on this node, by `store` (number).
pub const DIRECTORY_VERSION: &str = "attendant_directory_version";
/// Directory changes applied on this node, by `source`.
pub const DIRECTORY_CHANGES: &str = "attendant_directory_changes_total";
/// Admin API and console requests, by `method` and `status`.
pub const ADMIN_REQUESTS: &str = "attendant_admin_requests_total";
/// Call records dropped because the database writer was behind or stopped.
pub const CALL_RECORDS_DROPPED: &str = "attendant_call_records_dropped_total";
/// 1 when the node takes new calls (see `ops::health`), 0 otherwise.
pub const READY: &str = "attendant_ready";

/// Histogram buckets, seconds: from a fast set-up (a few ms) to a slow transfer.
const SECONDS_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (the first call does; later calls return
/// the same handle) and describes every metric.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(&SECONDS_BUCKETS)?
        .install_recorder()?;
    describe();
    // Gauges appear at once, at their starting values.
    gauge!(CALLS_ACTIVE).set(0.0);
    gauge!(READY).set(1.0);
    // A counter an alert watches is shown at 0 rather than missing.
    counter!(CALL_RECORDS_DROPPED).absolute(0);
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// The installed recorder's handle, if [`install`] ran.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE.get().cloned()
}

fn describe() {
    describe_gauge!(CALLS_ACTIVE, "Calls held now, from INVITE to release.");
    describe_counter!(CALLS, "Calls ended, by outcome.");
    describe_counter!(
        INVITES_REFUSED,
        "INVITEs refused with 503 before a call was made, by reason (overload, draining)."
    );
    describe_histogram!(
        CALL_SETUP,
        Unit::Seconds,
        "INVITE received to answer ready: store, prompts, RTP port."
    );
    describe_histogram!(
        TRANSFER,
        Unit::Seconds,
        "REFER sent to the transfer's outcome, by result."
    );
    describe_counter!(RECOGNITION_DECISIONS, "Speech decisions, by decision.");
    describe_histogram!(
        DECODE,
        Unit::Seconds,
        "End of an utterance to its decoded result."
    );
    describe_counter!(RTP_RECEIVED, "RTP packets accepted from callers.");
    describe_counter!(
        RTP_LOST,
        "RTP packets missing from callers' streams (sequence gaps)."
    );
    describe_counter!(
        RTP_LATE,
        "RTP packets from callers that arrived late or twice (dropped)."
    );
    describe_gauge!(
        DIRECTORY_VERSION,
        "Directory version each store's new calls use on this node, by store number."
    );
    describe_counter!(
        DIRECTORY_CHANGES,
        "Directory changes applied on this node, by source (local, notify, poll, reconnect)."
    );
    describe_counter!(
        ADMIN_REQUESTS,
        "Admin API and console requests, by method and status."
    );
    describe_counter!(
        CALL_RECORDS_DROPPED,
        "Call records dropped: the database writer was behind or stopped."
    );
    describe_gauge!(
        READY,
        "1 when the node takes new calls, 0 when draining or a check fails."
    );
}

/// A call task started.
pub fn call_started() -> ActiveCall {
    gauge!(CALLS_ACTIVE).increment(1.0);
    ActiveCall(())
}

/// Counts one call in [`CALLS_ACTIVE`] until dropped (however the call task ends).
#[derive(Debug)]
pub struct ActiveCall(());

impl Drop for ActiveCall {
    fn drop(&mut self) {
        gauge!(CALLS_ACTIVE).decrement(1.0);
    }
}

/// A call ended with `outcome` (the call record's decision, or `refused`).
pub fn call_ended(outcome: &str) {
    counter!(CALLS, "outcome" => outcome.to_owned()).increment(1);
}

/// The SIP layer refused an INVITE with 503 (`overload` or `draining`).
pub fn invite_refused(reason: &'static str) {
    counter!(INVITES_REFUSED, "reason" => reason).increment(1);
}

/// A call was ready to answer `took` after its INVITE arrived.
pub fn call_set_up(took: Duration) {
    histogram!(CALL_SETUP).record(took.as_secs_f64());
}

/// A transfer ended with `result` (`accepted`, `refused`, `failed`) `took` after its REFER.
pub fn transfer_done(result: &'static str, took: Duration) {
    histogram!(TRANSFER, "result" => result).record(took.as_secs_f64());
}

/// The speech path decided (`transfer`, `confirm`, `disambiguate`, `no_match`).
pub fn recognition_decision(decision: &'static str) {
    counter!(RECOGNITION_DECISIONS, "decision" => decision).increment(1);
}

/// An utterance was decoded `took` after it ended.
pub fn decoded(took: Duration) {
    histogram!(DECODE).record(took.as_secs_f64());
}

/// A call's RTP receive counts, added at its end.
pub fn rtp_received(accepted: u64, lost: u64, late: u64) {
    counter!(RTP_RECEIVED).increment(accepted);
    counter!(RTP_LOST).increment(lost);
    counter!(RTP_LATE).increment(late);
}

/// Store `number`'s new calls use directory `version` on this node.
pub fn directory_version(number: &str, version: i64) {
    // Versions stay far below 2^53, exact in an f64.
    gauge!(DIRECTORY_VERSION, "store" => number.to_owned()).set(version as f64);
}

/// A directory change was applied, learnt from `source`.
pub fn directory_change(source: &'static str) {
    counter!(DIRECTORY_CHANGES, "source" => source).increment(1);
}

/// The admin API answered a `method` request with `status`.
pub fn admin_request(method: &str, status: u16) {
    counter!(ADMIN_REQUESTS, "method" => method.to_owned(), "status" => status.to_string())
        .increment(1);
}

/// A call record was dropped.
pub fn call_record_dropped() {
    counter!(CALL_RECORDS_DROPPED).increment(1);
}

/// Whether the node takes new calls.
pub fn set_ready(ready: bool) {
    gauge!(READY).set(if ready { 1.0 } else { 0.0 });
}
