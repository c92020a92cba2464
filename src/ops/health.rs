//! Readiness: whether this node should be sent new calls.
//!
//! A node is *alive* while its process answers (`/healthz`). It is *ready*
//! (`/readyz` 200, SIP OPTIONS 200) when it is not draining, its database
//! answers, and every speech engine the configuration names could be loaded.
//! The runtime re-checks the database and engines every `ops.health_interval`
//! ([`crate::runtime`]); the SIP endpoint reads the result on every OPTIONS, so
//! Kamailio's `dispatcher` probing stops sending calls to a node that cannot
//! serve them, and sends them again once it can.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Why a node is not ready; `None` of them: ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct NotReady {
    /// Stopping: no new calls (SIGTERM, `Server::drain`).
    pub draining: bool,
    /// The last database check failed.
    pub database_down: bool,
    /// A configured speech engine is not loaded.
    pub engine_down: bool,
}

impl NotReady {
    /// True when nothing stands in the way of new calls.
    pub fn is_ready(&self) -> bool {
        !(self.draining || self.database_down || self.engine_down)
    }
}

/// The node's readiness, shared by the SIP endpoint, the health checker and
/// the HTTP probes. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    inner: Arc<Flags>,
}

/// Two handles are equal when they share one state (settings holding a
/// `Readiness` compare equal only if they watch the same node).
impl PartialEq for Readiness {
    fn eq(&self, other: &Readiness) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Readiness {}

#[derive(Debug, Default)]
struct Flags {
    draining: AtomicBool,
    database_down: AtomicBool,
    engine_down: AtomicBool,
}

impl Readiness {
    /// Ready until told otherwise.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// The node stops taking calls for good (a drain ends in shutdown).
    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::Relaxed);
        crate::ops::metrics::set_ready(self.state().is_ready());
    }

    /// The result of the latest database and engine checks.
    pub fn set_checks(&self, database_up: bool, engines_up: bool) {
        self.inner
            .database_down
            .store(!database_up, Ordering::Relaxed);
        self.inner.engine_down.store(!engines_up, Ordering::Relaxed);
        crate::ops::metrics::set_ready(self.state().is_ready());
    }

    /// What stands in the way of new calls now.
    pub fn state(&self) -> NotReady {
        NotReady {
            draining: self.inner.draining.load(Ordering::Relaxed),
            database_down: self.inner.database_down.load(Ordering::Relaxed),
            engine_down: self.inner.engine_down.load(Ordering::Relaxed),
        }
    }

    /// Whether new calls are welcome.
    pub fn is_ready(&self) -> bool {
        self.state().is_ready()
    }
}

#[cfg(test)]
mod tests {
    //! Each cause alone makes the node not ready; checks that pass again make it ready.
    use super::*;

    #[test]
    fn each_cause_alone_makes_the_node_not_ready() {
        let readiness = Readiness::new();
        assert!(readiness.is_ready());
        readiness.set_checks(false, true);
        assert_eq!(
            readiness.state(),
            NotReady {
                database_down: true,
                ..NotReady::default()
            }
        );
        readiness.set_checks(true, false);
        assert_eq!(
            readiness.state(),
            NotReady {
                engine_down: true,
                ..NotReady::default()
            }
        );
        readiness.set_checks(true, true);
        assert!(
            readiness.is_ready(),
            "checks passing again make the node ready"
        );
        readiness.clone().set_draining();
        assert!(!readiness.is_ready(), "clones share the state");
        readiness.set_checks(true, true);
        assert!(!readiness.is_ready(), "a drain is for good");
    }
}
