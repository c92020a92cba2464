//! Fault injection for the isolation tests: make the next answered call's task
//! panic, to prove a panic stays inside its call (tests/hostile_call_panic.rs).
//! Not configurable from outside the process: only code can arm it.

use std::sync::atomic::{AtomicUsize, Ordering};

static PANICS_ARMED: AtomicUsize = AtomicUsize::new(0);

/// Make the next `calls` answered calls panic in their task when their ACK arrives.
pub fn panic_next_answered_calls(calls: usize) {
    PANICS_ARMED.store(calls, Ordering::SeqCst);
}

/// Whether this answered call must panic (consumes one armed fault).
pub(super) fn take_armed_panic() -> bool {
    PANICS_ARMED
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}
