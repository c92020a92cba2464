//! An entry's fallback target: tried once when the REFER to its first target
//! fails because that line is busy or does not answer.
//!
//! ```text
//!   Transferring(target, fallback) ─busy / no answer / TransferWait─► Transferring(fallback, none)
//!                                 ─any other failure────────────────► the usual failed-transfer path
//!   Transferring(fallback, none)  ─any failure───────────────────────► the usual failed-transfer path
//! ```
//!
//! Busy is 486 (Busy Here) and 600 (Busy Everywhere); no answer is 408
//! (Request Timeout), 480 (Temporarily Unavailable), 487 (Request Terminated,
//! what a PBX reports when its own ring timer gives up) and no outcome within
//! `transfer_timeout`. Any other status (404, 603 Decline, …) says that the
//! target itself is wrong or refuses: a second line of the same entry is no
//! answer to that, so the usual path applies (retry in the menu, or goodbye
//! after the operator). The fallback is announced like any transfer
//! (`[Transferring]`, then the REFER), spends no retry, and is tried once.
//!
//! Only entries have fallbacks: menu options and the operator do not.

use crate::directory::{EntryId, TransferTarget};

use super::call::Call;
use super::digits::{Choice, ChoiceVia, KeyAction};
use super::state::{State, TransferPhase};

/// SIP final statuses meaning that the target is busy or does not answer.
pub(crate) const UNREACHABLE_STATUSES: [u16; 5] = [408, 480, 486, 487, 600];

/// Whether a failed transfer's outcome (`None`: no outcome in time) means that
/// the target is busy or does not answer, so that its fallback is worth trying.
pub(crate) fn busy_or_no_answer(status: Option<u16>) -> bool {
    status.is_none_or(|status| UNREACHABLE_STATUSES.contains(&status))
}

impl Call {
    /// Transfer to what a key string selected, with the entry's fallback if it
    /// is an extension.
    pub(super) fn start_choice_transfer(&mut self, choice: &Choice, retries: u32) {
        // Only a transfer reaches here (`take_choice` handles the spell key).
        let KeyAction::Transfer(target) = &choice.action else {
            return;
        };
        match choice.via {
            ChoiceVia::Extension(entry) => self.start_entry_transfer(entry, target.clone(), retries),
            ChoiceVia::MenuKey(_) | ChoiceVia::Operator | ChoiceVia::SpellKey(_) => {
                self.start_transfer(target.clone(), retries, None)
            }
        }
    }

    /// Transfer to `target`, the target of `entry`, keeping the entry's
    /// fallback (if any, and different from `target`) for a busy line.
    pub(super) fn start_entry_transfer(
        &mut self,
        entry: EntryId,
        target: TransferTarget,
        retries: u32,
    ) {
        let fallback = self
            .directory
            .entries
            .iter()
            .find(|candidate| candidate.id == entry)
            .and_then(|found| found.fallback.clone())
            .filter(|fallback| *fallback != target);
        self.start_transfer(target, retries, None);
        if let State::Transferring { fallback: slot, .. } = &mut self.state {
            *slot = fallback;
        }
    }

    /// The REFER just failed with `status`: if the target was busy or did not
    /// answer and a fallback is left, announce it and return true (the REFER
    /// goes out when the announcement finishes). Otherwise false, nothing done.
    pub(super) fn try_fallback(&mut self, status: Option<u16>) -> bool {
        if !busy_or_no_answer(status) {
            return false;
        }
        let State::Transferring {
            retries,
            phase: TransferPhase::Referred { .. },
            fallback: Some(fallback),
            ..
        } = &self.state
        else {
            return false;
        };
        let (fallback, retries) = (fallback.clone(), *retries);
        // Same announcement as any transfer; the fallback's own failure takes
        // the usual path, since `start_transfer` leaves no fallback behind it.
        self.start_transfer(fallback, retries, None);
        true
    }
}
