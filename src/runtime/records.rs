//! Recent calls: each call's summary, written to the store's call list off the
//! call's path.
//!
//! A call task builds a [`CallLog`] from what it feeds the flow and what the
//! flow reports, and at its end (whatever the reason) hands the summary to
//! [`CallRecords::submit`], which never waits: summaries go through a bounded
//! channel to one writer task ([`write_records`]), and when the channel is full
//! (the database is slow or down) the summary is dropped and counted in a
//! warning. So a slow database costs at most [`CHANNEL_CAPACITY`] summaries of
//! memory and one task, never a call, and write errors are logged only.
//!
//! The summary fills the `calls` columns as follows:
//! - `heard`: what the caller said (each utterance's best alternative) and
//!   the keys pressed, in order, e.g. `sophie martin; keys 1`;
//! - `understood`: the speech decisions, e.g. `Sophie Martin` or
//!   `no match; Marc Dupont (to confirm)`; none for a keypad-only call;
//! - `decision`: why the call ended (`transferred`, `caller_hung_up`,
//!   `media_lost`, `max_duration`, `gave_up`, `closed`, `after_hours_transfer`,
//!   `not_answered`, `server_shutdown`);
//! - `transferred_to`: the extension or URI the call was transferred to;
//! - `outcome`, `recognition`, `entry_name`: how the call ended, what speech
//!   recognition achieved and whom the caller reached, in the words the
//!   statistics count ([`Outcome`], [`RecognitionOutcome`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::directory::store::DirectoryStore;
use crate::directory::store::admin::NewCall;
use crate::directory::{Directory, EntryId, StoreId, TransferTarget};
use crate::flow::{CallEvent, EndReason, Input};
use crate::matching::Decision;

/// Summaries waiting for the writer before new ones are dropped: at a few
/// milliseconds per insert, minutes of calls for the whole fleet.
pub(super) const CHANNEL_CAPACITY: usize = 256;

/// One finished call, owned, on its way to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CallSummary {
    pub(super) store: StoreId,
    pub(super) started_at: jiff::Timestamp,
    /// As received; `record_call` redacts it before it is stored.
    pub(super) caller: String,
    pub(super) heard: String,
    pub(super) understood: Option<String>,
    pub(super) decision: String,
    pub(super) transferred_to: Option<String>,
    pub(super) outcome: Outcome,
    pub(super) recognition: Option<RecognitionOutcome>,
    pub(super) entry_name: Option<String>,
}

/// How a call ended, as the statistics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Put through to the entry the caller named.
    Speech,
    /// Put through to an extension typed on the keypad.
    Keypad,
    /// Put through to an entry found by spelling its name on the keypad.
    Spelled,
    /// Put through to a menu option's target.
    Menu,
    /// Put through to the store's operator (asked for, or after failures).
    Operator,
    /// The store was closed; put through on its after-hours route.
    AfterHours,
    /// The attendant gave up (nothing could be done).
    GaveUp,
    /// The store was closed; its closed message played.
    Closed,
    /// The caller hung up (or the media or the call's time ran out) first.
    HungUp,
    /// Never answered.
    NotAnswered,
    /// Cut short by the server stopping.
    Other,
}

impl Outcome {
    /// The word stored in `calls.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Speech => "speech",
            Outcome::Keypad => "keypad",
            Outcome::Spelled => "spelled",
            Outcome::Menu => "menu",
            Outcome::Operator => "operator",
            Outcome::AfterHours => "after_hours",
            Outcome::GaveUp => "gave_up",
            Outcome::Closed => "closed",
            Outcome::HungUp => "hung_up",
            Outcome::NotAnswered => "not_answered",
            Outcome::Other => "other",
        }
    }
}

/// What speech recognition achieved in a call where the caller spoke a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecognitionOutcome {
    /// The first decision put the call through.
    AtOnce,
    /// Put through after the caller confirmed.
    Confirmed,
    /// Put through after the caller chose between namesakes.
    Menu,
    /// Speech did not put the call through.
    NotUnderstood,
}

impl RecognitionOutcome {
    /// The word stored in `calls.recognition`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecognitionOutcome::AtOnce => "at_once",
            RecognitionOutcome::Confirmed => "confirmed",
            RecognitionOutcome::Menu => "menu",
            RecognitionOutcome::NotUnderstood => "not_understood",
        }
    }
}

/// The last way towards a transfer the call took.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// A speech decision offered these entries (one: transfer or confirm).
    Speech { entries: Vec<EntryId>, recognition: RecognitionOutcome },
    /// A keypad name search found these entries.
    Spelled { entries: Vec<EntryId> },
    /// Keys were collected (after a name search, its entries are kept: the
    /// key may choose among them).
    Keys { digits: String, spelled: Vec<EntryId> },
}

impl CallSummary {
    fn as_new_call(&self) -> NewCall<'_> {
        NewCall {
            store: self.store,
            started_at: self.started_at,
            caller_number: &self.caller,
            heard: &self.heard,
            understood: self.understood.as_deref(),
            decision: &self.decision,
            transferred_to: self.transferred_to.as_deref(),
            outcome: Some(self.outcome.as_str()),
            recognition: self.recognition.map(RecognitionOutcome::as_str),
            entry_name: self.entry_name.as_deref(),
        }
    }
}

/// What the caller did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Heard {
    /// The best alternative of a recognition (empty: nothing decodable).
    Said(String),
    /// Consecutive keys.
    Keys(String),
}

/// What one call has heard, understood and done so far.
#[derive(Debug)]
pub(super) struct CallLog {
    store: StoreId,
    started_at: jiff::Timestamp,
    caller: String,
    /// The call's directory version: decisions name its entries.
    directory: Arc<Directory>,
    after_hours: bool,
    heard: Vec<Heard>,
    understood: Vec<String>,
    ended: Option<EndReason>,
    via: Option<Via>,
    /// The caller spoke (a recognition arrived).
    spoke: bool,
}

impl CallLog {
    /// A call to `directory`'s store from `caller`, which started at `started_at`;
    /// `after_hours` when the store was closed.
    pub(super) fn new(
        directory: Arc<Directory>,
        caller: Option<&str>,
        started_at: jiff::Timestamp,
        after_hours: bool,
    ) -> CallLog {
        CallLog {
            store: directory.store.id,
            started_at,
            caller: caller.unwrap_or("anonymous").to_owned(),
            directory,
            after_hours,
            heard: Vec::new(),
            understood: Vec::new(),
            ended: None,
            via: None,
            spoke: false,
        }
    }

    /// An input fed to the flow: keys and recognitions are kept.
    pub(super) fn input(&mut self, input: &Input) {
        match input {
            Input::Digit(digit) => match self.heard.last_mut() {
                Some(Heard::Keys(keys)) => keys.push(*digit),
                _ => self.heard.push(Heard::Keys(digit.to_string())),
            },
            Input::Recognized(recognition) => {
                let text = recognition.best().map_or("", |best| best.text.as_str());
                self.heard.push(Heard::Said(text.to_owned()));
                self.spoke = true;
            }
            _ => {}
        }
    }

    /// An event the flow reported: decisions and the end are kept.
    pub(super) fn event(&mut self, event: &CallEvent) {
        match event {
            CallEvent::SpeechDecision(decision) => {
                crate::ops::metrics::recognition_decision(match decision {
                    Decision::Transfer(_) => "transfer",
                    Decision::Confirm(_) => "confirm",
                    Decision::Disambiguate(_) => "disambiguate",
                    Decision::NoMatch => "no_match",
                    Decision::Operator => "operator",
                    Decision::Help => "help",
                });
                let understood = self.describe(decision);
                self.understood.push(understood);
                let speech = |entries, recognition| Some(Via::Speech { entries, recognition });
                match decision {
                    Decision::Transfer(entry) => self.via = speech(vec![*entry], RecognitionOutcome::AtOnce),
                    Decision::Confirm(entry) => self.via = speech(vec![*entry], RecognitionOutcome::Confirmed),
                    Decision::Disambiguate(entries) => self.via = speech(entries.clone(), RecognitionOutcome::Menu),
                    // The operator's transfer is the call's outcome; help asks again.
                    Decision::NoMatch | Decision::Operator | Decision::Help => {}
                }
            }
            CallEvent::KeypadSearch { entries, .. } => self.via = Some(Via::Spelled { entries: entries.clone() }),
            CallEvent::DigitsCollected(digits) => {
                let spelled = match self.via.take() {
                    Some(Via::Spelled { entries }) => entries,
                    _ => Vec::new(),
                };
                self.via = Some(Via::Keys { digits: digits.clone(), spelled });
            }
            CallEvent::Ended(reason) => self.ended = Some(reason.clone()),
            _ => {}
        }
    }

    /// The summary of a call that was set up but never answered (the caller
    /// gave up while it rang, or the server stopped first).
    pub(super) fn unanswered(self) -> CallSummary {
        self.summary("not_answered".to_owned(), None, Outcome::NotAnswered, None, None)
    }

    /// The summary at the end of an answered call; a flow that has not ended
    /// was cut short by the server stopping.
    pub(super) fn finish(self) -> CallSummary {
        let mut reached = None;
        let (decision, transferred_to, outcome) = match &self.ended {
            Some(EndReason::Transferred(target)) if self.after_hours => {
                ("after_hours_transfer", Some(target_text(target)), Outcome::AfterHours)
            }
            Some(EndReason::Transferred(target)) => {
                let (outcome, entry) = self.transfer_outcome(target);
                reached = entry;
                ("transferred", Some(target_text(target)), outcome)
            }
            Some(EndReason::CallerHungUp) => ("caller_hung_up", None, Outcome::HungUp),
            Some(EndReason::MediaLost) => ("media_lost", None, Outcome::HungUp),
            Some(EndReason::MaxDuration) => ("max_duration", None, Outcome::HungUp),
            Some(EndReason::GaveUp) => ("gave_up", None, Outcome::GaveUp),
            Some(EndReason::Closed) => ("closed", None, Outcome::Closed),
            None => ("server_shutdown", None, Outcome::Other),
        };
        let recognition = match (&self.via, outcome) {
            (Some(Via::Speech { recognition, .. }), Outcome::Speech) => Some(*recognition),
            _ if self.spoke => Some(RecognitionOutcome::NotUnderstood),
            _ => None,
        };
        let entry_name = reached.map(|entry: EntryId| self.name_of(&entry));
        self.summary(decision.to_owned(), transferred_to, outcome, recognition, entry_name)
    }

    /// How a transfer to `target` came about, and the entry it reached.
    fn transfer_outcome(&self, target: &TransferTarget) -> (Outcome, Option<EntryId>) {
        let reaches = |entry: &EntryId| {
            self.directory
                .entries
                .iter()
                .find(|e| e.id == *entry)
                .is_some_and(|e| e.target == *target || e.fallback.as_ref() == Some(target))
        };
        let among = |entries: &[EntryId]| entries.iter().copied().find(|e| reaches(e));
        match &self.via {
            Some(Via::Speech { entries, .. }) => {
                if let Some(entry) = among(entries) {
                    return (Outcome::Speech, Some(entry));
                }
            }
            Some(Via::Spelled { entries }) => {
                if let Some(entry) = among(entries) {
                    return (Outcome::Spelled, Some(entry));
                }
            }
            Some(Via::Keys { digits, spelled }) => {
                if let Some(entry) = among(spelled) {
                    return (Outcome::Spelled, Some(entry));
                }
                let menu = self.directory.menu.iter().any(|o| o.digit.to_string() == *digits && o.target == *target);
                if menu {
                    return (Outcome::Menu, None);
                }
                if *target != self.directory.store.operator {
                    let entry = self.directory.entries.iter().find(|e| e.extension.as_deref() == Some(digits.as_str()));
                    return (Outcome::Keypad, entry.filter(|e| reaches(&e.id)).map(|e| e.id));
                }
            }
            None => {}
        }
        if *target == self.directory.store.operator {
            (Outcome::Operator, None)
        } else {
            (Outcome::Other, None)
        }
    }

    fn name_of(&self, entry: &EntryId) -> String {
        self.directory
            .entries
            .iter()
            .find(|candidate| candidate.id == *entry)
            .map_or_else(|| format!("entry {}", entry.0), |found| found.display_name.clone())
    }

    fn summary(
        self,
        decision: String,
        transferred_to: Option<String>,
        outcome: Outcome,
        recognition: Option<RecognitionOutcome>,
        entry_name: Option<String>,
    ) -> CallSummary {
        let heard = self
            .heard
            .iter()
            .map(|heard| match heard {
                Heard::Said(text) if text.is_empty() => "(nothing decodable)".to_owned(),
                Heard::Said(text) => text.clone(),
                Heard::Keys(keys) => format!("keys {keys}"),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let understood = (!self.understood.is_empty()).then(|| self.understood.join("; "));
        CallSummary {
            store: self.store,
            started_at: self.started_at,
            caller: self.caller,
            heard,
            understood,
            decision,
            transferred_to,
            outcome,
            recognition,
            entry_name,
        }
    }

    fn describe(&self, decision: &Decision) -> String {
        let name = |entry: &EntryId| self.name_of(entry);
        match decision {
            Decision::Transfer(entry) => name(entry),
            Decision::Confirm(entry) => format!("{} (to confirm)", name(entry)),
            Decision::Disambiguate(entries) => entries.iter().map(name).collect::<Vec<_>>().join(" | "),
            Decision::Operator => "operator".to_owned(),
            Decision::Help => "help".to_owned(),
            Decision::NoMatch => "no match".to_owned(),
        }
    }
}

/// An extension's digits or a URI, as shown to the store's admin.
fn target_text(target: &TransferTarget) -> String {
    match target {
        TransferTarget::Extension(extension) => extension.clone(),
        TransferTarget::Uri(uri) => uri.clone(),
    }
}

/// The calls' side of the channel to the writer.
#[derive(Debug)]
pub(super) struct CallRecords {
    sender: mpsc::Sender<CallSummary>,
    /// Summaries dropped because the writer was behind, since start.
    dropped: AtomicU64,
}

impl CallRecords {
    /// A channel holding up to `capacity` summaries, and its receiving end for
    /// [`write_records`].
    pub(super) fn new(capacity: usize) -> (CallRecords, mpsc::Receiver<CallSummary>) {
        let (sender, receiver) = mpsc::channel(capacity);
        let records = CallRecords {
            sender,
            dropped: AtomicU64::new(0),
        };
        (records, receiver)
    }

    /// Hands a finished call to the writer without waiting; dropped (and
    /// counted) when the writer is behind or gone.
    pub(super) fn submit(&self, summary: CallSummary) {
        // Every call set up ends here once: its outcome is its record's decision.
        crate::ops::metrics::call_ended(&summary.decision);
        match self.sender.try_send(summary) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(summary)) => {
                crate::ops::metrics::call_record_dropped();
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                warn!(store = %summary.store, dropped, "call record dropped: the writer is behind");
            }
            Err(mpsc::error::TrySendError::Closed(summary)) => {
                crate::ops::metrics::call_record_dropped();
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                warn!(store = %summary.store, dropped, "call record dropped: the writer has stopped");
            }
        }
    }

    /// Summaries dropped so far.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The writer: stores summaries one at a time until `stop`, then writes what
/// is already queued and returns. A failed write is logged and skipped.
pub(super) async fn write_records(
    store: DirectoryStore,
    mut summaries: mpsc::Receiver<CallSummary>,
    stop: CancellationToken,
) {
    loop {
        let summary = tokio::select! {
            summary = summaries.recv() => summary,
            () = stop.cancelled() => break,
        };
        match summary {
            Some(summary) => write(&store, &summary).await,
            None => return,
        }
    }
    // Calls ended by the shutdown queued their summaries before `stop`.
    summaries.close();
    while let Some(summary) = summaries.recv().await {
        write(&store, &summary).await;
    }
}

async fn write(store: &DirectoryStore, summary: &CallSummary) {
    match store.record_call(&summary.as_new_call()).await {
        Ok(id) => debug!(id, store = %summary.store, "call recorded"),
        Err(error) => warn!(%error, store = %summary.store, "cannot record the call"),
    }
}

#[cfg(test)]
mod tests {
    //! Call summaries from what a call heard and reported, and the bounded
    //! hand-off to the writer.
    use super::*;
    use crate::asr::{Hypothesis, Recognition};
    use crate::directory::{DirectoryVersion, Entry, Language, Store};

    fn directory() -> Arc<Directory> {
        let entry = |id, name: &str| Entry {
            id: EntryId(id),
            display_name: name.into(),
            aliases: vec![],
            department: None,
            extension: None,
            target: TransferTarget::Extension(format!("{id}")),
            fallback: None,
            enabled: true,
        };
        Arc::new(Directory {
            store: Store {
                id: StoreId(4),
                name: "Test".into(),
                number: "1000".into(),
                language: Language::Fr,
                operator: TransferTarget::Extension("100".into()),
            },
            version: DirectoryVersion(2),
            entries: vec![entry(1, "Sophie Martin"), entry(2, "Marc Dupont")],
            menu: vec![],
        })
    }

    fn said(text: &str) -> Input {
        Input::Recognized(Recognition {
            alternatives: vec![
                Hypothesis {
                    text: text.into(),
                    confidence: 0.8,
                },
                Hypothesis {
                    text: "other".into(),
                    confidence: 0.1,
                },
            ],
            in_grammar: None,
        })
    }

    fn ext(number: &str) -> TransferTarget {
        TransferTarget::Extension(number.into())
    }

    enum Seen {
        Input(Input),
        Event(CallEvent),
    }

    #[test]
    fn summaries_say_what_was_heard_understood_and_done() {
        use Seen::{Event, Input as In};
        struct Case {
            name: &'static str,
            after_hours: bool,
            seen: Vec<Seen>,
            answered: bool,
            heard: &'static str,
            understood: Option<&'static str>,
            decision: &'static str,
            transferred_to: Option<&'static str>,
            outcome: Outcome,
            recognition: Option<RecognitionOutcome>,
            entry: Option<&'static str>,
        }
        let ended = |reason| Event(CallEvent::Ended(reason));
        let cases = [
            Case {
                name: "keypad transfer",
                after_hours: false,
                seen: vec![
                    In(Input::Digit('3')),
                    In(Input::Digit('1')),
                    In(Input::Answered),
                    In(Input::Digit('#')),
                    Event(CallEvent::DigitsCollected("31".into())),
                    ended(EndReason::Transferred(ext("31"))),
                ],
                answered: true,
                heard: "keys 31#",
                understood: None,
                decision: "transferred",
                transferred_to: Some("31"),
                outcome: Outcome::Keypad,
                recognition: None,
                entry: None,
            },
            Case {
                name: "speech after a miss, then keys",
                after_hours: false,
                seen: vec![
                    In(said("bof")),
                    Event(CallEvent::SpeechDecision(Decision::NoMatch)),
                    In(said("marc")),
                    Event(CallEvent::SpeechDecision(Decision::Confirm(EntryId(2)))),
                    In(Input::Digit('1')),
                    Event(CallEvent::Confirmation(Some(true))),
                    ended(EndReason::Transferred(ext("2"))),
                ],
                answered: true,
                heard: "bof; marc; keys 1",
                understood: Some("no match; Marc Dupont (to confirm)"),
                decision: "transferred",
                transferred_to: Some("2"),
                outcome: Outcome::Speech,
                recognition: Some(RecognitionOutcome::Confirmed),
                entry: Some("Marc Dupont"),
            },
            Case {
                name: "namesakes, then the caller hangs up",
                after_hours: false,
                seen: vec![
                    In(said("martin")),
                    Event(CallEvent::SpeechDecision(Decision::Disambiguate(vec![EntryId(1), EntryId(9)]))),
                    ended(EndReason::CallerHungUp),
                ],
                answered: true,
                heard: "martin",
                understood: Some("Sophie Martin | entry 9"),
                decision: "caller_hung_up",
                transferred_to: None,
                outcome: Outcome::HungUp,
                recognition: Some(RecognitionOutcome::NotUnderstood),
                entry: None,
            },
            Case {
                name: "nothing decodable, media lost",
                after_hours: false,
                seen: vec![
                    In(Input::Recognized(Recognition::default())),
                    ended(EndReason::MediaLost),
                ],
                answered: true,
                heard: "(nothing decodable)",
                understood: None,
                decision: "media_lost",
                transferred_to: None,
                outcome: Outcome::HungUp,
                recognition: Some(RecognitionOutcome::NotUnderstood),
                entry: None,
            },
            Case {
                name: "closed message",
                after_hours: true,
                seen: vec![ended(EndReason::Closed)],
                answered: true,
                heard: "",
                understood: None,
                decision: "closed",
                transferred_to: None,
                outcome: Outcome::Closed,
                recognition: None,
                entry: None,
            },
            Case {
                name: "after-hours transfer",
                after_hours: true,
                seen: vec![ended(EndReason::Transferred(ext("555")))],
                answered: true,
                heard: "",
                understood: None,
                decision: "after_hours_transfer",
                transferred_to: Some("555"),
                outcome: Outcome::AfterHours,
                recognition: None,
                entry: None,
            },
            Case {
                name: "gave up, hard cap",
                after_hours: false,
                seen: vec![ended(EndReason::GaveUp)],
                answered: true,
                heard: "",
                understood: None,
                decision: "gave_up",
                transferred_to: None,
                outcome: Outcome::GaveUp,
                recognition: None,
                entry: None,
            },
            Case {
                name: "hard cap",
                after_hours: false,
                seen: vec![ended(EndReason::MaxDuration)],
                answered: true,
                heard: "",
                understood: None,
                decision: "max_duration",
                transferred_to: None,
                outcome: Outcome::HungUp,
                recognition: None,
                entry: None,
            },
            Case {
                name: "server stopped mid-call",
                after_hours: false,
                seen: vec![In(Input::Digit('2'))],
                answered: true,
                heard: "keys 2",
                understood: None,
                decision: "server_shutdown",
                transferred_to: None,
                outcome: Outcome::Other,
                recognition: None,
                entry: None,
            },
            Case {
                name: "never answered",
                after_hours: false,
                seen: vec![],
                answered: false,
                heard: "",
                understood: None,
                decision: "not_answered",
                transferred_to: None,
                outcome: Outcome::NotAnswered,
                recognition: None,
                entry: None,
            },
            Case {
                name: "understood at once",
                after_hours: false,
                seen: vec![
                    In(said("sophie")),
                    Event(CallEvent::SpeechDecision(Decision::Transfer(EntryId(1)))),
                    ended(EndReason::Transferred(ext("1"))),
                ],
                answered: true,
                heard: "sophie",
                understood: Some("Sophie Martin"),
                decision: "transferred",
                transferred_to: Some("1"),
                outcome: Outcome::Speech,
                recognition: Some(RecognitionOutcome::AtOnce),
                entry: Some("Sophie Martin"),
            },
            Case {
                name: "not understood, then the operator",
                after_hours: false,
                seen: vec![
                    In(said("bof")),
                    Event(CallEvent::SpeechDecision(Decision::NoMatch)),
                    ended(EndReason::Transferred(ext("100"))),
                ],
                answered: true,
                heard: "bof",
                understood: Some("no match"),
                decision: "transferred",
                transferred_to: Some("100"),
                outcome: Outcome::Operator,
                recognition: Some(RecognitionOutcome::NotUnderstood),
                entry: None,
            },
            Case {
                name: "spelled, then chosen by key",
                after_hours: false,
                seen: vec![
                    Event(CallEvent::KeypadSearch { digits: "7674".into(), entries: vec![EntryId(1), EntryId(2)] }),
                    In(Input::Digit('1')),
                    Event(CallEvent::DigitsCollected("1".into())),
                    ended(EndReason::Transferred(ext("1"))),
                ],
                answered: true,
                heard: "keys 1",
                understood: None,
                decision: "transferred",
                transferred_to: Some("1"),
                outcome: Outcome::Spelled,
                recognition: None,
                entry: Some("Sophie Martin"),
            },
        ];
        let started_at = jiff::Timestamp::from_second(1_800_000_000).expect("valid instant");
        for case in cases {
            let mut log = CallLog::new(directory(), Some("0611223344"), started_at, case.after_hours);
            for seen in &case.seen {
                match seen {
                    Seen::Input(input) => log.input(input),
                    Seen::Event(event) => log.event(event),
                }
            }
            let summary = if case.answered { log.finish() } else { log.unanswered() };
            let expected = CallSummary {
                store: StoreId(4),
                started_at,
                caller: "0611223344".into(),
                heard: case.heard.into(),
                understood: case.understood.map(Into::into),
                decision: case.decision.into(),
                transferred_to: case.transferred_to.map(Into::into),
                outcome: case.outcome,
                recognition: case.recognition,
                entry_name: case.entry.map(Into::into),
            };
            assert_eq!(summary, expected, "{}", case.name);
        }
        let anonymous = CallLog::new(directory(), None, started_at, false).finish();
        assert_eq!(anonymous.caller, "anonymous");
    }

    #[test]
    fn a_full_channel_drops_and_counts_instead_of_waiting() {
        let (records, mut receiver) = CallRecords::new(2);
        let summary = |n: u8| CallSummary {
            store: StoreId(1),
            started_at: jiff::Timestamp::UNIX_EPOCH,
            caller: format!("06{n}"),
            heard: String::new(),
            understood: None,
            decision: "transferred".into(),
            transferred_to: None,
            outcome: Outcome::Other,
            recognition: None,
            entry_name: None,
        };
        for n in 0..5 {
            records.submit(summary(n));
        }
        assert_eq!(records.dropped(), 3);
        // The first two were kept, in order; the writer catching up frees room.
        assert_eq!(receiver.try_recv().expect("queued").caller, "060");
        records.submit(summary(5));
        assert_eq!(receiver.try_recv().expect("queued").caller, "061");
        assert_eq!(receiver.try_recv().expect("queued").caller, "065");
        assert_eq!(records.dropped(), 3);
        drop(receiver);
        records.submit(summary(6));
        assert_eq!(records.dropped(), 4, "a stopped writer drops too");
    }

    #[tokio::test]
    async fn the_writer_stores_until_stopped_then_flushes_the_queue() {
        use crate::directory::settings::StoreSettings;
        use crate::directory::store::NewStore;
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let db = DirectoryStore::open(&url).await.expect("open");
        let id = db
            .upsert_store(&NewStore {
                name: "Test".into(),
                number: "1000".into(),
                language: Language::Fr,
                operator: ext("100"),
                settings: StoreSettings::none(),
            })
            .await
            .expect("store");
        let (records, receiver) = CallRecords::new(8);
        let stop = CancellationToken::new();
        let summary = |store, second| CallSummary {
            store,
            started_at: jiff::Timestamp::from_second(second).expect("valid instant"),
            caller: "0611223344".into(),
            heard: "keys 1".into(),
            understood: None,
            decision: "transferred".into(),
            transferred_to: Some("201".into()),
            outcome: Outcome::Keypad,
            recognition: None,
            entry_name: None,
        };
        // Queued before the writer runs, and stopped at once: all still written,
        // except the one for an unknown store (logged, skipped).
        records.submit(summary(id, 10));
        records.submit(summary(StoreId(999), 11));
        records.submit(summary(id, 12));
        stop.cancel();
        write_records(db.clone(), receiver, stop).await;
        let calls = db.recent_calls(id, 10).await.expect("calls");
        let seconds: Vec<i64> = calls.iter().map(|c| c.started_at.as_second()).collect();
        assert_eq!(seconds, [12, 10]);
        assert_eq!(calls[0].caller, "********44");
        assert_eq!(calls[0].transferred_to.as_deref(), Some("201"));
    }
}
