//! The call flow as a sans-IO state machine.
//!
//! A [`Call`] is a value. IO tasks feed it [`Input`]s with [`Call::handle`], passing
//! the current time in, and then drain [`Call::poll`] until it returns
//! [`Output::Timeout`]: the instant at which the call wants `Input::Timeout` next.
//! Nothing here reads a clock, opens a socket or touches a database; this module
//! imports none of tokio, rsipstack, sqlx or axum.
//!
//! ```text
//!   Answered ─► Greeting ─► Menu ◄──────────────┐
//!                              │ digit/ext/0     │ transfer failed (busy prompt)
//!                              ▼                 │
//!                         Transferring ──────────┘
//!                              │ NOTIFY 2xx
//!                              ▼
//!                       Ended(Transferred)
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::directory::{Directory, TransferTarget};

/// Tunables of one call, per store (defaults are sensible for a store).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FlowSettings {
    /// Silence after the menu prompt before re-prompting.
    #[serde(with = "crate::config::duration_ms")]
    pub no_input_timeout: Duration,
    /// Gap between digits after which collected digits are resolved.
    #[serde(with = "crate::config::duration_ms")]
    pub inter_digit_timeout: Duration,
    /// Re-prompts (no input or invalid choice) before going to the operator.
    pub max_retries: u32,
    /// How long to wait for the REFER's outcome (202 then NOTIFY with a final status).
    #[serde(with = "crate::config::duration_ms")]
    pub transfer_timeout: Duration,
    /// Hard cap on a call's length inside the attendant.
    #[serde(with = "crate::config::duration_ms")]
    pub max_call_duration: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            no_input_timeout: Duration::from_secs(6),
            inter_digit_timeout: Duration::from_secs(3),
            max_retries: 2,
            transfer_timeout: Duration::from_secs(20),
            max_call_duration: Duration::from_secs(300),
        }
    }
}

/// A prompt the call asks the media side to play; mapped to a store's WAV file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    Greeting,
    Menu,
    InvalidChoice,
    NoInput,
    Transferring,
    TransferFailed,
    Goodbye,
}

impl Prompt {
    /// Every prompt a store must have: a missing one is a start-up error.
    pub const ALL: [Prompt; 7] = [
        Prompt::Greeting,
        Prompt::Menu,
        Prompt::InvalidChoice,
        Prompt::NoInput,
        Prompt::Transferring,
        Prompt::TransferFailed,
        Prompt::Goodbye,
    ];

    /// File stem of the prompt's WAV (`greeting` → `greeting.wav`).
    pub fn file_stem(self) -> &'static str {
        match self {
            Prompt::Greeting => "greeting",
            Prompt::Menu => "menu",
            Prompt::InvalidChoice => "invalid_choice",
            Prompt::NoInput => "no_input",
            Prompt::Transferring => "transferring",
            Prompt::TransferFailed => "transfer_failed",
            Prompt::Goodbye => "goodbye",
        }
    }
}

/// Something that happened to the call, from the IO side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call is answered (ACK received): start the greeting.
    Answered,
    /// The prompts requested by the last [`Action::Play`] finished playing
    /// (not sent when playback was stopped by [`Action::StopPlayback`]).
    PlaybackFinished,
    /// A DTMF digit (`0-9`, `*`, `#`, `A-D`), whichever way it arrived.
    Digit(char),
    /// The REFER was accepted (2xx).
    TransferAccepted,
    /// The transfer succeeded: NOTIFY sipfrag with a 2xx final status.
    TransferSucceeded,
    /// The REFER was refused, or a NOTIFY reported a non-2xx final status.
    TransferFailed { status: u16 },
    /// The caller sent BYE (or CANCEL before answer).
    CallerHungUp,
    /// No RTP from the caller for too long.
    MediaLost,
    /// The deadline last returned by [`Output::Timeout`] was reached.
    Timeout,
}

/// What the IO side must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these prompts in order, replacing whatever is playing.
    Play(Vec<Prompt>),
    /// Stop playback at once (barge-in).
    StopPlayback,
    /// Send a blind REFER to this target.
    Transfer(TransferTarget),
    /// End our leg (BYE).
    Hangup,
}

/// Timers of a call, one slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    NoInput,
    InterDigit,
    TransferWait,
    MaxDuration,
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// Transferred to this target.
    Transferred(TransferTarget),
    CallerHungUp,
    MediaLost,
    MaxDuration,
    /// Nothing could be done (e.g. the operator transfer failed): goodbye and BYE.
    GaveUp,
}

/// Notable happenings, for logs and call records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    StateChanged {
        from: &'static str,
        to: &'static str,
    },
    TimerFired(TimerKind),
    DigitsCollected(String),
    InvalidChoice(String),
    /// An input that makes no sense in the current state: dropped, but said so.
    InputIgnored {
        state: &'static str,
        input: String,
    },
    Ended(EndReason),
}

/// Output of [`Call::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Output {
    Action(Action),
    Event(CallEvent),
    /// Nothing more to do until this instant (or the next input).
    /// `None` once the call has ended.
    Timeout(Option<Instant>),
}

/// One call's flow. See the module docs for the run loop.
#[derive(Debug)]
pub struct Call {
    directory: Arc<Directory>,
    settings: FlowSettings,
}

impl Call {
    /// A new call on this directory version (kept for the whole call).
    pub fn new(now: Instant, directory: Arc<Directory>, settings: FlowSettings) -> Call {
        let _ = now;
        Call {
            directory,
            settings,
        }
    }

    /// Feed one input. Call [`Call::poll`] until `Output::Timeout` afterwards.
    pub fn handle(&mut self, now: Instant, input: Input) {
        let _ = (now, input, &self.directory, &self.settings);
        todo!("flow: implemented in issue 2")
    }

    /// Next output; returns `Output::Timeout` when there is nothing left to do.
    pub fn poll(&mut self) -> Output {
        todo!("flow: implemented in issue 2")
    }

    /// Whether the call has ended (no more outputs except the final events).
    pub fn is_ended(&self) -> bool {
        todo!("flow: implemented in issue 2")
    }
}
