//! Invariants over every input sequence up to a length: one `Ended`, nothing after it, playback brackets kept, deadlines in the future, consistent state reports.

use std::sync::Arc;
use std::time::Duration;

use super::harness::{at, directory, settings};
use crate::flow::{Action, Call, CallEvent, Input, Output};

/// What the IO side can tell of a call from its outputs alone.
#[derive(Debug, Clone, Default)]
struct Observed {
    now_ms: u64,
    ended_events: usize,
    hangups: usize,
    /// Whether prompts play, by the `Play` / `StopPlayback` / `PlaybackFinished` seen.
    playing: bool,
    /// The state as reported by `StateChanged`.
    state: &'static str,
    /// The last deadline returned.
    next: Option<std::time::Instant>,
}

fn inputs() -> Vec<Input> {
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
    let was_playing = seen.playing;
    if input == &Input::PlaybackFinished {
        // The prompts are over on the IO side, whatever the call makes of it.
        seen.playing = false;
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
                        assert!(!seen.playing, "{trail:?}: REFER while a prompt plays")
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
    if input == &Input::PlaybackFinished && !was_ended {
        // Acted on exactly when something was playing.
        assert_eq!(
            ignored, !was_playing,
            "{trail:?}: PlaybackFinished handling vs playing"
        );
    }
    if was_ended {
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
    assert!(seen.hangups <= 1, "{trail:?}: more than one BYE");
    if call.is_ended() {
        assert!(!seen.playing, "{trail:?}: ended with a prompt playing");
    }
}

fn explore(call: &Call, seen: &Observed, trail: &mut Vec<Input>, depth: usize, count: &mut usize) {
    if depth == 0 {
        return;
    }
    for input in inputs() {
        let (mut call, mut seen) = (call.clone(), seen.clone());
        trail.push(input.clone());
        step(&mut call, &mut seen, &input, trail);
        *count += 1;
        match call.end_reason() {
            None => assert_eq!(seen.hangups, 0, "{trail:?}: BYE before the end"),
            Some(crate::flow::EndReason::CallerHungUp) => {
                assert_eq!(seen.hangups, 0, "{trail:?}: BYE after the caller's BYE")
            }
            Some(reason) => assert_eq!(
                seen.hangups, 1,
                "{trail:?}: ended ({reason:?}) without our BYE"
            ),
        }
        explore(&call, &seen, trail, depth - 1, count);
        trail.pop();
    }
}

#[test]
fn every_sequence_of_five_inputs_keeps_the_invariants() {
    // Short timers so that timeouts reach every kind within a few steps.
    let mut settings = settings();
    settings.max_call_duration = Duration::from_secs(40);
    let mut call = Call::new(at(0), Arc::new(directory()), settings);
    let mut seen = Observed {
        state: "starting",
        ..Observed::default()
    };
    assert_eq!(call.poll(), Output::Timeout(Some(at(40_000))));
    seen.next = Some(at(40_000));
    let mut count = 0;
    explore(&call, &seen, &mut Vec::new(), 5, &mut count);
    assert_eq!(count, (1..=5).map(|n| 13usize.pow(n)).sum::<usize>());
}
