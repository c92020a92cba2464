//! Calls to a closed store: the after-hours route instead of the greeting.
//!
//! Whether the store is open is decided by the IO side at call start, from the
//! wall clock and the store's [`OpeningHours`](crate::directory::hours::OpeningHours)
//! (the flow reads no clock); a closed store's call is created with
//! [`Call::closed`]. On `Answered` it follows the route:
//!
//! ```text
//!   ClosedMessage ─► SayingGoodbye [Closed, Goodbye] ─► Ended(Closed)
//!   Operator      ─► Transferring  [Closed, Transferring] ─► REFER to the store's operator
//!   Transfer(t)   ─► Transferring  [Closed, Transferring] ─► REFER to t
//! ```
//!
//! No greeting, menu or speech: the store cannot take the call, so keys are
//! ignored as in any transfer or goodbye. An after-hours transfer that fails
//! plays `[TransferFailed, Goodbye]` and ends with `GaveUp`: there is no menu
//! to go back to while the store is closed. The closed message's own text
//! (`AfterHoursRoute::ClosedMessage`) is for the prompts tool; the flow only
//! asks for the `closed` prompt.

use crate::directory::hours::AfterHoursRoute;

use super::call::Call;
use super::{EndReason, Prompt};

impl Call {
    /// The store is closed now: on `Answered` the call follows `route` instead
    /// of greeting the caller. Call before the first input.
    #[must_use]
    pub fn closed(mut self, route: AfterHoursRoute) -> Call {
        self.after_hours = Some(route);
        self
    }

    /// The after-hours route of a closed store, `None` when it is open.
    pub fn after_hours(&self) -> Option<&AfterHoursRoute> {
        self.after_hours.as_ref()
    }

    /// Answered while closed: follow the route. `on_answered` calls this only
    /// when a route is set.
    pub(super) fn start_after_hours(&mut self) {
        let Some(route) = self.after_hours.clone() else {
            return;
        };
        let target = match route {
            AfterHoursRoute::Operator => self.directory.store.operator.clone(),
            AfterHoursRoute::Transfer { target } => target,
            AfterHoursRoute::ClosedMessage { .. } => {
                return self.say_goodbye(vec![Prompt::Closed, Prompt::Goodbye], EndReason::Closed);
            }
        };
        self.start_transfer(target, 0, Some(Prompt::Closed));
    }
}
