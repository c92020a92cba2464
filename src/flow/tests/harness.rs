//! Scenario harness: a fixture directory, a fake clock, and a runner for tables of (time offset, input) → outputs.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::asr::{Hypothesis, Recognition};
use crate::directory::{
    Directory, DirectoryVersion, Entry, EntryId, Language, MenuOption, Store, StoreId,
    TransferTarget,
};
use crate::flow::{
    Action, Call, CallEvent, EndReason, FlowSettings, Input, Output, Prompt, RecognitionMode,
    SpeechInterpreter, TimerKind,
};
use crate::matching::Decision;

/// Origin of the fake clock. `Instant` has no constructor, so the clock is read
/// once, here, and only ever used as an arbitrary origin: scenarios move time
/// by offsets from it, never by reading the clock again.
pub(crate) fn t0() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The fake clock at `ms` milliseconds after [`t0`].
pub(crate) fn at(ms: u64) -> Instant {
    t0() + Duration::from_millis(ms)
}

/// An extension target.
pub(crate) fn ext(number: &str) -> TransferTarget {
    TransferTarget::Extension(number.to_owned())
}

/// The store's operator in [`directory`].
pub(crate) fn operator() -> TransferTarget {
    ext("9000")
}

fn entry(id: i64, name: &str, extension: &str, target: &str, enabled: bool) -> Entry {
    Entry {
        id: EntryId(id),
        display_name: name.to_owned(),
        aliases: vec![],
        department: None,
        extension: Some(extension.to_owned()),
        target: ext(target),
        fallback: None,
        enabled,
    }
}

/// A store whose keys exercise every digit rule:
/// - menu `1` → 201 (and extension `12` starts with it), `2` → 202, `5` → 205
///   (and an entry also has extension `5`);
/// - extensions `31` (twice: the first entry wins) and `315` (starts with `31`),
///   `12`, `44` (disabled), `5`;
/// - operator `0` → 9000.
pub(crate) fn directory() -> Directory {
    Directory {
        store: Store {
            id: StoreId(7),
            name: "Leclerc Vitrolles".into(),
            number: "0442000000".into(),
            language: Language::Fr,
            operator: operator(),
        },
        version: DirectoryVersion(3),
        entries: vec![
            entry(1, "Sophie Martin", "31", "31", true),
            entry(2, "Marc Dupont", "315", "315", true),
            entry(3, "Rayon bricolage", "12", "12", true),
            entry(4, "Ancien employé", "44", "44", false),
            entry(5, "Caisse centrale", "5", "5", true),
            entry(6, "Julie Martin", "31", "6031", true),
        ],
        menu: vec![
            MenuOption {
                digit: '1',
                label: "la boulangerie".into(),
                target: ext("201"),
            },
            MenuOption {
                digit: '2',
                label: "la boucherie".into(),
                target: ext("202"),
            },
            MenuOption {
                digit: '5',
                label: "l'accueil caisse".into(),
                target: ext("205"),
            },
        ],
    }
}

/// Settings of every scenario, spelled out so tables can be checked by eye:
/// no input 6 s, inter-digit 3 s, 2 retries, transfer 20 s, call 300 s,
/// speech off (utterances up to 10 s when on).
pub(crate) fn settings() -> FlowSettings {
    FlowSettings {
        no_input_timeout: Duration::from_secs(6),
        inter_digit_timeout: Duration::from_secs(3),
        max_retries: 2,
        transfer_timeout: Duration::from_secs(20),
        max_call_duration: Duration::from_secs(300),
        speech_enabled: false,
        max_utterance: Duration::from_secs(10),
        ..FlowSettings::default()
    }
}

/// `ms` after [`t0`] when the call's hard cap fires with [`settings`].
pub(crate) const MAX_MS: u64 = 300_000;

/// One step of a scenario: at `at_ms`, feed `input`; `poll` must then return
/// exactly `expect` (ending with the `Output::Timeout`).
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) at_ms: u64,
    pub(crate) input: Input,
    pub(crate) expect: Vec<Output>,
}

/// Shorthand for a [`Step`].
pub(crate) fn step(at_ms: u64, input: Input, expect: Vec<Output>) -> Step {
    Step {
        at_ms,
        input,
        expect,
    }
}

/// Drains `call` until its `Output::Timeout`, which is included.
pub(crate) fn drain(call: &mut Call) -> Vec<Output> {
    let mut outputs = Vec::new();
    loop {
        let output = call.poll();
        let done = matches!(output, Output::Timeout(_));
        outputs.push(output);
        if done {
            return outputs;
        }
        assert!(
            outputs.len() < 100,
            "poll never returned a timeout: {outputs:?}"
        );
    }
}

/// A fresh call created at [`t0`], its initial outputs checked and drained.
pub(crate) fn new_call(directory: Directory) -> Call {
    let mut call = Call::new(t0(), Arc::new(directory), settings());
    assert_eq!(
        drain(&mut call),
        vec![timeout(MAX_MS)],
        "a new call only waits for its hard cap"
    );
    call
}

/// Runs `steps` on a fresh call over `directory`; panics naming the scenario
/// and step on the first difference. Returns the call for further checks.
pub(crate) fn run_on(name: &str, directory: Directory, steps: Vec<Step>) -> Call {
    run_steps(name, new_call(directory), steps)
}

/// Runs `steps` on `call`, as [`run_on`] does.
pub(crate) fn run_steps(name: &str, mut call: Call, steps: Vec<Step>) -> Call {
    for (index, step) in steps.into_iter().enumerate() {
        let input = format!("{:?}", step.input);
        call.handle(at(step.at_ms), step.input);
        assert_eq!(
            drain(&mut call),
            step.expect,
            "scenario {name:?}, step {index} ({input} at {} ms)",
            step.at_ms
        );
    }
    call
}

/// [`run_on`] the fixture [`directory`].
pub(crate) fn run(name: &str, steps: Vec<Step>) -> Call {
    run_on(name, directory(), steps)
}

/// Steps that answer at 0 and let the greeting finish at `finished_ms`:
/// the call then waits in the menu, no retry spent, NoInput due at `finished_ms + 6 s`
/// (the next deadline, unless the hard cap comes first).
pub(crate) fn answered_then_menu(finished_ms: u64) -> Vec<Step> {
    let next_ms = (finished_ms + 6_000).min(MAX_MS);
    vec![
        step(
            0,
            Input::Answered,
            vec![
                play(&[Prompt::Greeting, Prompt::Menu]),
                changed("starting", "greeting"),
                timeout(MAX_MS),
            ],
        ),
        step(
            finished_ms,
            Input::PlaybackFinished,
            vec![changed("greeting", "menu"), timeout(next_ms)],
        ),
    ]
}

// Output builders, so that tables read like the behaviour they pin down.

pub(crate) fn play(prompts: &[Prompt]) -> Output {
    Output::Action(Action::Play(prompts.to_vec()))
}

pub(crate) fn stop() -> Output {
    Output::Action(Action::StopPlayback)
}

pub(crate) fn transfer(target: TransferTarget) -> Output {
    Output::Action(Action::Transfer(target))
}

pub(crate) fn hangup() -> Output {
    Output::Action(Action::Hangup)
}

pub(crate) fn changed(from: &'static str, to: &'static str) -> Output {
    Output::Event(CallEvent::StateChanged { from, to })
}

pub(crate) fn fired(kind: TimerKind) -> Output {
    Output::Event(CallEvent::TimerFired(kind))
}

pub(crate) fn collected(digits: &str) -> Output {
    Output::Event(CallEvent::DigitsCollected(digits.to_owned()))
}

pub(crate) fn invalid(digits: &str) -> Output {
    Output::Event(CallEvent::InvalidChoice(digits.to_owned()))
}

pub(crate) fn transfer_failed(target: TransferTarget, status: Option<u16>) -> Output {
    Output::Event(CallEvent::TransferFailed { target, status })
}

pub(crate) fn ignored(state: &'static str, input: Input) -> Output {
    Output::Event(CallEvent::InputIgnored {
        state,
        input: format!("{input:?}"),
    })
}

pub(crate) fn ended(reason: EndReason) -> Output {
    Output::Event(CallEvent::Ended(reason))
}

pub(crate) fn timeout(ms: u64) -> Output {
    Output::Timeout(Some(at(ms)))
}

pub(crate) fn no_timeout() -> Output {
    Output::Timeout(None)
}

/// A recognition whose best (only) alternative is `text`.
pub(crate) fn heard(text: &str) -> Recognition {
    Recognition {
        alternatives: vec![Hypothesis {
            text: text.to_owned(),
            confidence: 0.9,
        }],
        in_grammar: None,
    }
}

/// Reads recognitions by a fixed script over the fixture [`directory`]:
/// - "sophie martin" → transfer to entry 1; "marc" → confirm entry 2;
/// - "martin" → disambiguate entries 1 and 6 (Sophie and Julie Martin);
/// - "ancien" → transfer to entry 4, which is disabled;
/// - "les martin" → disambiguate 1, 4 and 1 again (one usable entry);
/// - "operator" → the operator; "help" → the question again;
/// - anything else → no match; "oui" / "non" answer yes / no.
#[derive(Debug)]
pub(crate) struct ScriptedInterpreter;

impl SpeechInterpreter for ScriptedInterpreter {
    fn decide_name(&self, recognition: &Recognition) -> Decision {
        let text = recognition
            .alternatives
            .first()
            .map_or("", |best| best.text.as_str());
        match text {
            "sophie martin" => Decision::Transfer(EntryId(1)),
            "marc" => Decision::Confirm(EntryId(2)),
            "martin" => Decision::Disambiguate(vec![EntryId(1), EntryId(6)]),
            "ancien" => Decision::Transfer(EntryId(4)),
            "les martin" => Decision::Disambiguate(vec![EntryId(1), EntryId(4), EntryId(1)]),
            "operator" => Decision::Operator,
            "help" => Decision::Help,
            _ => Decision::NoMatch,
        }
    }

    fn yes_no(&self, recognition: &Recognition) -> Option<bool> {
        match recognition
            .alternatives
            .first()
            .map(|best| best.text.as_str())
        {
            Some("oui") => Some(true),
            Some("non") => Some(false),
            _ => None,
        }
    }
}

/// [`settings`] with speech on.
pub(crate) fn speech_settings() -> FlowSettings {
    FlowSettings {
        speech_enabled: true,
        ..settings()
    }
}

/// A fresh speech call created at [`t0`], its initial outputs checked and drained.
pub(crate) fn new_speech_call(directory: Directory) -> Call {
    let mut call = Call::new(t0(), Arc::new(directory), speech_settings())
        .with_speech(Arc::new(ScriptedInterpreter));
    assert!(call.speech_active());
    assert_eq!(
        drain(&mut call),
        vec![timeout(MAX_MS)],
        "a new call only waits for its hard cap"
    );
    call
}

/// Runs `steps` on a fresh speech call over the fixture [`directory`].
pub(crate) fn run_speech(name: &str, steps: Vec<Step>) -> Call {
    run_steps(name, new_speech_call(directory()), steps)
}

pub(crate) fn start_recognition(grammar: RecognitionMode) -> Output {
    Output::Action(Action::StartRecognition { grammar })
}

pub(crate) fn stop_recognition() -> Output {
    Output::Action(Action::StopRecognition)
}

pub(crate) fn decided(decision: Decision) -> Output {
    Output::Event(CallEvent::SpeechDecision(decision))
}

pub(crate) fn confirmation(answer: Option<bool>) -> Output {
    Output::Event(CallEvent::Confirmation(answer))
}
