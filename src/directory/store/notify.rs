//! Directory changes made by other nodes (PostgreSQL only).
//!
//! Every committed version bump is announced by the database itself: the
//! trigger of `migrations/postgres/0003_directory_notify.sql` sends
//! `NOTIFY attendant_directory, '<store_id>:<version>'`, delivered at commit.
//! Each node LISTENs ([`sqlx::postgres::PgListener`]) and announces a version
//! newer than the one it knows on its own [`super::DirectoryEvents`], as if
//! the change had been made locally: the speech refresh (grammar, name index,
//! spoken names) follows.
//!
//! Notifications are lost while the listening connection is down, so the
//! versions are re-read from `directory_versions` (a version check, not a
//! replay: only the newest version counts):
//! - at once when the connection was lost and re-established;
//! - every `ops.directory_poll_interval`, as a safety net (a reconnect that
//!   failed while the database was away, a notification dropped anyway).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{DirectoryStore, Pool, StoreError};
use crate::directory::events::{DirectoryChanged, DirectoryEvents};
use crate::directory::{DirectoryVersion, StoreId};

/// The channel the trigger notifies.
pub const CHANNEL: &str = "attendant_directory";

/// How long to wait before listening again after the connection failed.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Where a version came from, for the logs and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Notify,
    Reconnect,
    Poll,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Notify => "notify",
            Source::Reconnect => "reconnect",
            Source::Poll => "poll",
        }
    }
}

/// The newest version known on this node per store; announces what is newer.
#[derive(Debug, Clone)]
struct KnownVersions {
    versions: Arc<Mutex<HashMap<StoreId, i64>>>,
    events: DirectoryEvents,
}

impl KnownVersions {
    /// Records `version`; true if it is newer than the one known.
    fn advance(&self, store: StoreId, version: DirectoryVersion) -> bool {
        let mut versions = self
            .versions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let known = versions.entry(store).or_insert(0);
        if version.0 > *known {
            *known = version.0;
            true
        } else {
            false
        }
    }

    /// A version learnt from the database: announced if new here.
    fn learn(&self, store: StoreId, version: DirectoryVersion, source: Source) {
        if self.advance(store, version) {
            info!(%store, version = version.0, source = source.label(), "directory changed on another node");
            crate::ops::metrics::directory_change(source.label());
            self.events.publish(store, version);
        }
    }
}

/// `"<store_id>:<version>"` as the trigger writes it.
fn parse_payload(payload: &str) -> Option<(StoreId, DirectoryVersion)> {
    let (store, version) = payload.split_once(':')?;
    Some((
        StoreId(store.parse().ok()?),
        DirectoryVersion(version.parse().ok()?),
    ))
}

impl DirectoryStore {
    /// With PostgreSQL: starts LISTENing for other nodes' changes and reads the
    /// current versions (in that order, so no change is missed in between),
    /// then returns the task that announces newer versions on
    /// [`DirectoryStore::events`] until `cancel`. Call it before reading the
    /// directories to serve them. `None` with SQLite (one node).
    pub async fn follow_other_nodes(
        &self,
        poll_interval: Duration,
        cancel: CancellationToken,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let Pool::Postgres(pool) = &self.pool else {
            return None;
        };
        let pool = pool.clone();
        let known = KnownVersions {
            versions: Arc::default(),
            events: self.events.clone(),
        };
        // Changes made here: known already, no need to announce them twice.
        let local = self.events.subscribe();
        let listener = match listen(&pool).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                warn!(%error, "cannot LISTEN for other nodes' directory changes yet: retrying");
                None
            }
        };
        match self.directory_versions().await {
            Ok(versions) => {
                for version in versions {
                    known.advance(version.store, version.version);
                }
            }
            Err(error) => warn!(%error, "cannot read the directory versions: the next poll will"),
        }
        let store = self.clone();
        Some(async move {
            tokio::join!(
                follow_notifications(pool, listener, store.clone(), known.clone(), cancel.clone()),
                poll_versions(store, known.clone(), poll_interval, cancel.clone()),
                follow_local(local, known, cancel),
            );
        })
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Announces each notified version; re-reads every version after a reconnect.
async fn follow_notifications(
    pool: PgPool,
    mut listener: Option<PgListener>,
    store: DirectoryStore,
    known: KnownVersions,
    cancel: CancellationToken,
) {
    loop {
        let Some(active) = listener.as_mut() else {
            tokio::select! {
                () = tokio::time::sleep(RETRY_DELAY) => {}
                () = cancel.cancelled() => return,
            }
            match listen(&pool).await {
                Ok(new) => {
                    info!("listening for other nodes' directory changes again");
                    listener = Some(new);
                    catch_up(&store, &known, Source::Reconnect).await;
                }
                Err(error) => debug!(%error, "cannot LISTEN yet"),
            }
            continue;
        };
        let received = tokio::select! {
            received = active.try_recv() => received,
            () = cancel.cancelled() => return,
        };
        match received {
            Ok(Some(notification)) => match parse_payload(notification.payload()) {
                Some((id, version)) => known.learn(id, version, Source::Notify),
                None => warn!(
                    payload = notification.payload(),
                    "unexpected directory notification"
                ),
            },
            // Lost and re-established (sqlx reconnects before returning):
            // what was notified meanwhile is gone, the versions are not.
            Ok(None) => {
                warn!("directory notifications interrupted: re-reading the versions");
                catch_up(&store, &known, Source::Reconnect).await;
            }
            Err(error) => {
                warn!(%error, "directory notifications lost: listening again");
                listener = None;
            }
        }
    }
}

/// Re-reads every version every `interval`.
async fn poll_versions(
    store: DirectoryStore,
    known: KnownVersions,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate: the versions were just read
    loop {
        tokio::select! {
            _ = ticks.tick() => catch_up(&store, &known, Source::Poll).await,
            () = cancel.cancelled() => return,
        }
    }
}

/// Versions announced on this node (its own changes, and those this module
/// announced) are known: a NOTIFY of the same version is not announced again.
async fn follow_local(
    mut local: broadcast::Receiver<DirectoryChanged>,
    known: KnownVersions,
    cancel: CancellationToken,
) {
    loop {
        let changed = tokio::select! {
            changed = local.recv() => changed,
            () = cancel.cancelled() => return,
        };
        match changed {
            Ok(change) => {
                known.advance(change.store, change.version);
            }
            // Missed ones are re-read by the next poll or notification.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn catch_up(store: &DirectoryStore, known: &KnownVersions, source: Source) {
    match store.directory_versions().await {
        Ok(versions) => {
            for version in versions {
                known.learn(version.store, version.version, source);
            }
        }
        Err(error) => log_read_error(&error),
    }
}

fn log_read_error(error: &StoreError) {
    warn!(%error, "cannot re-read the directory versions: trying again later");
}

#[cfg(test)]
mod tests {
    //! Payloads parse as the trigger writes them; only newer versions are announced.
    use super::*;

    #[test]
    fn payloads_parse_as_the_trigger_writes_them() {
        assert_eq!(
            parse_payload("12:345"),
            Some((StoreId(12), DirectoryVersion(345)))
        );
        for bad in ["", "12", "12:", ":3", "a:1", "1:b", "1:2:3"] {
            assert_eq!(parse_payload(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_newer_versions_are_announced() {
        let events = DirectoryEvents::new();
        let mut announced = events.subscribe();
        let known = KnownVersions {
            versions: Arc::default(),
            events,
        };
        known.learn(StoreId(1), DirectoryVersion(3), Source::Notify);
        known.learn(StoreId(1), DirectoryVersion(3), Source::Poll);
        known.learn(StoreId(1), DirectoryVersion(2), Source::Reconnect);
        assert!(
            !known.advance(StoreId(1), DirectoryVersion(3)),
            "a local change already known"
        );
        known.learn(StoreId(1), DirectoryVersion(4), Source::Poll);
        let got: Vec<_> = std::iter::from_fn(|| announced.try_recv().ok())
            .map(|c| c.version.0)
            .collect();
        assert_eq!(got, vec![3, 4]);
    }
}
