//! Calls to a closed store (`Call::closed`): no greeting, the after-hours route at once — the closed message then goodbye, or the `closed` prompt then a transfer to the operator or another number — and a failed after-hours transfer ends the call, since there is no menu to go back to.

use std::sync::Arc;

use super::harness::*;
use crate::directory::TransferTarget;
use crate::directory::hours::AfterHoursRoute;
use crate::flow::Input::{
    Answered, CallerHungUp, Digit, PlaybackFinished, Timeout, TransferFailed, TransferSucceeded,
};
use crate::flow::Prompt::{Closed, Goodbye, Transferring};
use crate::flow::{Call, EndReason, Output, Prompt, TimerKind};

fn message() -> AfterHoursRoute {
    AfterHoursRoute::ClosedMessage {
        message: "Le magasin est fermé.".into(),
    }
}

fn night_line() -> TransferTarget {
    TransferTarget::Uri("sip:nuit@pbx.example".into())
}

/// A fresh call created closed at [`t0`], with speech on or off.
fn closed_call(route: AfterHoursRoute, speech: bool) -> Call {
    let call = if speech {
        Call::new(t0(), Arc::new(directory()), speech_settings())
            .with_speech(Arc::new(ScriptedInterpreter))
    } else {
        Call::new(t0(), Arc::new(directory()), settings())
    };
    let mut call = call.closed(route.clone());
    assert_eq!(call.after_hours(), Some(&route));
    assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
    call
}

fn ended_by(from: &'static str, reason: EndReason) -> Vec<Output> {
    vec![
        hangup(),
        changed(from, "ended"),
        ended(reason),
        no_timeout(),
    ]
}

#[test]
fn a_closed_message_plays_then_the_call_ends() {
    let answered = || {
        step(
            0,
            Answered,
            vec![
                play(&[Closed, Goodbye]),
                changed("starting", "saying_goodbye"),
                // The goodbye's grace: 30 s.
                timeout(30_000),
            ],
        )
    };
    let cases: [(&str, Vec<Step>, EndReason); 4] = [
        (
            "message over",
            vec![
                answered(),
                step(
                    6_000,
                    PlaybackFinished,
                    ended_by("saying_goodbye", EndReason::Closed),
                ),
            ],
            EndReason::Closed,
        ),
        (
            "keys change nothing",
            vec![
                answered(),
                step(
                    1_000,
                    Digit('0'),
                    vec![ignored("saying_goodbye", Digit('0')), timeout(30_000)],
                ),
                step(
                    6_000,
                    PlaybackFinished,
                    ended_by("saying_goodbye", EndReason::Closed),
                ),
            ],
            EndReason::Closed,
        ),
        (
            "the message never ends: the grace cuts it",
            vec![
                answered(),
                step(
                    30_000,
                    Timeout,
                    [
                        vec![fired(TimerKind::MaxDuration), stop()],
                        ended_by("saying_goodbye", EndReason::Closed),
                    ]
                    .concat(),
                ),
            ],
            EndReason::Closed,
        ),
        (
            "the caller hangs up during the message",
            vec![
                answered(),
                step(
                    2_000,
                    CallerHungUp,
                    vec![
                        stop(),
                        changed("saying_goodbye", "ended"),
                        ended(EndReason::CallerHungUp),
                        no_timeout(),
                    ],
                ),
            ],
            EndReason::CallerHungUp,
        ),
    ];
    for speech in [false, true] {
        for (name, steps, reason) in cases.clone() {
            let call = run_steps(name, closed_call(message(), speech), steps);
            assert_eq!(call.end_reason(), Some(&reason), "{name}, speech {speech}");
        }
    }
}

#[test]
fn after_hours_transfers_announce_the_closure_then_refer() {
    let cases = [
        ("operator", AfterHoursRoute::Operator, operator()),
        (
            "another number",
            AfterHoursRoute::Transfer {
                target: night_line(),
            },
            night_line(),
        ),
    ];
    for speech in [false, true] {
        for (name, route, target) in cases.clone() {
            let steps = vec![
                step(
                    0,
                    Answered,
                    vec![
                        play(&[Closed, Transferring]),
                        changed("starting", "transferring"),
                        timeout(MAX_MS),
                    ],
                ),
                step(
                    1_000,
                    Digit('1'),
                    vec![ignored("transferring", Digit('1')), timeout(MAX_MS)],
                ),
                step(
                    5_000,
                    PlaybackFinished,
                    vec![transfer(target.clone()), timeout(25_000)],
                ),
                step(
                    6_000,
                    TransferSucceeded,
                    ended_by("transferring", EndReason::Transferred(target.clone())),
                ),
            ];
            let call = run_steps(name, closed_call(route, speech), steps);
            assert_eq!(
                call.end_reason(),
                Some(&EndReason::Transferred(target)),
                "{name}, speech {speech}"
            );
        }
    }
}

#[test]
fn a_failed_after_hours_transfer_says_goodbye() {
    // Whatever the failure, even busy: no menu, no fallback, no operator
    // (the operator route's failure is the operator's own).
    let cases = [
        (
            "operator busy",
            AfterHoursRoute::Operator,
            operator(),
            Some(486),
        ),
        (
            "night line not found",
            AfterHoursRoute::Transfer {
                target: night_line(),
            },
            night_line(),
            Some(404),
        ),
        (
            "night line does not answer",
            AfterHoursRoute::Transfer {
                target: night_line(),
            },
            night_line(),
            None,
        ),
    ];
    for (name, route, target, status) in cases {
        let (at_ms, input, mut expect) = match status {
            Some(status) => (6_000, TransferFailed { status }, vec![]),
            None => (25_000, Timeout, vec![fired(TimerKind::TransferWait)]),
        };
        expect.extend([
            transfer_failed(target.clone(), status),
            play(&[Prompt::TransferFailed, Goodbye]),
            changed("transferring", "saying_goodbye"),
            timeout(at_ms + 30_000),
        ]);
        let steps = vec![
            step(
                0,
                Answered,
                vec![
                    play(&[Closed, Transferring]),
                    changed("starting", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
            step(
                5_000,
                PlaybackFinished,
                vec![transfer(target.clone()), timeout(25_000)],
            ),
            step(at_ms, input, expect),
            step(
                at_ms + 4_000,
                PlaybackFinished,
                ended_by("saying_goodbye", EndReason::GaveUp),
            ),
        ];
        run_steps(name, closed_call(route, false), steps);
    }
}
