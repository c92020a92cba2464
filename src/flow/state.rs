//! States of a call: an enum whose variants carry what each state needs.

use crate::directory::{EntryId, TransferTarget};

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
    /// Speech: asking for a name, a names recognition running (prompt playing
    /// or waiting for the caller). `attempt` 0 is the first ask, 1 the re-prompt.
    AskingName { attempt: u32 },
    /// Speech: the caller started speaking; waiting for the result.
    Listening { attempt: u32 },
    /// Speech: "did you mean …?", a yes/no recognition running.
    Confirming {
        entry: EntryId,
        attempt: u32,
        /// The caller started answering: `EndOfSpeech` runs instead of `NoInput`.
        speaking: bool,
    },
    /// Speech: one question between entries that share the name, sound
    /// alike or scored too close; key `n` picks `entries[n - 1]`, and so does
    /// saying the name or the department of one of them (a names recognition
    /// runs).
    Disambiguating {
        entries: Vec<EntryId>,
        attempt: u32,
        /// The caller started answering: `EndOfSpeech` runs instead of `NoInput`.
        speaking: bool,
    },
    /// Keypad name search: collecting the digits of a name's first letters.
    Spelling {
        /// Re-prompts spent so far, shared with the menu.
        retries: u32,
        /// Digits typed so far (`2`-`9`); empty between attempts.
        digits: String,
    },
    /// Keypad name search found several entries: key `n` picks `entries[n - 1]`.
    ChoosingName { entries: Vec<EntryId>, retries: u32 },
    /// Transferring the caller to `target`.
    Transferring {
        target: TransferTarget,
        /// Carried so that a failed transfer goes back to the menu with its count.
        retries: u32,
        phase: TransferPhase,
        /// The entry's second target, tried once if `target` is busy or does
        /// not answer (see `fallback.rs`); `None` once tried, or for none.
        fallback: Option<TransferTarget>,
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
            State::AskingName { .. } => "asking_name",
            State::Listening { .. } => "listening",
            State::Confirming { .. } => "confirming",
            State::Disambiguating { .. } => "disambiguating",
            State::Spelling { .. } => "spelling",
            State::ChoosingName { .. } => "choosing_name",
            State::Transferring { .. } => "transferring",
            State::SayingGoodbye { .. } => "saying_goodbye",
            State::Ended(_) => "ended",
        }
    }
}
