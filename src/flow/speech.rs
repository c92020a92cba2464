//! The speech part of the flow (issue 3): ask for a name, confirm or
//! disambiguate, fall back to the DTMF menu.
//!
//! ```text
//!   Answered ─► AskingName ─speech─► Listening ─Recognized─► decision
//!                   │ key                              Transfer ─► Transferring
//!                   ▼                                  Confirm ──► Confirming ─yes / 1─► Transferring
//!                 Menu (DTMF, the key processed)       Disambiguate ─► Disambiguating ─key n / name─► Transferring
//!                                                      Operator ─► Transferring (the store's operator)
//!                                                      Help ─► AskingName again (same attempt)
//!                                                      NoMatch, no speech, "no", timeout:
//!                                                        first time: AskingName again (attempt 1),
//!                                                          asked differently ("just the first and
//!                                                          last name"); the two attempts' evidence
//!                                                          is combined, declined names left out
//!                                                        then: the DTMF menu
//! ```
//!
//! The flow does not know how recognition results map to entries: a
//! [`SpeechInterpreter`] (matching's `decide` and `decide_yes_no` in
//! production, a script in tests) reads them, so engines and thresholds stay
//! outside.
//!
//! Contract with the IO side: one [`Action::StartRecognition`] is answered by at
//! most one `Recognized` or `NoSpeech`, which ends that recognition; the call
//! sends [`Action::StopRecognition`] when it abandons a running one (a key, a
//! timeout, the end of the call), after which the IO side must drop anything
//! that recognition still produces: results carry no recognition id, so a late
//! one would be read as the answer to the next question. `SpeechStarted`,
//! `Recognized` and `NoSpeech` with no recognition running are ignored.
//!
//! A key during any speech state switches to the DTMF menu at once and counts as
//! the menu's first key, except `1`/`2` while confirming (yes/no) and the
//! offered keys while disambiguating.

use std::fmt;

use crate::asr::Recognition;
use crate::directory::{EntryId, TransferTarget};
use crate::matching::Decision;

use super::call::Call;
use super::state::State;
use super::{Action, CallEvent, Input, Prompt, TimerKind};

/// Grammar a recognition runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecognitionMode {
    /// The store's directory names (and carrier phrases).
    Names,
    /// The small fixed yes/no vocabulary of the store's language.
    YesNo,
}

/// Reads recognition results for the flow: the seam between the flow and the
/// matching of text to entries (`crate::matching`).
pub trait SpeechInterpreter: fmt::Debug + Send + Sync {
    /// What a names utterance means.
    fn decide_name(&self, recognition: &Recognition) -> Decision;
    /// A yes/no answer; `None` when there is none or it is contradictory.
    fn yes_no(&self, recognition: &Recognition) -> Option<bool>;
    /// A later attempt at a name: `earlier` attempts' evidence combined with
    /// this one's, `declined` entries never offered. By default: this
    /// attempt alone, a declined entry read as no match.
    fn decide_retry(
        &self,
        earlier: &[Recognition],
        recognition: &Recognition,
        declined: &[EntryId],
    ) -> Decision {
        let _ = earlier;
        match self.decide_name(recognition) {
            Decision::Transfer(entry) | Decision::Confirm(entry) if declined.contains(&entry) => {
                Decision::NoMatch
            }
            decision => decision,
        }
    }
    /// Which of the `offered` entries a spoken answer to the question between
    /// them names (its name, or its department), if exactly one. By default:
    /// the entry the name decision points to, if offered.
    fn choose(&self, recognition: &Recognition, offered: &[EntryId]) -> Option<EntryId> {
        match self.decide_name(recognition) {
            Decision::Transfer(entry) | Decision::Confirm(entry) => {
                offered.contains(&entry).then_some(entry)
            }
            _ => None,
        }
    }
}

/// Most entries offered when disambiguating: one key each, `1` to `9`.
pub(super) const MAX_OPTIONS: usize = 9;

/// Speech input handlers and steps.
impl Call {
    /// Answered with speech on: greet and ask for a name, listening at once so
    /// that the caller can speak over the prompts.
    pub(super) fn start_speech(&mut self) {
        self.ask_name(vec![Prompt::Greeting, Prompt::AskName], 0);
    }

    pub(super) fn on_speech_started(&mut self, input: &Input) {
        if !self.recognizing {
            return self.ignore(input);
        }
        match &mut self.state {
            State::AskingName { attempt } => {
                let attempt = *attempt;
                self.start_listening();
                self.set_state(State::Listening { attempt });
            }
            State::Confirming {
                speaking: speaking @ false,
                ..
            }
            | State::Disambiguating {
                speaking: speaking @ false,
                ..
            } => {
                *speaking = true;
                self.start_listening();
            }
            _ => self.ignore(input),
        }
    }

    pub(super) fn on_recognized(&mut self, recognition: &Recognition, input: &Input) {
        if !self.recognizing {
            return self.ignore(input);
        }
        let Some(interpreter) = self.speech.clone() else {
            // Recognition only starts with an interpreter present.
            return self.ignore(input);
        };
        match &self.state {
            State::AskingName { attempt } | State::Listening { attempt } => {
                let attempt = *attempt;
                self.result_arrived();
                let decision = if self.earlier_attempts.is_empty() && self.declined.is_empty() {
                    interpreter.decide_name(recognition)
                } else {
                    interpreter.decide_retry(&self.earlier_attempts, recognition, &self.declined)
                };
                self.event(CallEvent::SpeechDecision(decision.clone()));
                if matches!(decision, Decision::NoMatch | Decision::Confirm(_)) {
                    // Evidence for the next attempt, if this one leads nowhere.
                    self.earlier_attempts.push(recognition.clone());
                }
                self.on_decision(decision, attempt);
            }
            State::Disambiguating { entries, attempt, .. } => {
                let (entries, attempt) = (entries.clone(), *attempt);
                self.result_arrived();
                match interpreter.choose(recognition, &entries) {
                    Some(entry) => {
                        self.event(CallEvent::SpeechDecision(Decision::Transfer(entry)));
                        self.on_decision(Decision::Transfer(entry), attempt);
                    }
                    None => {
                        let decision = interpreter.decide_name(recognition);
                        match decision {
                            Decision::Operator | Decision::Help => {
                                self.event(CallEvent::SpeechDecision(decision.clone()));
                                if decision == Decision::Help {
                                    self.offer(entries, attempt);
                                } else {
                                    self.on_decision(decision, attempt);
                                }
                            }
                            _ => {
                                self.event(CallEvent::SpeechDecision(Decision::NoMatch));
                                self.speech_failed(attempt, Some(Prompt::NotUnderstood));
                            }
                        }
                    }
                }
            }
            State::Confirming { entry, attempt, .. } => {
                let (entry, attempt) = (*entry, *attempt);
                self.result_arrived();
                let answer = interpreter.yes_no(recognition);
                self.event(CallEvent::Confirmation(answer));
                self.on_answer(entry, attempt, answer);
            }
            _ => self.ignore(input),
        }
    }

    pub(super) fn on_no_speech(&mut self, input: &Input) {
        if !self.recognizing {
            return self.ignore(input);
        }
        match &self.state {
            State::AskingName { attempt }
            | State::Listening { attempt }
            | State::Confirming { attempt, .. }
            | State::Disambiguating { attempt, .. } => {
                let attempt = *attempt;
                self.result_arrived();
                self.speech_failed(attempt, Some(Prompt::NoInput));
            }
            _ => self.ignore(input),
        }
    }

    /// A key in a speech state.
    pub(super) fn on_speech_digit(&mut self, digit: char) {
        match &self.state {
            State::Confirming { entry, attempt, .. } if matches!(digit, '1' | '2') => {
                let (entry, attempt, answer) = (*entry, *attempt, digit == '1');
                self.stop_playback();
                self.stop_recognition();
                self.stop_dialog_timers();
                self.event(CallEvent::Confirmation(Some(answer)));
                self.on_answer(entry, attempt, Some(answer));
            }
            State::Disambiguating { entries, .. } if digit == '*' => {
                let prompts = disambiguation_prompts(entries);
                self.stop_playback();
                self.timers.stop(TimerKind::NoInput);
                self.play(prompts);
            }
            State::Disambiguating {
                entries, attempt, ..
            } if key_index(digit, entries.len()).is_some() => {
                let (entries, attempt) = (entries.clone(), *attempt);
                let chosen = key_index(digit, entries.len()).map(|index| entries[index]);
                self.stop_playback();
                self.stop_recognition();
                self.stop_dialog_timers();
                match chosen.and_then(|entry| Some((entry, self.entry_target(entry)?))) {
                    Some((entry, target)) => self.start_entry_transfer(entry, target, 0),
                    // Offered entries were checked when offered; the directory is fixed.
                    None => self.speech_failed(attempt, Some(Prompt::NotUnderstood)),
                }
            }
            _ => {
                // Any other key: the caller prefers the keypad.
                self.stop_playback();
                self.stop_recognition();
                self.stop_dialog_timers();
                self.menu_digit(0, String::new(), digit);
            }
        }
    }

    /// `NoInput` or `EndOfSpeech` fired in a speech state. Returns whether it
    /// applied to the state.
    pub(super) fn on_speech_timer(&mut self, kind: TimerKind) -> bool {
        let (attempt, cause) = match (kind, &self.state) {
            (TimerKind::NoInput, State::AskingName { attempt })
            | (
                TimerKind::NoInput,
                State::Confirming {
                    attempt,
                    speaking: false,
                    ..
                },
            )
            | (TimerKind::NoInput, State::Disambiguating { attempt, .. }) => {
                (*attempt, Prompt::NoInput)
            }
            (TimerKind::EndOfSpeech, State::Listening { attempt })
            | (
                TimerKind::EndOfSpeech,
                State::Confirming {
                    attempt,
                    speaking: true,
                    ..
                },
            )
            | (
                TimerKind::EndOfSpeech,
                State::Disambiguating {
                    attempt,
                    speaking: true,
                    ..
                },
            ) => (*attempt, Prompt::NotUnderstood),
            _ => return false,
        };
        self.stop_recognition();
        self.speech_failed(attempt, Some(cause));
        true
    }

    /// Play `prompts` and listen for a name; `attempt` counts the asks.
    fn ask_name(&mut self, prompts: Vec<Prompt>, attempt: u32) {
        self.play(prompts);
        self.start_recognition(super::RecognitionMode::Names);
        self.set_state(State::AskingName { attempt });
    }

    /// The caller speaks over whatever plays: stop it, wait for the result.
    fn start_listening(&mut self) {
        self.stop_playback();
        self.timers.stop(TimerKind::NoInput);
        self.arm(TimerKind::EndOfSpeech);
    }

    /// A result (or no-speech) ended the recognition.
    fn result_arrived(&mut self) {
        self.recognizing = false;
        // A result may come before the prompt ends, without `SpeechStarted`.
        self.stop_playback();
        self.stop_dialog_timers();
    }

    fn on_decision(&mut self, decision: Decision, attempt: u32) {
        match decision {
            Decision::Transfer(entry) => match self.entry_target(entry) {
                Some(target) => self.start_entry_transfer(entry, target, 0),
                None => self.speech_failed(attempt, Some(Prompt::NotUnderstood)),
            },
            Decision::Confirm(entry) => self.confirm(entry, attempt),
            Decision::Disambiguate(entries) => {
                let mut offered: Vec<EntryId> = Vec::new();
                for entry in entries {
                    if self.entry_target(entry).is_some()
                        && !offered.contains(&entry)
                        && !self.declined.contains(&entry)
                    {
                        offered.push(entry);
                    }
                }
                offered.truncate(MAX_OPTIONS);
                match offered.as_slice() {
                    [] => self.speech_failed(attempt, Some(Prompt::NotUnderstood)),
                    // One namesake left: a question is enough.
                    [entry] => self.confirm(*entry, attempt),
                    _ => self.offer(offered, attempt),
                }
            }
            Decision::Operator => {
                let operator = self.directory.store.operator.clone();
                self.start_transfer(operator, 0, None);
            }
            // The question again, not counted as a failed attempt.
            Decision::Help => self.ask_name(vec![self.name_question(attempt)], attempt),
            Decision::NoMatch => self.speech_failed(attempt, Some(Prompt::NotUnderstood)),
        }
    }

    /// One question between `entries` (names with departments, keys from 1),
    /// answered by key or by saying one of them.
    fn offer(&mut self, entries: Vec<EntryId>, attempt: u32) {
        self.play(disambiguation_prompts(&entries));
        self.start_recognition(super::RecognitionMode::Names);
        self.set_state(State::Disambiguating {
            entries,
            attempt,
            speaking: false,
        });
    }

    /// How the name is asked for at `attempt`: the second time differently.
    fn name_question(&self, attempt: u32) -> Prompt {
        if attempt == 0 {
            Prompt::AskName
        } else {
            Prompt::AskFullName
        }
    }

    fn confirm(&mut self, entry: EntryId, attempt: u32) {
        if self.entry_target(entry).is_none() {
            return self.speech_failed(attempt, Some(Prompt::NotUnderstood));
        }
        self.play(vec![Prompt::DidYouMean(entry)]);
        self.start_recognition(super::RecognitionMode::YesNo);
        self.set_state(State::Confirming {
            entry,
            attempt,
            speaking: false,
        });
    }

    /// The answer to "did you mean `entry`?".
    fn on_answer(&mut self, entry: EntryId, attempt: u32, answer: Option<bool>) {
        match (answer, self.entry_target(entry)) {
            (Some(true), Some(target)) => self.start_entry_transfer(entry, target, 0),
            // "No": not a misunderstanding, so no apology before asking
            // again; that entry is not offered again.
            (Some(false), _) => {
                self.declined.push(entry);
                self.speech_failed(attempt, None);
            }
            (_, _) => self.speech_failed(attempt, Some(Prompt::NotUnderstood)),
        }
    }

    /// Nothing usable came of this attempt: ask once more, then the DTMF menu
    /// (its retries untouched: the caller has not used it yet).
    fn speech_failed(&mut self, attempt: u32, cause: Option<Prompt>) {
        self.stop_recognition();
        self.stop_dialog_timers();
        if attempt == 0 {
            let question = self.name_question(attempt + 1);
            self.ask_name(cause.into_iter().chain([question]).collect(), attempt + 1);
        } else {
            self.play(cause.into_iter().chain([Prompt::Menu]).collect());
            self.set_state(State::Menu {
                retries: 0,
                digits: String::new(),
            });
        }
    }

    /// Where an enabled entry of the call's directory goes.
    pub(super) fn entry_target(&self, entry: EntryId) -> Option<TransferTarget> {
        self.directory
            .entries
            .iter()
            .find(|candidate| candidate.id == entry && candidate.enabled)
            .map(|found| found.target.clone())
    }

    pub(super) fn start_recognition(&mut self, grammar: super::RecognitionMode) {
        // One recognition at a time: the IO side runs one recognizer per call.
        self.stop_recognition();
        self.recognizing = true;
        self.act(Action::StartRecognition { grammar });
    }

    pub(super) fn stop_recognition(&mut self) {
        if self.recognizing {
            self.recognizing = false;
            self.act(Action::StopRecognition);
        }
    }
}

/// "Which one do you mean?", then one option per entry, keys from `1`.
fn disambiguation_prompts(entries: &[EntryId]) -> Vec<Prompt> {
    let options = entries
        .iter()
        .zip('1'..='9')
        .map(|(&entry, key)| Prompt::DisambiguationOption { key, entry });
    std::iter::once(Prompt::Disambiguation)
        .chain(options)
        .collect()
}

/// Index of the entry key `digit` picks among `count` offered, if any.
pub(super) fn key_index(digit: char, count: usize) -> Option<usize> {
    let index = digit.to_digit(10)?.checked_sub(1)? as usize;
    (index < count).then_some(index)
}
