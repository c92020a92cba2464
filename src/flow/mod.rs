//! The call flow as a sans-IO state machine.
//!
//! A [`Call`] is a value. IO tasks feed it [`Input`]s with [`Call::handle`], passing
//! the current time in, and then drain [`Call::poll`] until it returns
//! [`Output::Timeout`]: the instant at which the call wants `Input::Timeout` next.
//! Nothing here reads a clock, opens a socket or touches a database; this module
//! imports none of tokio, rsipstack, sqlx or axum, and none of the outer layers
//! `runtime`, `sip`, `media`, `replay`, `recording` or `admin`: they drive the
//! flow, never the reverse (tests in `tests/isolation.rs` grep the sources).
//!
//! ```text
//!   Starting ─Answered─► Greeting ─playback over / key─► Menu ◄───────────────┐
//!                                                        │ key, extension, 0 │ transfer failed:
//!                                                        ▼                   │ retry counted
//!                                                   Transferring ────────────┘
//!                                    NOTIFY 2xx │        │ operator failed
//!                                               ▼        ▼
//!                            Ended(Transferred)   SayingGoodbye ─► Ended(GaveUp | MaxDuration)
//! ```
//! Speech (`Greeting`, `AskingName`… before the menu) is drawn in [`speech`];
//! keypad name search (`Menu ─spell key─► Spelling ─name found─► Transferring`)
//! in [`spelling`].
//!
//! # Run loop
//! ```ignore
//! call.handle(now, input);
//! loop {
//!     match call.poll() {
//!         Output::Action(action) => { /* play, stop, REFER, BYE */ }
//!         Output::Event(event) => { /* log, call record */ }
//!         Output::Timeout(deadline) => { /* sleep until it, then Input::Timeout */ break }
//!     }
//! }
//! ```
//! Timers fire only on `Input::Timeout`: any other input at or after a deadline
//! is handled as is, so the IO side should send the timeout first.
//!
//! # Behaviour
//! - `Answered` plays `[Greeting, Menu]`; when it finishes, `NoInput` is armed.
//!   `MaxDuration` runs from [`Call::new`].
//! - A key barges in: `StopPlayback` (only if something plays), then the digits
//!   resolve by prefix against the directory: a complete, unique match acts at
//!   once; a prefix of something longer waits for more, `#` or `InterDigit`; a
//!   string that starts nothing is an invalid choice at once. When several
//!   things claim one string, `0` (the operator) beats a menu key, which beats
//!   an extension (the first enabled entry in directory order). A menu key that
//!   starts a longer extension (key `1`, extension `12`) gets no priority: the
//!   call waits, then takes the key on `#` or `InterDigit`. `*` drops the entry in progress and replays the
//!   menu (no retry spent); `#` ends the entry (`#` alone is an invalid choice).
//! - Invalid choice, silence after the menu, and a failed transfer each spend a
//!   retry and replay `[cause, Menu]`; past `max_retries` the call goes to the
//!   operator, playing `[cause, Transferring]`.
//! - A transfer plays `[Transferring]`, then sends the REFER and arms
//!   `TransferWait` (not extended by the 2xx). A failed transfer to the operator
//!   plays `[TransferFailed, Goodbye]` and ends with `GaveUp`: the operator is
//!   where every other failure leads, so nothing is left to try.
//! - The caller's BYE ends the call without ours; lost media and the end of any
//!   goodbye send ours. `MaxDuration` plays `[Goodbye]` (or hangs up at once if
//!   the call was never answered). A goodbye gets [`GOODBYE_GRACE`] to finish,
//!   then the call hangs up anyway.
//! - An input that makes no sense in a state yields [`CallEvent::InputIgnored`],
//!   including every input after the end, and a `Timeout` before any deadline.
//!   After the end, `poll` yields those events and `Timeout(None)`, nothing else.
//! - With speech on (`FlowSettings::speech_enabled` and [`Call::with_speech`]),
//!   `Answered` plays `[Greeting, AskName]` while a names recognition runs, and
//!   the DTMF menu is the fallback: see [`speech`].
//! - Opening hours: the IO side reads the wall clock and the store's hours at
//!   call start and, when the store is closed, creates the call with
//!   [`Call::closed`] and the store's after-hours route; the flow itself never
//!   reads a clock. A closed call follows the route on `Answered` (no greeting,
//!   no menu, no speech): see `hours.rs`.
//! - An entry's fallback target (`Entry::fallback`) is tried once when the
//!   REFER to its target fails with busy (486, 600), no answer (408, 480, 487)
//!   or `TransferWait`, before the usual failed-transfer path: see `fallback.rs`.
//! - With keypad name search on (`FlowSettings::spell_key` and
//!   [`Call::with_name_search`]), that menu key asks the caller to spell the
//!   first letters of a name and press `#`: see [`spelling`]. It is entered
//!   from the menu only, not as speech's fallback (speech falls back to the
//!   menu, which offers it).
//! - [`CallEvent::StateChanged`] is reported when the state's name changes
//!   (a replayed menu stays in `menu`); [`CallEvent::Ended`] exactly once.

mod call;
mod digits;
mod fallback;
mod hours;
pub mod speech;
pub mod spelling;
mod state;
mod timers;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use crate::asr::Recognition;
use crate::directory::{EntryId, TransferTarget};
use crate::matching::Decision;

pub use call::{Call, GOODBYE_GRACE};
pub use speech::{RecognitionMode, SpeechInterpreter};
pub use spelling::{InvalidMenuKey, MenuKey, NameSearch};

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
    /// Ask for a name by speech before the DTMF menu. Off: the DTMF flow only.
    /// Needs a [`SpeechInterpreter`] ([`Call::with_speech`]) to take effect.
    pub speech_enabled: bool,
    /// Longest wait for a recognition result once the caller started speaking.
    #[serde(with = "crate::config::duration_ms")]
    pub max_utterance: Duration,
    /// Endpointing of the caller's speech (end-of-speech silence etc.). A store
    /// overriding `endpoint` gives the whole object; keys it leaves out take the
    /// built-in defaults.
    pub endpoint: crate::speech::endpoint::EndpointSettings,
    /// Confidence thresholds of the name decision (same whole-object rule).
    /// `None`: the calibrated thresholds of the store's engine
    /// (`config/calibration/<engine>.toml`, `matching::calibration`).
    pub thresholds: Option<crate::matching::Thresholds>,
    /// Recording of the speech phase for QA (off by default): the runtime's
    /// `crate::recording` writes the recordings, `crate::replay` reads them.
    pub recording: RecordingSettings,
    /// The menu key (`"1"`..`"9"`) that starts a keypad name search; none by
    /// default. Needs a [`NameSearch`] ([`Call::with_name_search`]) to take
    /// effect. A menu option with the same digit wins: see [`spelling`].
    pub spell_key: Option<MenuKey>,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            no_input_timeout: Duration::from_secs(6),
            inter_digit_timeout: Duration::from_secs(3),
            max_retries: 2,
            transfer_timeout: Duration::from_secs(20),
            max_call_duration: Duration::from_secs(300),
            speech_enabled: false,
            max_utterance: Duration::from_secs(10),
            endpoint: crate::speech::endpoint::EndpointSettings::default(),
            thresholds: None,
            recording: RecordingSettings::default(),
            spell_key: None,
        }
    }
}

/// A store's call recording policy (off by default). Plain settings: the flow
/// carries them with the store's other settings and never acts on them; the
/// runtime's `crate::recording` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingSettings {
    /// Record this store's calls.
    pub enabled: bool,
    /// Keep at most this many recordings (the newest).
    pub max_recordings: Option<usize>,
    /// Delete recordings older than this many days.
    pub max_age_days: Option<u32>,
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
    /// Speech: "Whom would you like to reach? Say a name, or press a key."
    AskName,
    /// Speech, the second ask: "Please say just the first and last name of
    /// the person, or the department."
    AskFullName,
    /// Speech: "Sorry, I did not understand." (before asking again).
    NotUnderstood,
    /// "Did you mean *name*? Say yes or no, or press 1 or 2." The media side
    /// plays the `did_you_mean` fragment with the entry's name audio.
    DidYouMean(EntryId),
    /// "Which one do you mean? Say the name, or press its key." Followed by
    /// [`Prompt::DisambiguationOption`]s (namesakes, sound-alikes, close candidates).
    Disambiguation,
    /// "For *name*, press *key*": the `disambiguation_option` fragment with the
    /// entry's name audio and the key.
    DisambiguationOption {
        key: char,
        entry: EntryId,
    },
    /// "The store is closed." Played to callers outside opening hours, before
    /// the goodbye or the after-hours transfer.
    Closed,
    /// Keypad name search: "Spell the first letters of the name on your
    /// keypad, then press pound. Star for the menu."
    SpellName,
    /// Keypad name search: "Sorry, no name matches those letters."
    NoNameMatch,
    /// Keypad name search: "Several names match." Followed by
    /// [`Prompt::DisambiguationOption`]s.
    NamesMatch,
    /// Keypad name search: "Too many names match those letters." (before
    /// asking for more letters).
    TooManyNames,
}

impl Prompt {
    /// Every prompt a store must have: a missing one is a start-up error.
    pub const ALL: [Prompt; 8] = [
        Prompt::Greeting,
        Prompt::Menu,
        Prompt::InvalidChoice,
        Prompt::NoInput,
        Prompt::Transferring,
        Prompt::TransferFailed,
        Prompt::Goodbye,
        Prompt::Closed,
    ];

    /// File stems a store with speech enabled must also have (fragments for
    /// the prompts that name an entry included).
    pub const SPEECH_FILE_STEMS: [&'static str; 6] = [
        "ask_name",
        "ask_full_name",
        "not_understood",
        "did_you_mean",
        "disambiguation",
        "disambiguation_option",
    ];

    /// File stems a store with keypad name search must also have (besides
    /// `disambiguation_option`, shared with speech).
    pub const SPELLING_FILE_STEMS: [&'static str; 4] =
        ["spell_name", "no_name_match", "names_match", "too_many_names"];

    /// The entry whose name audio this prompt includes, if any.
    pub fn entry(self) -> Option<EntryId> {
        match self {
            Prompt::DidYouMean(entry) | Prompt::DisambiguationOption { entry, .. } => Some(entry),
            _ => None,
        }
    }

    /// File stem of the prompt's WAV (`greeting` → `greeting.wav`); for a
    /// prompt naming an entry, the stem of its fixed fragment.
    pub fn file_stem(self) -> &'static str {
        match self {
            Prompt::Greeting => "greeting",
            Prompt::Menu => "menu",
            Prompt::InvalidChoice => "invalid_choice",
            Prompt::NoInput => "no_input",
            Prompt::Transferring => "transferring",
            Prompt::TransferFailed => "transfer_failed",
            Prompt::Goodbye => "goodbye",
            Prompt::AskName => "ask_name",
            Prompt::AskFullName => "ask_full_name",
            Prompt::NotUnderstood => "not_understood",
            Prompt::DidYouMean(_) => "did_you_mean",
            Prompt::Disambiguation => "disambiguation",
            Prompt::DisambiguationOption { .. } => "disambiguation_option",
            Prompt::Closed => "closed",
            Prompt::SpellName => "spell_name",
            Prompt::NoNameMatch => "no_name_match",
            Prompt::NamesMatch => "names_match",
            Prompt::TooManyNames => "too_many_names",
        }
    }
}

/// Something that happened to the call, from the IO side.
///
/// Not `Eq`: a [`Recognition`] carries `f32` confidences.
#[derive(Debug, Clone, PartialEq)]
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
    /// The recognizer heard the caller start speaking (barge-in).
    SpeechStarted,
    /// Final result of the recognition started by [`Action::StartRecognition`];
    /// it ends that recognition.
    Recognized(Recognition),
    /// The recognition ended without speech (or with nothing decodable).
    NoSpeech,
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
    /// Start recognising the caller's audio with this grammar, while prompts
    /// play (so speech can barge in). Ends with `Recognized` or `NoSpeech`.
    StartRecognition { grammar: RecognitionMode },
    /// Abandon the running recognition: no result is expected any more.
    StopRecognition,
}

/// Timers of a call, one slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    NoInput,
    InterDigit,
    TransferWait,
    MaxDuration,
    /// The caller started speaking and no result came within `max_utterance`.
    EndOfSpeech,
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
    /// The store was closed and its after-hours route is a message: the
    /// closed message and goodbye played, then BYE.
    Closed,
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
    /// A transfer failed: refused or a non-2xx NOTIFY (`status`), or no
    /// outcome within `transfer_timeout` (`status` is `None`).
    TransferFailed {
        target: TransferTarget,
        status: Option<u16>,
    },
    /// What a name utterance was taken to mean.
    SpeechDecision(Decision),
    /// A keypad name search ran on `digits` and found `entries` (enabled
    /// ones, in the order offered).
    KeypadSearch {
        digits: String,
        entries: Vec<EntryId>,
    },
    /// A confirmation answer, by speech or keypad; `None` when unclear.
    Confirmation(Option<bool>),
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
    /// `None` when no timer is armed, which is always so once the call has ended.
    Timeout(Option<Instant>),
}
