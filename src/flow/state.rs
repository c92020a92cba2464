//! States of a call: an enum whose variants carry what each state needs.

use crate::directory::TransferTarget;

use super::EndReason;

/// Where a call stands. Transitions live in `call.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Created, not answered yet.
    Starting,
    /// Playing the greeting and the menu for the first time; no retry spent.
    Greeting,
    /// The DTMF menu: the prompt plays, or the call waits for keys.
    Menu {
        /// Re-prompts spent so far (no input, invalid choice, failed transfer).
        retries: u32,
        /// Digits of the entry in progress; empty between entries.
        digits: String,
    },
    /// Transferring the caller to `target`.
    Transferring {
        target: TransferTarget,
        /// Carried so that a failed transfer goes back to the menu with its count.
        retries: u32,
        phase: TransferPhase,
    },
    /// Playing the goodbye prompt; hang up with `reason` when it finishes.
    SayingGoodbye { reason: EndReason },
    /// Over: every further input is ignored.
    Ended(EndReason),
}

/// Progress of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferPhase {
    /// Playing "transferring you"; the REFER goes out when it finishes.
    Announcing,
    /// REFER sent, waiting for its outcome; `accepted` once the 2xx came.
    Referred { accepted: bool },
}

impl State {
    /// Name of the state, as reported in `CallEvent`s.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Greeting => "greeting",
            State::Menu { .. } => "menu",
            State::Transferring { .. } => "transferring",
            State::SayingGoodbye { .. } => "saying_goodbye",
            State::Ended(_) => "ended",
        }
    }
}
