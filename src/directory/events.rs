//! Notifications that a store's directory changed, for the speech path.
//!
//! Storage publishes a [`DirectoryChanged`] after every committed change (import,
//! entry edit, menu, hours), never before the commit, so a subscriber that
//! reloads the store sees the new version. The speech path subscribes,
//! recompiles that store's grammar and swaps it in atomically; a call keeps the
//! grammar it started with.
//!
//! A broadcast channel rather than a `watch`: one channel carries every store,
//! and a subscriber that falls behind learns it ([`tokio::sync::broadcast::error::RecvError::Lagged`])
//! and must then reload every store instead of trusting the events it missed.

use tokio::sync::broadcast;

use super::{DirectoryVersion, StoreId};

/// Events kept for a slow subscriber before it lags; an import burst over all
/// ~130 stores fits.
const CAPACITY: usize = 1024;

/// A store's directory reached a new version (already committed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryChanged {
    pub store: StoreId,
    pub version: DirectoryVersion,
}

/// The publishing side, shared by every clone of a [`super::store::DirectoryStore`].
#[derive(Debug, Clone)]
pub struct DirectoryEvents {
    sender: broadcast::Sender<DirectoryChanged>,
}

impl Default for DirectoryEvents {
    fn default() -> Self {
        DirectoryEvents::new()
    }
}

impl DirectoryEvents {
    /// A channel with no subscriber yet.
    pub fn new() -> DirectoryEvents {
        let (sender, _) = broadcast::channel(CAPACITY);
        DirectoryEvents { sender }
    }

    /// Receives every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DirectoryChanged> {
        self.sender.subscribe()
    }

    /// Announces a committed change. Having no subscriber (a CLI import, tests) is
    /// not an error: nobody holds a grammar to refresh.
    pub fn publish(&self, store: StoreId, version: DirectoryVersion) {
        // send fails only when there is no receiver, which is fine (see above).
        let _ = self.sender.send(DirectoryChanged { store, version });
    }
}

#[cfg(test)]
mod tests {
    //! Subscribers receive changes published after they subscribed, in order,
    //! and a lagging subscriber is told so.
    use super::*;
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};

    #[test]
    fn subscribers_see_later_changes_in_order() {
        let events = DirectoryEvents::new();
        events.publish(StoreId(1), DirectoryVersion(1)); // nobody listens: dropped
        let mut rx = events.subscribe();
        events.publish(StoreId(2), DirectoryVersion(5));
        events.publish(StoreId(1), DirectoryVersion(2));
        assert_eq!(rx.try_recv(), Ok(DirectoryChanged { store: StoreId(2), version: DirectoryVersion(5) }));
        assert_eq!(rx.try_recv(), Ok(DirectoryChanged { store: StoreId(1), version: DirectoryVersion(2) }));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_to_reload() {
        let events = DirectoryEvents::new();
        let mut rx = events.subscribe();
        for v in 0..(CAPACITY as i64 + 3) {
            events.publish(StoreId(1), DirectoryVersion(v));
        }
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
        assert_eq!(rx.recv().await.unwrap().version, DirectoryVersion(3));
    }
}
