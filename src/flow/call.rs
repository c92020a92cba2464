//! [`Call`]: the state machine itself, its inputs' handling and its output queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::directory::hours::AfterHoursRoute;
use crate::directory::{Directory, TransferTarget};

use super::digits::{KeyMap, Lookup};
use super::speech::SpeechInterpreter;
use super::spelling::NameSearch;
use super::state::{State, TransferPhase};
use super::timers::TimerTable;
use super::{Action, CallEvent, EndReason, FlowSettings, Input, Output, Prompt, TimerKind};

/// Longest a goodbye may play before the call hangs up anyway: a goodbye
/// prompt lasts a few seconds; this only guards against a missing
/// `PlaybackFinished`.
pub const GOODBYE_GRACE: Duration = Duration::from_secs(30);

/// One call's flow. See the module docs for the run loop.
///
/// Methods come in groups: construction, `handle` (inputs), `poll` (outputs), getters.
#[derive(Debug, Clone)]
pub struct Call {
    pub(super) directory: Arc<Directory>,
    pub(super) settings: FlowSettings,
    /// Digit strings of `directory`, built once: the directory is fixed for the call.
    pub(super) keys: KeyMap,
    pub(super) state: State,
    /// Whether prompts we asked for are playing: decides whether a barge-in or
    /// the end of the call needs `StopPlayback`, and whether `PlaybackFinished`
    /// makes sense.
    playing: bool,
    /// Whether a recognition we started is running (same role as `playing`).
    pub(super) recognizing: bool,
    /// Reads recognition results; speech runs only with one (and the setting on).
    pub(super) speech: Option<Arc<dyn SpeechInterpreter>>,
    /// Speech: the recognitions of earlier name attempts of this call that
    /// led nowhere, combined with the next one (`flow::speech`).
    pub(super) earlier_attempts: Vec<crate::asr::Recognition>,
    /// Speech: entries the caller said "no" to; never offered again.
    pub(super) declined: Vec<crate::directory::EntryId>,
    /// The store is closed: where the call goes instead of the menu (`hours.rs`).
    pub(super) after_hours: Option<AfterHoursRoute>,
    /// Finds entries by keypad digits; name search runs only with one (and a spell key).
    pub(super) name_search: Option<Arc<dyn NameSearch>>,
    pub(super) timers: TimerTable,
    /// Time of the latest input; timers are armed relative to it.
    now: Instant,
    /// Actions and events not yet returned by `poll`.
    outputs: VecDeque<Output>,
}

impl Call {
    /// A new call on this directory version (kept for the whole call).
    ///
    /// The call's hard cap (`max_call_duration`) starts now.
    pub fn new(now: Instant, directory: Arc<Directory>, settings: FlowSettings) -> Call {
        let mut timers = TimerTable::default();
        timers.set(TimerKind::MaxDuration, now + settings.max_call_duration);
        Call {
            keys: KeyMap::new(&directory, None),
            directory,
            settings,
            state: State::Starting,
            playing: false,
            recognizing: false,
            speech: None,
            earlier_attempts: Vec::new(),
            declined: Vec::new(),
            after_hours: None,
            name_search: None,
            timers,
            now,
            outputs: VecDeque::new(),
        }
    }

    /// Lets the call ask for names by speech, reading results with
    /// `interpreter`, when `FlowSettings::speech_enabled` is on. Call before
    /// the first input.
    #[must_use]
    pub fn with_speech(mut self, interpreter: Arc<dyn SpeechInterpreter>) -> Call {
        self.speech = Some(interpreter);
        self
    }

    /// Whether this call asks for names by speech.
    pub fn speech_active(&self) -> bool {
        self.settings.speech_enabled && self.speech.is_some()
    }

    /// Feed one input. Call [`Call::poll`] until `Output::Timeout` afterwards.
    pub fn handle(&mut self, now: Instant, input: Input) {
        self.now = now;
        if matches!(self.state, State::Ended(_)) {
            return self.ignore(&input);
        }
        match input {
            Input::Answered => self.on_answered(&input),
            Input::PlaybackFinished => self.on_playback_finished(&input),
            Input::Digit(digit) => self.on_digit(digit, &input),
            Input::TransferAccepted => self.on_transfer_accepted(&input),
            Input::TransferSucceeded => self.on_transfer_succeeded(&input),
            Input::TransferFailed { status } => self.on_transfer_failed(Some(status), &input),
            // The caller's BYE already ended the dialog: no BYE of ours.
            Input::CallerHungUp => self.end(EndReason::CallerHungUp, false),
            Input::MediaLost => self.on_media_lost(&input),
            Input::Timeout => self.on_timeout(&input),
            Input::SpeechStarted => self.on_speech_started(&input),
            Input::Recognized(ref recognition) => self.on_recognized(recognition, &input),
            Input::NoSpeech => self.on_no_speech(&input),
        }
    }

    /// Next output; returns `Output::Timeout` when there is nothing left to do.
    ///
    /// The timeout is the soonest armed timer; `None` when no timer is armed,
    /// which is always the case once the call has ended.
    pub fn poll(&mut self) -> Output {
        self.outputs
            .pop_front()
            .unwrap_or_else(|| Output::Timeout(self.timers.next_deadline()))
    }

    /// Whether the call has ended (no more outputs except the final events).
    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended(_))
    }

    /// Why the call ended, once it has.
    pub fn end_reason(&self) -> Option<&EndReason> {
        match &self.state {
            State::Ended(reason) => Some(reason),
            _ => None,
        }
    }

    /// Name of the current state, as in [`CallEvent::StateChanged`].
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    /// The directory version this call runs on.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }
}

/// Input handlers, one per input; each either acts or says the input was ignored.
impl Call {
    fn on_answered(&mut self, input: &Input) {
        match self.state {
            State::Starting if self.after_hours.is_some() => self.start_after_hours(),
            State::Starting if self.speech_active() => self.start_speech(),
            State::Starting => {
                self.play(vec![Prompt::Greeting, Prompt::Menu]);
                self.set_state(State::Greeting);
            }
            _ => self.ignore(input),
        }
    }

    fn on_playback_finished(&mut self, input: &Input) {
        if !self.playing {
            return self.ignore(input);
        }
        self.playing = false;
        match &self.state {
            State::Greeting => {
                self.set_state(State::Menu {
                    retries: 0,
                    digits: String::new(),
                });
                self.arm(TimerKind::NoInput);
            }
            State::Menu { .. }
            | State::AskingName { .. }
            | State::Disambiguating { .. }
            | State::Spelling { .. }
            | State::ChoosingName { .. } => self.arm(TimerKind::NoInput),
            State::Confirming {
                speaking: false, ..
            } => self.arm(TimerKind::NoInput),
            State::Transferring {
                target,
                phase: TransferPhase::Announcing,
                ..
            } => {
                let target = target.clone();
                self.act(Action::Transfer(target));
                self.arm(TimerKind::TransferWait);
                if let State::Transferring { phase, .. } = &mut self.state {
                    *phase = TransferPhase::Referred { accepted: false };
                }
            }
            State::SayingGoodbye { reason } => {
                let reason = reason.clone();
                self.end(reason, true);
            }
            // Playback is stopped when these are entered, or never started in
            // them, so `playing` cannot be set in them.
            State::Starting
            | State::Listening { .. }
            | State::Confirming { speaking: true, .. }
            | State::Transferring { .. }
            | State::Ended(_) => self.ignore(input),
        }
    }

    fn on_digit(&mut self, digit: char, input: &Input) {
        let (retries, digits) = match &self.state {
            State::Greeting => (0, String::new()),
            State::Menu { retries, digits } => (*retries, digits.clone()),
            State::AskingName { .. }
            | State::Listening { .. }
            | State::Confirming { .. }
            | State::Disambiguating { .. } => return self.on_speech_digit(digit),
            State::Spelling { .. } | State::ChoosingName { .. } => {
                return self.on_spelling_digit(digit, input);
            }
            // Before the answer there is no menu; during a transfer or goodbye,
            // keys must not undo what is under way.
            State::Starting
            | State::Transferring { .. }
            | State::SayingGoodbye { .. }
            | State::Ended(_) => {
                return self.ignore(input);
            }
        };
        self.menu_digit(retries, digits, digit);
    }

    /// A key in the DTMF menu, with `digits` of the entry in progress.
    pub(super) fn menu_digit(&mut self, retries: u32, mut digits: String, digit: char) {
        // Barge-in: a key means the caller knows what they want.
        self.stop_playback();
        self.timers.stop(TimerKind::NoInput);
        self.timers.stop(TimerKind::InterDigit);
        match digit {
            '*' => {
                // Repeat the menu; an entry in progress is dropped. Not a retry:
                // the caller asked for it.
                self.play(vec![Prompt::Menu]);
                self.set_state(State::Menu {
                    retries,
                    digits: String::new(),
                });
            }
            '#' => self.finish_entry(retries, digits),
            _ => {
                digits.push(digit);
                match self.keys.lookup(&digits) {
                    Lookup::Complete(choice) => {
                        let choice = choice.clone();
                        self.event(CallEvent::DigitsCollected(digits));
                        self.take_choice(&choice, retries);
                    }
                    Lookup::Pending { .. } => {
                        self.arm(TimerKind::InterDigit);
                        self.set_state(State::Menu { retries, digits });
                    }
                    Lookup::NoMatch => {
                        self.event(CallEvent::DigitsCollected(digits.clone()));
                        self.invalid_choice(retries, digits);
                    }
                }
            }
        }
    }

    fn on_transfer_accepted(&mut self, input: &Input) {
        match &mut self.state {
            // Keep waiting: `transfer_timeout` covers the 2xx and the final NOTIFY.
            State::Transferring {
                phase: phase @ TransferPhase::Referred { accepted: false },
                ..
            } => {
                *phase = TransferPhase::Referred { accepted: true };
            }
            _ => self.ignore(input),
        }
    }

    fn on_transfer_succeeded(&mut self, input: &Input) {
        match &self.state {
            // Also before the 2xx: the NOTIFY may overtake it.
            State::Transferring {
                target,
                phase: TransferPhase::Referred { .. },
                ..
            } => {
                let target = target.clone();
                self.end(EndReason::Transferred(target), true);
            }
            _ => self.ignore(input),
        }
    }

    /// A REFER failed: refused, a non-2xx NOTIFY (`status`), or no outcome in
    /// time (`status` is `None`).
    fn on_transfer_failed(&mut self, status: Option<u16>, input: &Input) {
        let State::Transferring {
            target,
            retries,
            phase: TransferPhase::Referred { .. },
            ..
        } = &self.state
        else {
            return self.ignore(input);
        };
        let (target, retries) = (target.clone(), *retries);
        self.timers.stop(TimerKind::TransferWait);
        self.event(CallEvent::TransferFailed {
            target: target.clone(),
            status,
        });
        if self.try_fallback(status) {
            return;
        }
        if target == self.directory.store.operator || self.after_hours.is_some() {
            // The operator is where every other failure ends up, and a closed
            // store has no menu to go back to: nothing is left.
            self.say_goodbye(
                vec![Prompt::TransferFailed, Prompt::Goodbye],
                EndReason::GaveUp,
            );
        } else {
            self.retry(retries, Prompt::TransferFailed);
        }
    }

    fn on_media_lost(&mut self, input: &Input) {
        match self.state {
            // No media was set up yet, so none can be lost.
            State::Starting => self.ignore(input),
            _ => self.end(EndReason::MediaLost, true),
        }
    }

    fn on_timeout(&mut self, input: &Input) {
        let Some(first) = self.timers.take_due(self.now) else {
            // Early or stale wake-up: harmless, but the IO side should know.
            return self.ignore(input);
        };
        let mut due = Some(first);
        // Several timers may be due if the IO side woke late; each fires in
        // deadline order, and each may stop the others.
        while let Some(kind) = due {
            self.event(CallEvent::TimerFired(kind));
            self.on_timer(kind);
            due = self.timers.take_due(self.now);
        }
    }

    fn on_timer(&mut self, kind: TimerKind) {
        if self.on_speech_timer(kind) || self.on_spelling_timer(kind) {
            return;
        }
        match (kind, &self.state) {
            (TimerKind::MaxDuration, State::Starting) => {
                // Never answered: nothing to say goodbye on.
                self.end(EndReason::MaxDuration, true);
            }
            (TimerKind::MaxDuration, State::SayingGoodbye { reason }) => {
                // The goodbye never finished: cut it short. The call was ending
                // for `reason` anyway.
                let reason = reason.clone();
                self.end(reason, true);
            }
            (TimerKind::MaxDuration, _) => {
                self.say_goodbye(vec![Prompt::Goodbye], EndReason::MaxDuration)
            }
            (TimerKind::NoInput, State::Menu { retries, digits }) if digits.is_empty() => {
                self.retry(*retries, Prompt::NoInput);
            }
            (TimerKind::InterDigit, State::Menu { retries, digits }) if !digits.is_empty() => {
                let (retries, digits) = (*retries, digits.clone());
                self.finish_entry(retries, digits);
            }
            (
                TimerKind::TransferWait,
                State::Transferring {
                    phase: TransferPhase::Referred { .. },
                    ..
                },
            ) => {
                self.on_transfer_failed(None, &Input::Timeout);
            }
            // Timers are stopped when the state they belong to is left, so these
            // cannot fire; if one did, say so rather than act on it.
            (
                TimerKind::NoInput
                | TimerKind::InterDigit
                | TimerKind::TransferWait
                | TimerKind::EndOfSpeech,
                _,
            ) => {
                self.ignore(&Input::Timeout);
            }
        }
    }
}

/// Steps shared by the handlers.
impl Call {
    /// The entry ends (`#` or inter-digit timeout): the exact match or nothing.
    fn finish_entry(&mut self, retries: u32, digits: String) {
        self.event(CallEvent::DigitsCollected(digits.clone()));
        match self.keys.exact(&digits) {
            Some(choice) => {
                let choice = choice.clone();
                self.take_choice(&choice, retries);
            }
            None => self.invalid_choice(retries, digits),
        }
    }

    fn invalid_choice(&mut self, retries: u32, digits: String) {
        self.event(CallEvent::InvalidChoice(digits));
        self.retry(retries, Prompt::InvalidChoice);
    }

    /// Re-prompt the menu after `cause`, or go to the operator when retries run out.
    fn retry(&mut self, retries: u32, cause: Prompt) {
        self.spend_retry(retries, cause, |retries| {
            (
                Prompt::Menu,
                State::Menu {
                    retries,
                    digits: String::new(),
                },
            )
        });
    }

    /// Spends a retry after `cause`: past `max_retries` the call goes to the
    /// operator; otherwise `again` (given the new count) names the prompt
    /// played after `cause` and the state the call asks again in.
    pub(super) fn spend_retry(
        &mut self,
        retries: u32,
        cause: Prompt,
        again: impl FnOnce(u32) -> (Prompt, State),
    ) {
        let retries = retries + 1;
        if retries > self.settings.max_retries {
            let operator = self.directory.store.operator.clone();
            self.start_transfer(operator, retries, Some(cause));
        } else {
            let (prompt, state) = again(retries);
            self.play(vec![cause, prompt]);
            self.set_state(state);
        }
    }

    /// Announce the transfer (after `cause`, if it is a fallback); the REFER
    /// goes out when the announcement finishes.
    pub(super) fn start_transfer(
        &mut self,
        target: TransferTarget,
        retries: u32,
        cause: Option<Prompt>,
    ) {
        self.stop_recognition();
        self.stop_dialog_timers();
        self.play(cause.into_iter().chain([Prompt::Transferring]).collect());
        self.set_state(State::Transferring {
            target,
            retries,
            phase: TransferPhase::Announcing,
            fallback: None,
        });
    }

    /// Play `prompts` (ending with goodbye), then hang up with `reason`. Only
    /// the hard cap stays armed.
    ///
    /// The hard cap is brought forward to [`GOODBYE_GRACE`] from now at the
    /// latest, so that a goodbye whose end never comes cannot hold the call.
    pub(super) fn say_goodbye(&mut self, prompts: Vec<Prompt>, reason: EndReason) {
        self.stop_recognition();
        self.stop_dialog_timers();
        self.timers.stop(TimerKind::TransferWait);
        let grace = self.now + GOODBYE_GRACE;
        let cap = self
            .timers
            .deadline(TimerKind::MaxDuration)
            .map_or(grace, |cap| cap.min(grace));
        self.timers.set(TimerKind::MaxDuration, cap);
        self.play(prompts);
        self.set_state(State::SayingGoodbye { reason });
    }

    /// The call is over: playback and recognition stopped, then our BYE if
    /// `hangup` (not after the caller's).
    fn end(&mut self, reason: EndReason, hangup: bool) {
        self.stop_playback();
        self.stop_recognition();
        if hangup {
            self.act(Action::Hangup);
        }
        self.timers.stop_all();
        self.set_state(State::Ended(reason.clone()));
        self.event(CallEvent::Ended(reason));
    }

    /// Stops the timers of the menu and speech dialogs.
    pub(super) fn stop_dialog_timers(&mut self) {
        for kind in [
            TimerKind::NoInput,
            TimerKind::InterDigit,
            TimerKind::EndOfSpeech,
        ] {
            self.timers.stop(kind);
        }
    }

    pub(super) fn play(&mut self, prompts: Vec<Prompt>) {
        self.playing = true;
        self.act(Action::Play(prompts));
    }

    pub(super) fn stop_playback(&mut self) {
        if self.playing {
            self.playing = false;
            self.act(Action::StopPlayback);
        }
    }

    pub(super) fn arm(&mut self, kind: TimerKind) {
        let after = match kind {
            TimerKind::NoInput => self.settings.no_input_timeout,
            TimerKind::InterDigit => self.settings.inter_digit_timeout,
            TimerKind::TransferWait => self.settings.transfer_timeout,
            TimerKind::MaxDuration => self.settings.max_call_duration,
            TimerKind::EndOfSpeech => self.settings.max_utterance,
        };
        self.timers.set(kind, self.now + after);
    }

    /// Enter `state`, reporting the change when the state's name changes.
    pub(super) fn set_state(&mut self, state: State) {
        let (from, to) = (self.state.name(), state.name());
        self.state = state;
        if from != to {
            self.event(CallEvent::StateChanged { from, to });
        }
    }

    pub(super) fn ignore(&mut self, input: &Input) {
        self.event(CallEvent::InputIgnored {
            state: self.state.name(),
            input: format!("{input:?}"),
        });
    }

    pub(super) fn act(&mut self, action: Action) {
        self.outputs.push_back(Output::Action(action));
    }

    pub(super) fn event(&mut self, event: CallEvent) {
        self.outputs.push_back(Output::Event(event));
    }
}
