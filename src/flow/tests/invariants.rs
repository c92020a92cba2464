//! Invariants over every input sequence up to a length, DTMF, speech, keypad name search, closed stores and fallbacks: one `Ended`, nothing after it, playback and recognition brackets kept, deadlines in the future, consistent state reports.

use std::sync::Arc;
use std::time::Duration;

use super::harness::{
    ScriptedInterpreter, at, directory, ext, heard, settings, speech_settings,
};
use crate::directory::hours::AfterHoursRoute;
use crate::flow::{Action, Call, CallEvent, EndReason, Input, MenuKey, Output};
use crate::matching::NameIndex;

/// What the IO side can tell of a call from its outputs alone.
#[derive(Debug, Clone, Default)]
struct Observed {
    now_ms: u64,
    ended_events: usize,
    hangups: usize,
    /// Whether prompts play, by the `Play` / `StopPlayback` / `PlaybackFinished` seen.
    playing: bool,
    /// Whether a recognition runs, by `StartRecognition` / `StopRecognition` / results seen.
    recognizing: bool,
    /// The state as reported by `StateChanged`.
    state: &'static str,
    /// The last deadline returned.
    next: Option<std::time::Instant>,
}

/// Inputs of the DTMF flow.
fn dtmf_inputs() -> Vec<Input> {
    vec![
        Input::Answered,
        Input::PlaybackFinished,
        Input::Digit('1'),
        Input::Digit('3'),
        Input::Digit('9'),
        Input::Digit('*'),
        Input::Digit('#'),
        Input::TransferAccepted,
        Input::TransferSucceeded,
        Input::TransferFailed { status: 486 },
        Input::CallerHungUp,
        Input::MediaLost,
        Input::Timeout,
    ]
}

/// Most DTMF inputs, and speech inputs reaching every decision.
fn speech_inputs() -> Vec<Input> {
    let mut inputs = dtmf_inputs();
    inputs.retain(|input| {
        !matches!(
            input,
            Input::Digit('9') | Input::Digit('#') | Input::TransferAccepted
        )
    });
    inputs.extend([
        Input::SpeechStarted,
        Input::NoSpeech,
        Input::Recognized(heard("sophie martin")),
        Input::Recognized(heard("marc")),
        Input::Recognized(heard("martin")),
        Input::Recognized(heard("oui")),
        Input::Recognized(heard("bof")),
    ]);
    inputs
}

/// Keys reaching every spelling outcome over the fixture directory with spell
/// key `9`: `9` enters spelling (and spells nothing), `3` finds one entry, `6`
/// three, `1` carries no letters; `*` and `#`; and the inputs that end calls.
fn spelling_inputs() -> Vec<Input> {
    vec![
        Input::Answered,
        Input::PlaybackFinished,
        Input::Digit('9'),
        Input::Digit('6'),
        Input::Digit('3'),
        Input::Digit('1'),
        Input::Digit('*'),
        Input::Digit('#'),
        Input::TransferFailed { status: 486 },
        Input::CallerHungUp,
        Input::Timeout,
    ]
}

/// Feeds `input` as the IO side would and checks every output against `seen`.
fn step(call: &mut Call, seen: &mut Observed, input: &Input, trail: &[Input]) {
    let was_ended = call.is_ended();
    // A timeout comes when the last deadline is reached; other inputs 1 s
    // later, or just before the deadline, since the IO side would send the
    // timeout first.
    let next_ms = seen.next.map(|next| (next - at(0)).as_millis() as u64);
    seen.now_ms = match (input, next_ms) {
        (Input::Timeout, Some(next_ms)) => next_ms,
        (_, Some(next_ms)) => (seen.now_ms + 1_000).min(next_ms - 1),
        (_, None) => seen.now_ms + 1_000,
    };
    let (was_playing, was_recognizing) = (seen.playing, seen.recognizing);
    if input == &Input::PlaybackFinished {
        // The prompts are over on the IO side, whatever the call makes of it.
        seen.playing = false;
    }
    let is_result = matches!(input, Input::Recognized(_) | Input::NoSpeech);
    if is_result {
        // A result ends the recognition on the IO side.
        seen.recognizing = false;
    }
    call.handle(at(seen.now_ms), input.clone());
    let mut ignored = false;
    loop {
        match call.poll() {
            Output::Timeout(next) => {
                if let Some(next) = next {
                    assert!(
                        next > at(seen.now_ms),
                        "{trail:?}: deadline not in the future"
                    );
                }
                if call.is_ended() {
                    assert_eq!(next, None, "{trail:?}: a deadline after the end");
                }
                seen.next = next;
                break;
            }
            Output::Action(action) => {
                assert!(!was_ended, "{trail:?}: {action:?} after the end");
                match action {
                    Action::Play(prompts) => {
                        assert!(!prompts.is_empty(), "{trail:?}: empty play");
                        seen.playing = true;
                    }
                    Action::StopPlayback => {
                        assert!(seen.playing, "{trail:?}: stop with nothing playing");
                        seen.playing = false;
                    }
                    Action::Hangup => seen.hangups += 1,
                    Action::Transfer(_) => {
                        assert!(!seen.playing, "{trail:?}: REFER while a prompt plays");
                        assert!(!seen.recognizing, "{trail:?}: REFER while recognising");
                    }
                    Action::StartRecognition { .. } => {
                        assert!(!seen.recognizing, "{trail:?}: two recognitions at once");
                        seen.recognizing = true;
                    }
                    Action::StopRecognition => {
                        assert!(seen.recognizing, "{trail:?}: stop with no recognition");
                        seen.recognizing = false;
                    }
                }
            }
            Output::Event(CallEvent::StateChanged { from, to }) => {
                assert_eq!(from, seen.state, "{trail:?}: reported from-state");
                assert_ne!(from, to, "{trail:?}: change to the same state");
                seen.state = to;
            }
            Output::Event(CallEvent::Ended(_)) => seen.ended_events += 1,
            Output::Event(CallEvent::InputIgnored { state, input: text }) => {
                assert_eq!(text, format!("{input:?}"), "{trail:?}");
                assert_eq!(state, seen.state, "{trail:?}");
                ignored = true;
            }
            Output::Event(event) => assert!(!was_ended, "{trail:?}: {event:?} after the end"),
        }
    }
    if !was_ended {
        if input == &Input::PlaybackFinished {
            // Acted on exactly when something was playing.
            assert_eq!(
                ignored, !was_playing,
                "{trail:?}: PlaybackFinished vs playing"
            );
        }
        if is_result {
            // Acted on exactly when a recognition ran.
            assert_eq!(
                ignored, !was_recognizing,
                "{trail:?}: result vs recognising"
            );
        }
        if input == &Input::SpeechStarted && !was_recognizing {
            assert!(
                ignored,
                "{trail:?}: speech with no recognition running was acted on"
            );
        }
    } else {
        assert!(
            ignored,
            "{trail:?}: input after the end not reported as ignored"
        );
    }
    assert_eq!(
        call.state_name(),
        seen.state,
        "{trail:?}: state_name vs events"
    );
    assert_eq!(
        seen.ended_events,
        usize::from(call.is_ended()),
        "{trail:?}: Ended exactly once, when ended"
    );
    match call.end_reason() {
        None => assert_eq!(seen.hangups, 0, "{trail:?}: BYE before the end"),
        Some(EndReason::CallerHungUp) => {
            assert_eq!(seen.hangups, 0, "{trail:?}: BYE after the caller's BYE")
        }
        Some(reason) => {
            assert_eq!(
                seen.hangups, 1,
                "{trail:?}: ended ({reason:?}) without exactly one BYE"
            )
        }
    }
    if call.is_ended() {
        assert!(!seen.playing, "{trail:?}: ended with a prompt playing");
        assert!(
            !seen.recognizing,
            "{trail:?}: ended with a recognition running"
        );
    }
}

fn explore(
    call: &Call,
    seen: &Observed,
    inputs: &[Input],
    trail: &mut Vec<Input>,
    depth: u32,
    count: &mut usize,
) {
    if depth == 0 {
        return;
    }
    for input in inputs {
        let (mut call, mut seen) = (call.clone(), seen.clone());
        trail.push(input.clone());
        step(&mut call, &mut seen, input, trail);
        *count += 1;
        explore(&call, &seen, inputs, trail, depth - 1, count);
        trail.pop();
    }
}

/// Explores every sequence of up to `depth` of `inputs` on a fresh `call`
/// whose hard cap is at 40 s.
fn explore_from(mut call: Call, inputs: &[Input], depth: u32) {
    let mut seen = Observed {
        state: "starting",
        ..Observed::default()
    };
    assert_eq!(call.poll(), Output::Timeout(Some(at(40_000))));
    seen.next = Some(at(40_000));
    let mut count = 0;
    explore(&call, &seen, inputs, &mut Vec::new(), depth, &mut count);
    let expected: usize = (1..=depth).map(|n| inputs.len().pow(n)).sum();
    assert_eq!(count, expected, "every sequence explored");
}

#[test]
fn every_dtmf_sequence_of_five_inputs_keeps_the_invariants() {
    // A short cap so that it fires within a few steps too.
    let mut settings = settings();
    settings.max_call_duration = Duration::from_secs(40);
    explore_from(
        Call::new(at(0), Arc::new(directory()), settings),
        &dtmf_inputs(),
        5,
    );
}

#[test]
fn every_speech_sequence_of_four_inputs_keeps_the_invariants() {
    let mut settings = speech_settings();
    settings.max_call_duration = Duration::from_secs(40);
    let call = Call::new(at(0), Arc::new(directory()), settings)
        .with_speech(Arc::new(ScriptedInterpreter));
    explore_from(call, &speech_inputs(), 4);
}

#[test]
fn every_closed_store_sequence_of_five_inputs_keeps_the_invariants() {
    let mut settings = settings();
    settings.max_call_duration = Duration::from_secs(40);
    let routes = [
        AfterHoursRoute::ClosedMessage {
            message: "fermé".into(),
        },
        AfterHoursRoute::Operator,
        AfterHoursRoute::Transfer { target: ext("555") },
    ];
    for route in routes {
        let call = Call::new(at(0), Arc::new(directory()), settings.clone()).closed(route);
        explore_from(call, &dtmf_inputs(), 5);
    }
}

#[test]
fn every_sequence_with_a_fallback_keeps_the_invariants() {
    // Key 7 selects an entry that falls back elsewhere; six inputs reach the
    // fallback's own failure (answer, 7, announcement, busy, announcement, busy).
    let mut directory = directory();
    directory.entries[0].extension = Some("7".into());
    directory.entries[0].fallback = Some(ext("6031"));
    let mut settings = settings();
    settings.max_call_duration = Duration::from_secs(40);
    let inputs = [
        Input::Answered,
        Input::PlaybackFinished,
        Input::Digit('7'),
        Input::TransferAccepted,
        Input::TransferSucceeded,
        Input::TransferFailed { status: 486 },
        Input::TransferFailed { status: 404 },
        Input::CallerHungUp,
        Input::Timeout,
    ];
    explore_from(Call::new(at(0), Arc::new(directory), settings), &inputs, 6);
}

#[test]
fn every_spelling_sequence_of_five_inputs_keeps_the_invariants() {
    let mut settings = settings();
    settings.max_call_duration = Duration::from_secs(40);
    settings.spell_key = Some(MenuKey::new('9').expect("menu key"));
    let index = NameIndex::build(&directory()).expect("fixture indexes");
    let call = Call::new(at(0), Arc::new(directory()), settings).with_name_search(Arc::new(index));
    assert!(call.spelling_active());
    explore_from(call, &spelling_inputs(), 5);
}
