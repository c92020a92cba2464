//! Transfer scenarios: announce then REFER, 2xx and NOTIFY outcomes, failures back to the menu with a retry, the operator as last resort, keys ignored meanwhile.

use super::harness::*;
use crate::directory::TransferTarget;
use crate::flow::EndReason;
use crate::flow::Input::{
    Digit, PlaybackFinished, Timeout, TransferAccepted, TransferFailed, TransferSucceeded,
};
use crate::flow::Prompt::{Goodbye, InvalidChoice, Menu, Transferring};
use crate::flow::TimerKind;

/// Answered, menu waiting from 10 s, key `digit` at 11 s, announcement over at
/// 13 s: the REFER to `number` is out and TransferWait is due at 33 s.
fn referred(digit: char, number: &str) -> Vec<Step> {
    let mut steps = answered_then_menu(10_000);
    steps.extend([
        step(
            11_000,
            Digit(digit),
            vec![
                collected(&digit.to_string()),
                play(&[Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        ),
        step(
            13_000,
            PlaybackFinished,
            vec![transfer(ext(number)), timeout(33_000)],
        ),
    ]);
    steps
}

fn with(mut steps: Vec<Step>, more: Vec<Step>) -> Vec<Step> {
    steps.extend(more);
    steps
}

fn transferred(number: &str) -> Vec<crate::flow::Output> {
    vec![
        hangup(),
        changed("transferring", "ended"),
        ended(EndReason::Transferred(ext(number))),
        no_timeout(),
    ]
}

#[test]
fn successful_transfers_hang_up_our_leg() {
    let cases = [
        (
            "2xx then NOTIFY 200",
            vec![
                step(14_000, TransferAccepted, vec![timeout(33_000)]),
                step(15_000, TransferSucceeded, transferred("202")),
            ],
        ),
        (
            "NOTIFY 200 overtaking the 2xx",
            vec![step(15_000, TransferSucceeded, transferred("202"))],
        ),
        (
            "a second 2xx is ignored, the deadline is kept",
            vec![
                step(14_000, TransferAccepted, vec![timeout(33_000)]),
                step(
                    14_500,
                    TransferAccepted,
                    vec![ignored("transferring", TransferAccepted), timeout(33_000)],
                ),
                step(32_999, TransferSucceeded, transferred("202")),
            ],
        ),
    ];
    for (name, more) in cases {
        let call = run(name, with(referred('2', "202"), more));
        assert!(call.is_ended(), "{name}");
        assert_eq!(
            call.end_reason(),
            Some(&EndReason::Transferred(ext("202"))),
            "{name}"
        );
    }
}

#[test]
fn nothing_about_the_transfer_counts_before_the_refer_is_out() {
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
    for (ms, input) in [
        (11_100, TransferAccepted),
        (11_200, TransferSucceeded),
        (11_300, TransferFailed { status: 486 }),
        (11_400, Digit('1')),
        (11_500, Digit('*')),
    ] {
        steps.push(step(
            ms,
            input.clone(),
            vec![ignored("transferring", input), timeout(MAX_MS)],
        ));
    }
    steps.push(step(
        12_000,
        PlaybackFinished,
        vec![transfer(ext("202")), timeout(32_000)],
    ));
    run("outcomes and keys while announcing", steps);
}

#[test]
fn keys_are_ignored_while_the_refer_is_in_flight() {
    let mut more = vec![];
    for (ms, digit) in [(14_000, '0'), (14_100, '#'), (14_200, '*'), (14_300, '5')] {
        more.push(step(
            ms,
            Digit(digit),
            vec![ignored("transferring", Digit(digit)), timeout(33_000)],
        ));
    }
    // Nothing is playing while the REFER is out.
    more.push(step(
        15_000,
        PlaybackFinished,
        vec![ignored("transferring", PlaybackFinished), timeout(33_000)],
    ));
    more.push(step(16_000, TransferSucceeded, transferred("202")));
    run("keys while referred", with(referred('2', "202"), more));
}

#[test]
fn a_failed_transfer_goes_back_to_the_menu() {
    let back = |ms: u64, status: Option<u16>, input| {
        step(
            ms,
            input,
            vec![
                transfer_failed(ext("202"), status),
                play(&[crate::flow::Prompt::TransferFailed, Menu]),
                changed("transferring", "menu"),
                timeout(MAX_MS),
            ],
        )
    };
    let cases = [
        (
            "refused or busy",
            vec![back(14_000, Some(486), TransferFailed { status: 486 })],
        ),
        (
            "failed after the 2xx",
            vec![
                step(14_000, TransferAccepted, vec![timeout(33_000)]),
                back(20_000, Some(603), TransferFailed { status: 603 }),
            ],
        ),
        (
            "no outcome: TransferWait fires at exactly 20 s",
            vec![
                step(
                    32_999,
                    Timeout,
                    vec![ignored("transferring", Timeout), timeout(33_000)],
                ),
                {
                    let mut failed = back(33_000, None, Timeout);
                    failed.expect.insert(0, fired(TimerKind::TransferWait));
                    failed
                },
            ],
        ),
        (
            "a 2xx does not extend TransferWait",
            vec![step(14_000, TransferAccepted, vec![timeout(33_000)]), {
                let mut failed = back(33_000, None, Timeout);
                failed.expect.insert(0, fired(TimerKind::TransferWait));
                failed
            }],
        ),
    ];
    for (name, failure) in cases {
        let failed_at = failure.last().map(|step| step.at_ms).unwrap_or_default();
        let mut steps = with(referred('2', "202"), failure);
        steps.extend([
            // The menu again, NoInput armed when it finishes; then another choice works.
            step(
                failed_at + 4_000,
                PlaybackFinished,
                vec![timeout(failed_at + 10_000)],
            ),
            // A late outcome of the abandoned REFER makes no sense in the menu.
            step(
                failed_at + 5_000,
                TransferSucceeded,
                vec![
                    ignored("menu", TransferSucceeded),
                    timeout(failed_at + 10_000),
                ],
            ),
            step(
                failed_at + 6_000,
                Digit('5'),
                vec![
                    collected("5"),
                    play(&[Transferring]),
                    changed("menu", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
            step(
                failed_at + 8_000,
                PlaybackFinished,
                vec![transfer(ext("205")), timeout(failed_at + 28_000)],
            ),
        ]);
        run(name, steps);
    }
}

#[test]
fn failed_transfers_spend_retries_then_go_to_the_operator() {
    let fail = |ms: u64, number: &str, last: bool| {
        let next = if last {
            vec![crate::flow::Prompt::TransferFailed, Transferring]
        } else {
            vec![crate::flow::Prompt::TransferFailed, Menu]
        };
        let mut expect = vec![transfer_failed(ext(number), Some(486)), play(&next)];
        if !last {
            expect.push(changed("transferring", "menu"));
        }
        expect.push(timeout(MAX_MS));
        step(ms, TransferFailed { status: 486 }, expect)
    };
    let choose = |ms: u64, digit: char| {
        step(
            ms,
            Digit(digit),
            vec![
                stop(),
                collected(&digit.to_string()),
                play(&[Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        )
    };
    let mut steps = referred('2', "202");
    steps.extend([
        fail(14_000, "202", false),
        choose(15_000, '5'),
        step(
            16_000,
            PlaybackFinished,
            vec![transfer(ext("205")), timeout(36_000)],
        ),
        fail(17_000, "205", false),
        choose(18_000, '2'),
        step(
            19_000,
            PlaybackFinished,
            vec![transfer(ext("202")), timeout(39_000)],
        ),
        // Third failure: retries (2) exhausted; the operator, still transferring.
        fail(20_000, "202", true),
        step(
            22_000,
            PlaybackFinished,
            vec![transfer(operator()), timeout(42_000)],
        ),
    ]);
    run("three busy lines", steps);
}

#[test]
fn a_failed_operator_transfer_says_goodbye() {
    let gave_up = |ms: u64, status: Option<u16>, input| {
        step(
            ms,
            input,
            vec![
                transfer_failed(operator(), status),
                play(&[crate::flow::Prompt::TransferFailed, Goodbye]),
                changed("transferring", "saying_goodbye"),
                timeout(ms + 30_000),
            ],
        )
    };
    // Called 1 s after the failure: the goodbye may last until 29 s after `ms`.
    let goodbye_then_hangup = |ms: u64| {
        vec![
            step(
                ms,
                Digit('2'),
                vec![ignored("saying_goodbye", Digit('2')), timeout(ms + 29_000)],
            ),
            step(
                ms + 1_000,
                TransferSucceeded,
                vec![
                    ignored("saying_goodbye", TransferSucceeded),
                    timeout(ms + 29_000),
                ],
            ),
            step(
                ms + 3_000,
                PlaybackFinished,
                vec![
                    hangup(),
                    changed("saying_goodbye", "ended"),
                    ended(EndReason::GaveUp),
                    no_timeout(),
                ],
            ),
        ]
    };
    let mut chosen = with(
        referred('0', "9000"),
        vec![gave_up(14_000, Some(480), TransferFailed { status: 480 })],
    );
    chosen.extend(goodbye_then_hangup(15_000));
    let call = run("operator chosen with 0, unavailable", chosen);
    assert_eq!(call.end_reason(), Some(&EndReason::GaveUp));

    let mut timed_out = with(
        referred('0', "9000"),
        vec![{
            let mut failed = gave_up(33_000, None, Timeout);
            failed.expect.insert(0, fired(TimerKind::TransferWait));
            failed
        }],
    );
    timed_out.extend(goodbye_then_hangup(34_000));
    run("operator chosen with 0, no answer", timed_out);

    // The fallback after exhausted retries is the operator too.
    let mut fallback = answered_then_menu(10_000);
    fallback.extend([
        step(
            11_000,
            Digit('9'),
            vec![
                collected("9"),
                invalid("9"),
                play(&[InvalidChoice, Menu]),
                timeout(MAX_MS),
            ],
        ),
        step(
            11_500,
            Digit('9'),
            vec![
                stop(),
                collected("9"),
                invalid("9"),
                play(&[InvalidChoice, Menu]),
                timeout(MAX_MS),
            ],
        ),
        step(
            12_000,
            Digit('9'),
            vec![
                stop(),
                collected("9"),
                invalid("9"),
                play(&[InvalidChoice, Transferring]),
                changed("menu", "transferring"),
                timeout(MAX_MS),
            ],
        ),
        step(
            13_000,
            PlaybackFinished,
            vec![transfer(operator()), timeout(33_000)],
        ),
        gave_up(14_000, Some(503), TransferFailed { status: 503 }),
    ]);
    fallback.extend(goodbye_then_hangup(15_000));
    run("fallback to the operator, unavailable", fallback);
}

#[test]
fn a_uri_operator_is_compared_by_value() {
    let mut directory = directory();
    directory.store.operator = TransferTarget::Uri("sip:accueil@pbx.example".into());
    let operator = directory.store.operator.clone();
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
            13_000,
            PlaybackFinished,
            vec![transfer(operator.clone()), timeout(33_000)],
        ),
        step(
            14_000,
            TransferFailed { status: 404 },
            vec![
                transfer_failed(operator, Some(404)),
                play(&[crate::flow::Prompt::TransferFailed, Goodbye]),
                changed("transferring", "saying_goodbye"),
                timeout(44_000),
            ],
        ),
    ]);
    run_on("URI operator unavailable", directory, steps);
}
