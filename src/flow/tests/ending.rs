//! How calls end (caller's BYE, lost media, the hard cap) and inputs that make no sense in a state: each is ignored and said so.

use super::harness::*;
use crate::flow::EndReason;
use crate::flow::Input::{self, *};
use crate::flow::Prompt::{Goodbye, Greeting, Menu, NoInput as NoInputPrompt, Transferring};
use crate::flow::TimerKind;

/// Setups reaching each state by 11.6 s, with whether prompts are playing
/// then and the call's next deadline.
struct Setup {
    state: &'static str,
    steps: fn() -> Vec<Step>,
    playing: bool,
    next_ms: Option<u64>,
}

fn setups() -> Vec<Setup> {
    vec![
        Setup {
            state: "starting",
            steps: Vec::new,
            playing: false,
            next_ms: Some(MAX_MS),
        },
        Setup {
            state: "greeting",
            steps: || {
                vec![step(
                    0,
                    Answered,
                    vec![
                        play(&[Greeting, Menu]),
                        changed("starting", "greeting"),
                        timeout(MAX_MS),
                    ],
                )]
            },
            playing: true,
            next_ms: Some(MAX_MS),
        },
        Setup {
            state: "menu",
            steps: || answered_then_menu(10_000),
            playing: false,
            next_ms: Some(16_000),
        },
        Setup {
            state: "menu",
            steps: || {
                let mut steps = answered_then_menu(10_000);
                steps.push(step(11_000, Digit('3'), vec![timeout(14_000)]));
                steps
            },
            playing: false,
            next_ms: Some(14_000),
        },
        Setup {
            state: "transferring",
            steps: || {
                let mut steps = answered_then_menu(10_000);
                steps.push(step(
                    11_000,
                    Digit('2'),
                    vec![
                        collected("2"),
                        play(&[Transferring]),
                        changed("menu", "transferring"),
                        timeout(MAX_MS),
                    ],
                ));
                steps
            },
            playing: true,
            next_ms: Some(MAX_MS),
        },
        Setup {
            state: "transferring",
            steps: || {
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
                        11_500,
                        PlaybackFinished,
                        vec![transfer(ext("202")), timeout(31_500)],
                    ),
                ]);
                steps
            },
            playing: false,
            next_ms: Some(31_500),
        },
        Setup {
            state: "saying_goodbye",
            steps: || {
                let mut steps = answered_then_menu(10_000);
                steps.extend([
                    step(
                        11_000,
                        Digit('0'),
                        vec![
                            collected("0"),
                            play(&[Transferring]),
                            changed("menu", "transferring"),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(
                        11_500,
                        PlaybackFinished,
                        vec![transfer(operator()), timeout(31_500)],
                    ),
                    step(
                        11_600,
                        TransferFailed { status: 486 },
                        vec![
                            transfer_failed(operator(), Some(486)),
                            play(&[crate::flow::Prompt::TransferFailed, Goodbye]),
                            changed("transferring", "saying_goodbye"),
                            timeout(41_600),
                        ],
                    ),
                ]);
                steps
            },
            playing: true,
            next_ms: Some(41_600),
        },
    ]
}

fn with(setup: &Setup, more: Vec<Step>) -> Vec<Step> {
    let mut steps = (setup.steps)();
    steps.extend(more);
    steps
}

#[test]
fn caller_hang_up_ends_every_state_without_our_bye() {
    for setup in setups() {
        let mut expect = vec![];
        if setup.playing {
            expect.push(stop());
        }
        expect.extend([
            changed(setup.state, "ended"),
            ended(EndReason::CallerHungUp),
            no_timeout(),
        ]);
        let name = format!(
            "caller hangs up in {} (playing: {})",
            setup.state, setup.playing
        );
        let call = run(
            &name,
            with(&setup, vec![step(11_900, CallerHungUp, expect)]),
        );
        assert!(call.is_ended(), "{name}");
        assert_eq!(call.end_reason(), Some(&EndReason::CallerHungUp), "{name}");
    }
}

#[test]
fn lost_media_hangs_up_once_answered() {
    for setup in setups() {
        let name = format!("media lost in {} (playing: {})", setup.state, setup.playing);
        let expect = if setup.state == "starting" {
            // Not answered, so no media to lose: ignored.
            vec![ignored("starting", MediaLost), timeout(MAX_MS)]
        } else {
            let mut expect = vec![];
            if setup.playing {
                expect.push(stop());
            }
            expect.extend([
                hangup(),
                changed(setup.state, "ended"),
                ended(EndReason::MediaLost),
                no_timeout(),
            ]);
            expect
        };
        run(&name, with(&setup, vec![step(11_900, MediaLost, expect)]));
    }
}

#[test]
fn the_hard_cap_says_goodbye_then_hangs_up() {
    let bye = |from: &'static str| {
        vec![
            fired(TimerKind::MaxDuration),
            play(&[Goodbye]),
            changed(from, "saying_goodbye"),
            timeout(MAX_MS + 30_000),
        ]
    };
    let hung_up = |ms: u64| {
        step(
            ms,
            PlaybackFinished,
            vec![
                hangup(),
                changed("saying_goodbye", "ended"),
                ended(EndReason::MaxDuration),
                no_timeout(),
            ],
        )
    };
    run(
        "never answered: no goodbye to play",
        vec![
            step(
                MAX_MS - 1,
                Timeout,
                vec![ignored("starting", Timeout), timeout(MAX_MS)],
            ),
            step(
                MAX_MS,
                Timeout,
                vec![
                    fired(TimerKind::MaxDuration),
                    hangup(),
                    changed("starting", "ended"),
                    ended(EndReason::MaxDuration),
                    no_timeout(),
                ],
            ),
        ],
    );
    run(
        "during the greeting",
        vec![
            step(
                0,
                Answered,
                vec![
                    play(&[Greeting, Menu]),
                    changed("starting", "greeting"),
                    timeout(MAX_MS),
                ],
            ),
            step(MAX_MS, Timeout, bye("greeting")),
            step(
                MAX_MS + 100,
                Digit('2'),
                vec![
                    ignored("saying_goodbye", Digit('2')),
                    timeout(MAX_MS + 30_000),
                ],
            ),
            hung_up(MAX_MS + 2_000),
        ],
    );
    let mut typing = answered_then_menu(295_000);
    typing.extend([
        // InterDigit would be due at 302 s: the cap comes first and stops it.
        step(299_000, Digit('3'), vec![timeout(MAX_MS)]),
        step(MAX_MS, Timeout, bye("menu")),
        hung_up(MAX_MS + 2_000),
    ]);
    run("while typing an extension", typing);
    let mut tie = answered_then_menu(294_000);
    tie.extend([
        // NoInput is due at the same instant; the cap wins and NoInput never fires.
        step(MAX_MS, Timeout, bye("menu")),
        hung_up(MAX_MS + 2_000),
    ]);
    run("tie with NoInput", tie);
    let mut referred = answered_then_menu(10_000);
    referred.extend([
        step(
            290_000,
            Digit('2'),
            vec![
                collected("2"),
                play(&[Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        ),
        step(
            292_000,
            PlaybackFinished,
            vec![transfer(ext("202")), timeout(MAX_MS)],
        ),
        step(MAX_MS, Timeout, bye("transferring")),
        // The abandoned REFER's outcome makes no sense any more.
        step(
            MAX_MS + 500,
            TransferSucceeded,
            vec![
                ignored("saying_goodbye", TransferSucceeded),
                timeout(MAX_MS + 30_000),
            ],
        ),
        hung_up(MAX_MS + 2_000),
    ]);
    run("while a REFER is out", referred);
}

#[test]
fn a_goodbye_that_never_finishes_is_cut_short() {
    // The operator failed at 11.6 s: the goodbye has until 41.6 s, not 300 s.
    let mut steps = (setups().last().expect("the goodbye setup is listed").steps)();
    steps.extend([
        step(
            41_599,
            Timeout,
            vec![ignored("saying_goodbye", Timeout), timeout(41_600)],
        ),
        step(
            41_600,
            Timeout,
            vec![
                fired(TimerKind::MaxDuration),
                stop(),
                hangup(),
                changed("saying_goodbye", "ended"),
                // The reason the goodbye was for.
                ended(EndReason::GaveUp),
                no_timeout(),
            ],
        ),
    ]);
    run("goodbye never finishing", steps);
    let mut capped = answered_then_menu(295_000);
    capped.extend([
        step(
            MAX_MS,
            Timeout,
            vec![
                fired(TimerKind::MaxDuration),
                play(&[Goodbye]),
                changed("menu", "saying_goodbye"),
                timeout(MAX_MS + 30_000),
            ],
        ),
        step(
            MAX_MS + 30_000,
            Timeout,
            vec![
                fired(TimerKind::MaxDuration),
                stop(),
                hangup(),
                changed("saying_goodbye", "ended"),
                ended(EndReason::MaxDuration),
                no_timeout(),
            ],
        ),
    ]);
    run("goodbye at the cap never finishing", capped);
}

#[test]
fn a_late_wake_up_fires_due_timers_in_deadline_order() {
    let mut steps = answered_then_menu(10_000);
    // NoInput (16 s) and the cap (300 s) are both due: NoInput first, then the cap.
    steps.push(step(
        MAX_MS + 5_000,
        Timeout,
        vec![
            fired(TimerKind::NoInput),
            play(&[NoInputPrompt, Menu]),
            fired(TimerKind::MaxDuration),
            play(&[Goodbye]),
            changed("menu", "saying_goodbye"),
            timeout(MAX_MS + 35_000),
        ],
    ));
    run("woken 289 s late", steps);
}

/// Every input, one of each kind.
fn every_input() -> Vec<Input> {
    vec![
        Answered,
        PlaybackFinished,
        Digit('1'),
        Digit('*'),
        Digit('#'),
        TransferAccepted,
        TransferSucceeded,
        TransferFailed { status: 486 },
        CallerHungUp,
        MediaLost,
        Timeout,
    ]
}

#[test]
fn after_the_end_every_input_is_ignored() {
    for (name, end) in [
        (
            "caller hung up",
            step(
                20_000,
                CallerHungUp,
                vec![
                    stop(),
                    changed("greeting", "ended"),
                    ended(EndReason::CallerHungUp),
                    no_timeout(),
                ],
            ),
        ),
        (
            "media lost",
            step(
                20_000,
                MediaLost,
                vec![
                    stop(),
                    hangup(),
                    changed("greeting", "ended"),
                    ended(EndReason::MediaLost),
                    no_timeout(),
                ],
            ),
        ),
    ] {
        let mut steps = vec![
            step(
                0,
                Answered,
                vec![
                    play(&[Greeting, Menu]),
                    changed("starting", "greeting"),
                    timeout(MAX_MS),
                ],
            ),
            end,
        ];
        for (offset, input) in (1..).zip(every_input()) {
            steps.push(step(
                20_000 + offset * 1_000,
                input.clone(),
                vec![ignored("ended", input), no_timeout()],
            ));
        }
        // Even long after the cap, nothing fires.
        steps.push(step(
            MAX_MS * 2,
            Timeout,
            vec![ignored("ended", Timeout), no_timeout()],
        ));
        let mut call = run(name, steps);
        assert!(call.is_ended());
        assert_eq!(
            drain(&mut call),
            vec![no_timeout()],
            "{name}: nothing left over"
        );
    }
}

/// Inputs that make no sense in a state, fed at 11.9 s, after each setup.
#[test]
fn inputs_that_make_no_sense_are_ignored_and_said_so() {
    let senseless: [(&str, bool, Vec<Input>); 7] = [
        (
            "starting",
            false,
            vec![
                PlaybackFinished,
                Digit('1'),
                Digit('*'),
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                MediaLost,
                Timeout,
            ],
        ),
        (
            "greeting",
            true,
            vec![
                Answered,
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                Timeout,
            ],
        ),
        (
            "menu",
            false,
            vec![
                Answered,
                PlaybackFinished,
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                Timeout,
            ],
        ),
        (
            "menu",
            false,
            vec![
                Answered,
                PlaybackFinished,
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                Timeout,
            ],
        ),
        (
            "transferring",
            true,
            vec![
                Answered,
                Digit('1'),
                Digit('#'),
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                Timeout,
            ],
        ),
        (
            "transferring",
            false,
            vec![Answered, PlaybackFinished, Digit('1'), Digit('0'), Timeout],
        ),
        (
            "saying_goodbye",
            true,
            vec![
                Answered,
                Digit('1'),
                Digit('*'),
                TransferAccepted,
                TransferSucceeded,
                TransferFailed { status: 486 },
                Timeout,
            ],
        ),
    ];
    let setups = setups();
    assert_eq!(setups.len(), senseless.len());
    for (setup, (state, playing, inputs)) in setups.iter().zip(senseless) {
        assert_eq!(
            (setup.state, setup.playing),
            (state, playing),
            "tables line up"
        );
        let next = setup.next_ms.map_or_else(no_timeout, timeout);
        for input in inputs {
            let name = format!("{input:?} in {state} (playing: {playing})");
            let expect = vec![ignored(state, input.clone()), next.clone()];
            let call = run(&name, with(setup, vec![step(11_900, input, expect)]));
            assert_eq!(call.state_name(), state, "{name}: state unchanged");
        }
    }
}
