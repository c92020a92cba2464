//! DTMF menu scenarios: greeting, barge-in, prefix resolution of keys and extensions, `*`, `#`, invalid choices, no input and retries.

use super::harness::*;
use crate::flow::Input::{Answered, Digit, PlaybackFinished, Timeout};
use crate::flow::Prompt::{Greeting, InvalidChoice, Menu, NoInput, Transferring};
use crate::flow::TimerKind;

/// `answered_then_menu(10 s)` followed by `steps`.
fn in_menu(steps: Vec<Step>) -> Vec<Step> {
    let mut all = answered_then_menu(10_000);
    all.extend(steps);
    all
}

/// The steps of a digit choice from the waiting menu at `ms` that transfers at once.
fn chose(ms: u64, digit: char, digits: &str) -> Step {
    step(
        ms,
        Digit(digit),
        vec![
            collected(digits),
            play(&[Transferring]),
            changed("menu", "transferring"),
            timeout(MAX_MS),
        ],
    )
}

/// The announcement finishing at `ms`: the REFER to `target` goes out, 20 s to settle.
fn refer(ms: u64, number: &str) -> Step {
    step(
        ms,
        PlaybackFinished,
        vec![transfer(ext(number)), timeout(ms + 20_000)],
    )
}

#[test]
fn greeting_and_no_input_until_the_operator() {
    run(
        "silence all along",
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
            // NoInput is armed when the prompts finish, not when they start.
            step(
                10_000,
                PlaybackFinished,
                vec![changed("greeting", "menu"), timeout(16_000)],
            ),
            step(
                15_999,
                Timeout,
                vec![ignored("menu", Timeout), timeout(16_000)],
            ),
            step(
                16_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    play(&[NoInput, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            step(20_000, PlaybackFinished, vec![timeout(26_000)]),
            step(
                26_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    play(&[NoInput, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            step(30_000, PlaybackFinished, vec![timeout(36_000)]),
            // Third silence: retries (2) exhausted, to the operator.
            step(
                36_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    play(&[NoInput, Transferring]),
                    changed("menu", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
            step(
                38_000,
                PlaybackFinished,
                vec![transfer(operator()), timeout(58_000)],
            ),
        ],
    );
}

#[test]
fn keys_and_extensions_resolve_by_prefix() {
    struct Case {
        name: &'static str,
        steps: Vec<Step>,
        /// Where the call is transferred when the announcement finishes at 20 s.
        target: &'static str,
    }
    let cases = [
        Case {
            name: "menu key acts at once",
            steps: vec![chose(11_000, '2', "2")],
            target: "202",
        },
        Case {
            name: "operator key acts at once",
            steps: vec![chose(11_000, '0', "0")],
            target: "9000",
        },
        Case {
            name: "menu key beats an equal extension",
            steps: vec![chose(11_000, '5', "5")],
            target: "205",
        },
        Case {
            name: "longest extension acts on its last digit",
            steps: vec![
                // Each digit re-arms the inter-digit timer (3 s) instead of NoInput.
                step(11_000, Digit('3'), vec![timeout(14_000)]),
                step(12_000, Digit('1'), vec![timeout(15_000)]),
                chose(13_000, '5', "315"),
            ],
            target: "315",
        },
        Case {
            name: "exact extension that starts a longer one resolves on the inter-digit timeout",
            steps: vec![
                step(11_000, Digit('3'), vec![timeout(14_000)]),
                step(12_000, Digit('1'), vec![timeout(15_000)]),
                step(
                    14_999,
                    Timeout,
                    vec![ignored("menu", Timeout), timeout(15_000)],
                ),
                step(
                    15_000,
                    Timeout,
                    vec![
                        fired(TimerKind::InterDigit),
                        collected("31"),
                        play(&[Transferring]),
                        changed("menu", "transferring"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
            // Sophie, the first of the two entries with extension 31.
            target: "31",
        },
        Case {
            name: "# ends the entry at once",
            steps: vec![
                step(11_000, Digit('3'), vec![timeout(14_000)]),
                step(12_000, Digit('1'), vec![timeout(15_000)]),
                step(
                    12_500,
                    Digit('#'),
                    vec![
                        collected("31"),
                        play(&[Transferring]),
                        changed("menu", "transferring"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
            target: "31",
        },
        Case {
            name: "menu key that starts an extension waits, then is taken",
            steps: vec![
                step(11_000, Digit('1'), vec![timeout(14_000)]),
                step(
                    14_000,
                    Timeout,
                    vec![
                        fired(TimerKind::InterDigit),
                        collected("1"),
                        play(&[Transferring]),
                        changed("menu", "transferring"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
            target: "201",
        },
        Case {
            name: "menu key followed by the rest of the extension",
            steps: vec![
                step(11_000, Digit('1'), vec![timeout(14_000)]),
                chose(12_000, '2', "12"),
            ],
            target: "12",
        },
    ];
    for case in cases {
        let mut steps = in_menu(case.steps);
        steps.push(refer(20_000, case.target));
        run(case.name, steps);
    }
}

#[test]
fn operator_key_waits_when_an_extension_starts_with_zero() {
    let mut directory = directory();
    directory.entries[0].extension = Some("07".into());
    run_on(
        "0 alone, then the timeout",
        directory.clone(),
        in_menu(vec![
            step(11_000, Digit('0'), vec![timeout(14_000)]),
            step(
                14_000,
                Timeout,
                vec![
                    fired(TimerKind::InterDigit),
                    collected("0"),
                    play(&[Transferring]),
                    changed("menu", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
            refer(16_000, "9000"),
        ]),
    );
    run_on(
        "0 then 7",
        directory,
        in_menu(vec![
            step(11_000, Digit('0'), vec![timeout(14_000)]),
            chose(12_000, '7', "07"),
            refer(16_000, "31"),
        ]),
    );
}

#[test]
fn a_key_barges_into_playing_prompts() {
    run(
        "key during the greeting",
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
            step(
                2_000,
                Digit('2'),
                vec![
                    stop(),
                    collected("2"),
                    play(&[Transferring]),
                    changed("greeting", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
            refer(4_000, "202"),
        ],
    );
    run(
        "prefix during the greeting: stop, then wait for more",
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
            step(
                2_000,
                Digit('3'),
                vec![stop(), changed("greeting", "menu"), timeout(5_000)],
            ),
            // The stopped prompts send no PlaybackFinished; one arriving anyway is ignored.
            step(
                2_200,
                PlaybackFinished,
                vec![ignored("menu", PlaybackFinished), timeout(5_000)],
            ),
            step(2_500, Digit('1'), vec![timeout(5_500)]),
            chose(3_000, '5', "315"),
        ],
    );
    run(
        "key during the invalid-choice prompt",
        in_menu(vec![
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
                12_000,
                Digit('2'),
                vec![
                    stop(),
                    collected("2"),
                    play(&[Transferring]),
                    changed("menu", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
        ]),
    );
}

#[test]
fn invalid_entries_replay_the_menu() {
    let cases = [
        ("unknown key, at once", vec![], '9', "9"),
        ("disabled entry's extension, at once", vec![], '4', "4"),
        ("letter key, at once", vec![], 'A', "A"),
        ("# with nothing typed", vec![], '#', ""),
        (
            "# after a prefix that selects nothing",
            vec![step(11_000, Digit('3'), vec![timeout(14_000)])],
            '#',
            "3",
        ),
    ];
    for (name, before, digit, digits) in cases {
        let mut steps = before;
        steps.extend([
            step(
                12_000,
                Digit(digit),
                vec![
                    collected(digits),
                    invalid(digits),
                    play(&[InvalidChoice, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            // Back to waiting in the menu, NoInput armed when the prompts finish.
            step(15_000, PlaybackFinished, vec![timeout(21_000)]),
        ]);
        run(name, in_menu(steps));
    }
    run(
        "prefix that selects nothing, on the inter-digit timeout",
        in_menu(vec![
            step(11_000, Digit('3'), vec![timeout(14_000)]),
            step(
                14_000,
                Timeout,
                vec![
                    fired(TimerKind::InterDigit),
                    collected("3"),
                    invalid("3"),
                    play(&[InvalidChoice, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            step(16_000, PlaybackFinished, vec![timeout(22_000)]),
        ]),
    );
}

#[test]
fn invalid_choices_exhaust_retries_to_the_operator() {
    run(
        "three wrong keys",
        in_menu(vec![
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
                12_000,
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
                13_000,
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
            refer(16_000, "9000"),
        ]),
    );
    run(
        "silence and wrong keys count together",
        in_menu(vec![
            step(
                16_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    play(&[NoInput, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            step(
                17_000,
                Digit('9'),
                vec![
                    stop(),
                    collected("9"),
                    invalid("9"),
                    play(&[InvalidChoice, Menu]),
                    timeout(MAX_MS),
                ],
            ),
            step(20_000, PlaybackFinished, vec![timeout(26_000)]),
            step(
                26_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    play(&[NoInput, Transferring]),
                    changed("menu", "transferring"),
                    timeout(MAX_MS),
                ],
            ),
        ]),
    );
}

#[test]
fn star_repeats_the_menu_without_spending_a_retry() {
    run(
        "star during the greeting skips to the menu",
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
            step(
                2_000,
                Digit('*'),
                vec![
                    stop(),
                    play(&[Menu]),
                    changed("greeting", "menu"),
                    timeout(MAX_MS),
                ],
            ),
            step(5_000, PlaybackFinished, vec![timeout(11_000)]),
        ],
    );
    run(
        "star while waiting plays the menu, nothing to stop",
        in_menu(vec![
            step(11_000, Digit('*'), vec![play(&[Menu]), timeout(MAX_MS)]),
            step(14_000, PlaybackFinished, vec![timeout(20_000)]),
        ]),
    );
    run(
        "star drops the entry in progress",
        in_menu(vec![
            step(11_000, Digit('3'), vec![timeout(14_000)]),
            step(12_000, Digit('*'), vec![play(&[Menu]), timeout(MAX_MS)]),
            step(14_000, PlaybackFinished, vec![timeout(20_000)]),
            // Had "3" been kept, "31" would not act on '5' alone below.
            step(15_000, Digit('3'), vec![timeout(18_000)]),
            step(15_500, Digit('1'), vec![timeout(18_500)]),
            chose(16_000, '5', "315"),
        ]),
    );
    run(
        "stars between wrong keys are not retries",
        in_menu(vec![
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
                12_000,
                Digit('*'),
                vec![stop(), play(&[Menu]), timeout(MAX_MS)],
            ),
            step(
                13_000,
                Digit('*'),
                vec![stop(), play(&[Menu]), timeout(MAX_MS)],
            ),
            step(
                14_000,
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
                15_000,
                Digit('*'),
                vec![stop(), play(&[Menu]), timeout(MAX_MS)],
            ),
            step(
                16_000,
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
        ]),
    );
}
