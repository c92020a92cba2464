//! An entry's fallback target: tried once, announced, when the REFER to its target is busy (486, 600), unanswered (408, 480, 487) or times out; any other failure, a menu key, or the fallback's own failure take the usual failed-transfer path.

use std::sync::Arc;

use super::harness::*;
use crate::directory::{Directory, EntryId, TransferTarget};
use crate::flow::Input::{
    self, Answered, Digit, PlaybackFinished, Recognized, Timeout, TransferFailed, TransferSucceeded,
};
use crate::flow::Prompt::{Menu, Transferring};
use crate::flow::{Call, EndReason, Output, Prompt, TimerKind};

/// The fixture directory, where Marc Dupont (entry 2, extension and target
/// 315) and Sophie Martin (entry 1, target 31) fall back to 6315 and 6031.
fn with_fallbacks() -> Directory {
    let mut directory = directory();
    for entry in &mut directory.entries {
        entry.fallback = match entry.id {
            EntryId(1) => Some(ext("6031")),
            EntryId(2) => Some(ext("6315")),
            _ => None,
        };
    }
    directory
}

/// Menu waiting from 10 s; `3`, `1`, `5` select extension 315 at 12 s; its
/// announcement ends at 13 s: the REFER to 315 is out, TransferWait due at 33 s.
fn referred_to_315() -> Vec<Step> {
    let mut steps = answered_then_menu(10_000);
    steps.extend([
        step(11_000, Digit('3'), vec![timeout(14_000)]),
        step(11_500, Digit('1'), vec![timeout(14_500)]),
        step(
            12_000,
            Digit('5'),
            vec![
                collected("315"),
                play(&[Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        ),
        step(
            13_000,
            PlaybackFinished,
            vec![transfer(ext("315")), timeout(33_000)],
        ),
    ]);
    steps
}

/// How the first REFER fails at `at_ms`: a status, or the TransferWait timer.
fn first_fails(at_ms: u64, status: Option<u16>) -> Step {
    let (input, mut expect) = match status {
        Some(status) => (TransferFailed { status }, vec![]),
        None => (Timeout, vec![fired(TimerKind::TransferWait)]),
    };
    expect.push(transfer_failed(ext("315"), status));
    expect.extend([play(&[Transferring]), timeout(MAX_MS)]);
    step(at_ms, input, expect)
}

/// The failure back to the menu, one retry spent.
fn back_to_menu(target: TransferTarget, status: Option<u16>) -> Vec<Output> {
    vec![
        transfer_failed(target, status),
        play(&[Prompt::TransferFailed, Menu]),
        changed("transferring", "menu"),
        timeout(MAX_MS),
    ]
}

fn transferred(number: &str) -> Vec<Output> {
    vec![
        hangup(),
        changed("transferring", "ended"),
        ended(EndReason::Transferred(ext(number))),
        no_timeout(),
    ]
}

#[test]
fn busy_or_unanswered_targets_fall_back_once() {
    // (status of the first REFER, at which ms it fails); `None` is TransferWait.
    let cases: [(&str, Option<u16>, u64); 6] = [
        ("486 Busy Here", Some(486), 14_000),
        ("600 Busy Everywhere", Some(600), 14_000),
        ("408 Request Timeout", Some(408), 14_000),
        ("480 Temporarily Unavailable", Some(480), 14_000),
        ("487 Request Terminated", Some(487), 14_000),
        ("no outcome within transfer_timeout", None, 33_000),
    ];
    for (name, status, fails_ms) in cases {
        let mut steps = referred_to_315();
        steps.extend([
            first_fails(fails_ms, status),
            step(
                fails_ms + 2_000,
                PlaybackFinished,
                vec![transfer(ext("6315")), timeout(fails_ms + 22_000)],
            ),
            step(fails_ms + 3_000, TransferSucceeded, transferred("6315")),
        ]);
        let call = run_on(name, with_fallbacks(), steps);
        assert_eq!(
            call.end_reason(),
            Some(&EndReason::Transferred(ext("6315"))),
            "{name}"
        );
    }
}

#[test]
fn the_fallback_is_tried_once_then_the_usual_path() {
    // (how the fallback fails, what follows): always back to the menu, since
    // neither 315 nor 6315 is the operator and no retry was spent yet.
    let cases: [(&str, Input, Vec<Output>); 3] = [
        (
            "fallback busy too",
            TransferFailed { status: 486 },
            back_to_menu(ext("6315"), Some(486)),
        ),
        (
            "fallback not found",
            TransferFailed { status: 404 },
            back_to_menu(ext("6315"), Some(404)),
        ),
        (
            "fallback does not answer in time",
            Timeout,
            [
                vec![fired(TimerKind::TransferWait)],
                back_to_menu(ext("6315"), None),
            ]
            .concat(),
        ),
    ];
    for (name, input, expect) in cases {
        let mut steps = referred_to_315();
        steps.extend([
            first_fails(14_000, Some(486)),
            step(
                16_000,
                PlaybackFinished,
                vec![transfer(ext("6315")), timeout(36_000)],
            ),
        ]);
        let at_ms = if input == Timeout { 36_000 } else { 17_000 };
        steps.push(step(at_ms, input, expect));
        let call = run_on(name, with_fallbacks(), steps);
        assert_eq!(call.state_name(), "menu", "{name}");
    }
}

#[test]
fn other_failures_and_targets_without_fallback_take_the_usual_path() {
    let cases: [(&str, Directory, u16); 5] = [
        ("404 Not Found: the target is wrong", with_fallbacks(), 404),
        ("603 Decline: the target refuses", with_fallbacks(), 603),
        ("503 Service Unavailable", with_fallbacks(), 503),
        ("busy, but the entry has no fallback", directory(), 486),
        (
            "busy, fallback is the target itself",
            {
                let mut directory = with_fallbacks();
                directory.entries[1].fallback = Some(ext("315"));
                directory
            },
            486,
        ),
    ];
    for (name, directory, status) in cases {
        let mut steps = referred_to_315();
        steps.push(step(
            14_000,
            TransferFailed { status },
            back_to_menu(ext("315"), Some(status)),
        ));
        run_on(name, directory, steps);
    }
}

#[test]
fn menu_keys_have_no_fallback() {
    // Key 2 selects ext 202 (a menu option), whose number is also an entry's
    // fallback target elsewhere: no matter, options have none of their own.
    let mut directory = with_fallbacks();
    directory.entries[4].fallback = Some(ext("202"));
    let mut steps = answered_then_menu(10_000);
    steps.extend([
        step(
            11_000,
            Digit('2'),
            vec![
                collected("2"),
                play(&[Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        ),
        step(
            13_000,
            PlaybackFinished,
            vec![transfer(ext("202")), timeout(33_000)],
        ),
        step(
            14_000,
            TransferFailed { status: 486 },
            back_to_menu(ext("202"), Some(486)),
        ),
    ]);
    run_on("menu key busy", directory, steps);
}

/// Feeds `inputs` at their times without checking outputs (the scenarios
/// leading there are pinned down in `speech.rs`).
fn drive(call: &mut Call, inputs: Vec<(u64, Input)>) {
    for (ms, input) in inputs {
        call.handle(at(ms), input);
        drain(call);
    }
}

#[test]
fn entries_chosen_by_speech_fall_back_too() {
    // "sophie martin" → entry 1 (target 31, fallback 6031); confirmed "marc" →
    // entry 2; "martin" then key 1 → entry 1 among the namesakes.
    // (name, inputs reaching the transfer, target, fallback)
    type Case = (&'static str, Vec<(u64, Input)>, &'static str, &'static str);
    let cases: [Case; 3] = [
        (
            "recognised at once",
            vec![(0, Answered), (4_000, Recognized(heard("sophie martin")))],
            "31",
            "6031",
        ),
        (
            "confirmed by voice",
            vec![
                (0, Answered),
                (4_000, Recognized(heard("marc"))),
                (6_000, Recognized(heard("oui"))),
            ],
            "315",
            "6315",
        ),
        (
            "picked among namesakes",
            vec![
                (0, Answered),
                (4_000, Recognized(heard("martin"))),
                (6_000, Digit('1')),
            ],
            "31",
            "6031",
        ),
    ];
    for (name, inputs, target, fallback) in cases {
        let mut call = Call::new(t0(), Arc::new(with_fallbacks()), speech_settings())
            .with_speech(Arc::new(ScriptedInterpreter));
        drive(&mut call, inputs);
        assert_eq!(call.state_name(), "transferring", "{name}");
        let steps = vec![
            step(
                9_000,
                PlaybackFinished,
                vec![transfer(ext(target)), timeout(29_000)],
            ),
            step(
                10_000,
                TransferFailed { status: 480 },
                vec![
                    transfer_failed(ext(target), Some(480)),
                    play(&[Transferring]),
                    timeout(MAX_MS),
                ],
            ),
            step(
                11_000,
                PlaybackFinished,
                vec![transfer(ext(fallback)), timeout(31_000)],
            ),
        ];
        run_steps(name, call, steps);
    }
}

#[test]
fn unreachable_statuses_are_busy_and_no_answer() {
    use crate::flow::fallback::busy_or_no_answer;
    let cases = [
        (None, true),
        (Some(408), true),
        (Some(480), true),
        (Some(486), true),
        (Some(487), true),
        (Some(600), true),
        (Some(403), false),
        (Some(404), false),
        (Some(500), false),
        (Some(503), false),
        (Some(603), false),
        (Some(200), false),
    ];
    for (status, expected) in cases {
        assert_eq!(busy_or_no_answer(status), expected, "{status:?}");
    }
}
