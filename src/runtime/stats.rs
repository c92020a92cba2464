//! Counters of what the runtime holds, for health checks and leak tests: a
//! [`Stats`] snapshot from [`super::Server::stats`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the server holds at one instant. Every count returns to zero (tasks:
/// to the runtime's own baseline) once calls are over, however they ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Call tasks of the runtime still running (from INVITE to release of the
    /// RTP socket), rejected calls included until their answer is sent.
    pub active_calls: usize,
    /// SIP call tasks (one per dialog, until its last transaction is answered).
    pub sip_calls: usize,
    /// Dialogs held by the SIP stack.
    pub active_dialogs: usize,
    /// RTP sockets bound by call tasks and not yet released.
    pub open_rtp_sockets: usize,
    /// Speech recognitions holding a permit.
    pub recognitions: usize,
    /// Whether new calls are taken (false during a drain).
    pub accepting: bool,
    /// Tasks alive in the tokio runtime the server runs on (all of them, the
    /// server's and others').
    pub runtime_tasks: usize,
    /// SIP datagrams kept from the SIP stack since start-up (untrusted
    /// source, malformed): counted even when their log lines are rate-limited.
    pub dropped_datagrams: crate::sip::DroppedDatagrams,
}

/// A count of resources held, shared by the call tasks.
#[derive(Debug, Clone, Default)]
pub(super) struct Gauge(Arc<AtomicUsize>);

/// One unit of a [`Gauge`], given back when dropped.
#[derive(Debug)]
pub(super) struct GaugeGuard(Arc<AtomicUsize>);

impl Gauge {
    /// Count one more until the guard is dropped.
    pub(super) fn hold(&self) -> GaugeGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(self.0.clone())
    }

    pub(super) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    //! A gauge counts the guards alive, whichever order they are dropped in.
    use super::*;

    #[test]
    fn gauge_counts_live_guards() {
        let gauge = Gauge::default();
        let a = gauge.hold();
        let b = gauge.clone().hold();
        assert_eq!(gauge.get(), 2);
        drop(a);
        assert_eq!(gauge.get(), 1);
        drop(b);
        assert_eq!(gauge.get(), 0);
    }
}
