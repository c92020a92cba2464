//! Keeps each store's speech (grammar, name index, spoken names) on the
//! directory's current version: every committed change announced on the
//! store's [`crate::directory::events::DirectoryEvents`] — made on this node,
//! or learnt from another node through PostgreSQL (see
//! [`crate::directory::store::notify`]) — recompiles that store's speech off
//! the call path and swaps it in. The next call uses it; calls in progress
//! keep theirs. The `attendant_directory_version` gauges follow.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::directory::StoreId;
use crate::directory::events::DirectoryChanged;
use crate::directory::store::DirectoryStore;
use crate::speech::registry::SpeechRegistry;

/// Runs until `cancel` or until the channel closes.
pub(super) async fn watch(
    store: DirectoryStore,
    registry: Arc<SpeechRegistry>,
    mut changes: broadcast::Receiver<DirectoryChanged>,
    cancel: CancellationToken,
) {
    publish_versions(&store).await;
    loop {
        let changed = tokio::select! {
            changed = changes.recv() => changed,
            () = cancel.cancelled() => break,
        };
        let stores: Vec<StoreId> = match changed {
            Ok(change) => vec![change.store],
            Err(RecvError::Lagged(missed)) => {
                warn!(missed, "directory changes missed: refreshing every store");
                match store.list_stores().await {
                    Ok(stores) => stores.into_iter().map(|s| s.id).collect(),
                    Err(error) => {
                        warn!(%error, "cannot list the stores to refresh speech");
                        continue;
                    }
                }
            }
            Err(RecvError::Closed) => break,
        };
        for id in stores {
            match registry.refresh(id).await {
                Ok(()) => info!(store = %id, "speech refreshed after a directory change"),
                Err(error) => {
                    warn!(store = %id, %error, "speech not refreshed: the previous version stays")
                }
            }
        }
        publish_versions(&store).await;
    }
}

/// Sets every store's version gauge from the database.
async fn publish_versions(store: &DirectoryStore) {
    match store.directory_versions().await {
        Ok(versions) => {
            for version in versions {
                crate::ops::metrics::directory_version(&version.number, version.version.0);
            }
        }
        Err(error) => warn!(%error, "cannot read the directory versions for the metrics"),
    }
}
