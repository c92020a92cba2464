//! The readiness checker: every `ops.health_interval`, is the database
//! answering, and did every configured speech engine load? The result goes to
//! the shared [`Readiness`], which SIP OPTIONS and `/readyz` answer from.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::directory::store::DirectoryStore;
use crate::ops::health::Readiness;
use crate::speech::registry::SpeechRegistry;

/// Runs until `cancel`. A database that does not answer within `interval`
/// counts as down.
pub(super) async fn check(
    readiness: Readiness,
    store: DirectoryStore,
    speech: Arc<SpeechRegistry>,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = cancel.cancelled() => return,
        }
        let database_up = match tokio::time::timeout(interval, store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                warn!(%error, "readiness: the database does not answer");
                false
            }
            Err(_) => {
                warn!(?interval, "readiness: the database did not answer in time");
                false
            }
        };
        let failed = speech.failed_engines();
        if !failed.is_empty() {
            warn!(languages = ?failed, "readiness: speech engines not loaded");
        }
        let was_ready = readiness.is_ready();
        readiness.set_checks(database_up, failed.is_empty());
        let ready = readiness.is_ready();
        if ready != was_ready {
            info!(ready, state = ?readiness.state(), "readiness changed");
        }
    }
}
