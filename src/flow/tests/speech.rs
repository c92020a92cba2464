//! Speech scenarios: ask a name with barge-in, transfer, confirm by voice or keypad, disambiguate by key, one re-prompt then the DTMF menu, a key switching to DTMF, speech inputs ignored when no recognition runs.

use std::sync::Arc;

use super::harness::*;
use crate::directory::EntryId;
use crate::flow::Input::{
    Answered, CallerHungUp, Digit, MediaLost, NoSpeech, PlaybackFinished, Recognized,
    SpeechStarted, Timeout, TransferFailed, TransferSucceeded,
};
use crate::flow::Prompt::{
    AskFullName, AskName, DidYouMean, Disambiguation, DisambiguationOption, Goodbye, Greeting, Menu, NoInput,
    NotUnderstood, Transferring,
};
use crate::flow::RecognitionMode::{Names, YesNo};
use crate::flow::{Call, EndReason, Output, TimerKind};
use crate::matching::Decision;

/// Answered at 0: greeting and name question play, names recognition runs.
fn answered() -> Step {
    step(
        0,
        Answered,
        vec![
            play(&[Greeting, AskName]),
            start_recognition(Names),
            changed("starting", "asking_name"),
            timeout(MAX_MS),
        ],
    )
}

/// Answered, then the caller speaks over the prompts at 3 s (EndOfSpeech at 13 s).
fn speaking() -> Vec<Step> {
    vec![
        answered(),
        step(
            3_000,
            SpeechStarted,
            vec![stop(), changed("asking_name", "listening"), timeout(13_000)],
        ),
    ]
}

/// [`speaking`], then "marc" at 4.5 s: "did you mean Marc?" plays, yes/no recognition runs.
fn confirming() -> Vec<Step> {
    let mut steps = speaking();
    steps.push(step(
        4_500,
        Recognized(heard("marc")),
        vec![
            decided(Decision::Confirm(EntryId(2))),
            play(&[DidYouMean(EntryId(2))]),
            start_recognition(YesNo),
            changed("listening", "confirming"),
            timeout(MAX_MS),
        ],
    ));
    steps
}

/// [`speaking`], then "martin" at 4.5 s: Sophie (key 1) and Julie (key 2) offered.
fn disambiguating() -> Vec<Step> {
    let mut steps = speaking();
    steps.push(step(
        4_500,
        Recognized(heard("martin")),
        vec![
            decided(Decision::Disambiguate(vec![EntryId(1), EntryId(6)])),
            play(&martins()),
            start_recognition(Names),
            changed("listening", "disambiguating"),
            timeout(MAX_MS),
        ],
    ));
    steps
}

fn martins() -> Vec<crate::flow::Prompt> {
    vec![
        Disambiguation,
        DisambiguationOption {
            key: '1',
            entry: EntryId(1),
        },
        DisambiguationOption {
            key: '2',
            entry: EntryId(6),
        },
    ]
}

fn then(mut steps: Vec<Step>, more: Vec<Step>) -> Vec<Step> {
    steps.extend(more);
    steps
}

/// A transfer starting from `from` at `ms`, the announcement not interrupted.
fn transferring(
    ms: u64,
    input: crate::flow::Input,
    from: &'static str,
    mut before: Vec<Output>,
) -> Step {
    before.extend([
        play(&[Transferring]),
        changed(from, "transferring"),
        timeout(MAX_MS),
    ]);
    step(ms, input, before)
}

/// The announcement finishing at `ms`: the REFER to `number` goes out.
fn refer(ms: u64, number: &str) -> Step {
    step(
        ms,
        PlaybackFinished,
        vec![transfer(ext(number)), timeout(ms + 20_000)],
    )
}

#[test]
fn a_recognised_name_transfers_at_once() {
    let call = run_speech(
        "speaking over the prompts",
        then(
            speaking(),
            vec![
                transferring(
                    4_500,
                    Recognized(heard("sophie martin")),
                    "listening",
                    vec![decided(Decision::Transfer(EntryId(1)))],
                ),
                refer(6_000, "31"),
                step(
                    7_000,
                    TransferSucceeded,
                    vec![
                        hangup(),
                        changed("transferring", "ended"),
                        ended(EndReason::Transferred(ext("31"))),
                        no_timeout(),
                    ],
                ),
            ],
        ),
    );
    assert_eq!(call.end_reason(), Some(&EndReason::Transferred(ext("31"))));
    run_speech(
        "speaking after the prompts: nothing to stop, NoInput gives way to EndOfSpeech",
        vec![
            answered(),
            step(8_000, PlaybackFinished, vec![timeout(14_000)]),
            step(
                10_000,
                SpeechStarted,
                vec![changed("asking_name", "listening"), timeout(20_000)],
            ),
            transferring(
                11_000,
                Recognized(heard("sophie martin")),
                "listening",
                vec![decided(Decision::Transfer(EntryId(1)))],
            ),
        ],
    );
    run_speech(
        "a result without SpeechStarted stops the prompts itself",
        vec![
            answered(),
            transferring(
                2_000,
                Recognized(heard("sophie martin")),
                "asking_name",
                vec![stop(), decided(Decision::Transfer(EntryId(1)))],
            ),
        ],
    );
}

#[test]
fn confirmation_by_voice_or_keypad() {
    run_speech(
        "yes by voice, after the question",
        then(
            confirming(),
            vec![
                step(6_000, PlaybackFinished, vec![timeout(12_000)]),
                step(7_000, SpeechStarted, vec![timeout(17_000)]),
                // A second SpeechStarted in the same answer means nothing.
                step(
                    7_200,
                    SpeechStarted,
                    vec![ignored("confirming", SpeechStarted), timeout(17_000)],
                ),
                transferring(
                    7_500,
                    Recognized(heard("oui")),
                    "confirming",
                    vec![confirmation(Some(true))],
                ),
                refer(9_000, "315"),
            ],
        ),
    );
    run_speech(
        "yes by key 1 during the question",
        then(
            confirming(),
            vec![
                transferring(
                    5_000,
                    Digit('1'),
                    "confirming",
                    vec![stop(), stop_recognition(), confirmation(Some(true))],
                ),
                refer(6_000, "315"),
            ],
        ),
    );
    run_speech(
        "yes by voice over the question",
        then(
            confirming(),
            vec![
                step(5_000, SpeechStarted, vec![stop(), timeout(15_000)]),
                // Nothing plays any more: a late PlaybackFinished is ignored.
                step(
                    5_100,
                    PlaybackFinished,
                    vec![ignored("confirming", PlaybackFinished), timeout(15_000)],
                ),
                transferring(
                    6_000,
                    Recognized(heard("oui")),
                    "confirming",
                    vec![confirmation(Some(true))],
                ),
            ],
        ),
    );
}

#[test]
fn one_re_prompt_then_the_dtmf_menu() {
    run_speech(
        "no by key 2, then a name not understood",
        then(
            confirming(),
            vec![
                // "No" is no misunderstanding: the question again, no apology.
                step(
                    5_000,
                    Digit('2'),
                    vec![
                        stop(),
                        stop_recognition(),
                        confirmation(Some(false)),
                        play(&[AskFullName]),
                        start_recognition(Names),
                        changed("confirming", "asking_name"),
                        timeout(MAX_MS),
                    ],
                ),
                step(
                    6_000,
                    Recognized(heard("bof")),
                    vec![
                        stop(),
                        decided(Decision::NoMatch),
                        play(&[NotUnderstood, Menu]),
                        changed("asking_name", "menu"),
                        timeout(MAX_MS),
                    ],
                ),
                // The DTMF menu, with all its retries.
                step(9_000, PlaybackFinished, vec![timeout(15_000)]),
                step(
                    10_000,
                    Recognized(heard("sophie martin")),
                    vec![
                        ignored("menu", Recognized(heard("sophie martin"))),
                        timeout(15_000),
                    ],
                ),
                step(
                    10_500,
                    SpeechStarted,
                    vec![ignored("menu", SpeechStarted), timeout(15_000)],
                ),
                transferring(11_000, Digit('2'), "menu", vec![collected("2")]),
            ],
        ),
    );
    run_speech(
        "an unclear answer is not understood",
        then(
            confirming(),
            vec![
                step(6_000, PlaybackFinished, vec![timeout(12_000)]),
                step(7_000, SpeechStarted, vec![timeout(17_000)]),
                step(
                    8_000,
                    Recognized(heard("bof")),
                    vec![
                        confirmation(None),
                        play(&[NotUnderstood, AskFullName]),
                        start_recognition(Names),
                        changed("confirming", "asking_name"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
        ),
    );
    run_speech(
        "silence twice: NoInput, then the IO side's NoSpeech",
        vec![
            answered(),
            step(8_000, PlaybackFinished, vec![timeout(14_000)]),
            step(
                13_999,
                Timeout,
                vec![ignored("asking_name", Timeout), timeout(14_000)],
            ),
            step(
                14_000,
                Timeout,
                vec![
                    fired(TimerKind::NoInput),
                    stop_recognition(),
                    play(&[NoInput, AskFullName]),
                    start_recognition(Names),
                    timeout(MAX_MS),
                ],
            ),
            step(17_000, PlaybackFinished, vec![timeout(23_000)]),
            // NoSpeech ends the recognition itself: no StopRecognition.
            step(
                20_000,
                NoSpeech,
                vec![
                    play(&[NoInput, Menu]),
                    changed("asking_name", "menu"),
                    timeout(MAX_MS),
                ],
            ),
            step(
                20_500,
                NoSpeech,
                vec![ignored("menu", NoSpeech), timeout(MAX_MS)],
            ),
        ],
    );
    run_speech(
        "speech that never ends: EndOfSpeech at exactly 10 s",
        then(
            speaking(),
            vec![
                step(
                    12_999,
                    Timeout,
                    vec![ignored("listening", Timeout), timeout(13_000)],
                ),
                step(
                    13_000,
                    Timeout,
                    vec![
                        fired(TimerKind::EndOfSpeech),
                        stop_recognition(),
                        play(&[NotUnderstood, AskFullName]),
                        start_recognition(Names),
                        changed("listening", "asking_name"),
                        timeout(MAX_MS),
                    ],
                ),
                step(
                    16_000,
                    SpeechStarted,
                    vec![stop(), changed("asking_name", "listening"), timeout(26_000)],
                ),
                step(
                    26_000,
                    Timeout,
                    vec![
                        fired(TimerKind::EndOfSpeech),
                        stop_recognition(),
                        play(&[NotUnderstood, Menu]),
                        changed("listening", "menu"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
        ),
    );
    run_speech(
        "an entry that cannot be reached is not understood",
        then(
            speaking(),
            vec![step(
                4_500,
                Recognized(heard("ancien")),
                vec![
                    decided(Decision::Transfer(EntryId(4))),
                    play(&[NotUnderstood, AskFullName]),
                    start_recognition(Names),
                    changed("listening", "asking_name"),
                    timeout(MAX_MS),
                ],
            )],
        ),
    );
    run_speech(
        "silence after the question: NoInput, then asked again",
        then(
            confirming(),
            vec![
                step(6_000, PlaybackFinished, vec![timeout(12_000)]),
                step(
                    12_000,
                    Timeout,
                    vec![
                        fired(TimerKind::NoInput),
                        stop_recognition(),
                        play(&[NoInput, AskFullName]),
                        start_recognition(Names),
                        changed("confirming", "asking_name"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
        ),
    );
}

#[test]
fn namesakes_are_offered_on_the_keypad() {
    run_speech(
        "key 2 picks Julie",
        then(
            disambiguating(),
            vec![
                step(
                    6_000,
                    Digit('*'),
                    vec![stop(), play(&martins()), timeout(MAX_MS)],
                ),
                step(8_000, PlaybackFinished, vec![timeout(14_000)]),
                transferring(9_000, Digit('2'), "disambiguating", vec![stop_recognition()]),
                refer(11_000, "6031"),
            ],
        ),
    );
    run_speech(
        "key 1 over the options picks Sophie",
        then(
            disambiguating(),
            vec![
                transferring(
                    5_000,
                    Digit('1'),
                    "disambiguating",
                    vec![stop(), stop_recognition()],
                ),
                refer(6_000, "31"),
            ],
        ),
    );
    run_speech(
        "a key not offered goes to the DTMF menu",
        then(
            disambiguating(),
            vec![step(
                5_000,
                Digit('3'),
                vec![
                    stop(),
                    stop_recognition(),
                    changed("disambiguating", "menu"),
                    timeout(8_000),
                ],
            )],
        ),
    );
    run_speech(
        "silence: asked for the name again",
        then(
            disambiguating(),
            vec![
                step(8_000, PlaybackFinished, vec![timeout(14_000)]),
                step(
                    14_000,
                    Timeout,
                    vec![
                        fired(TimerKind::NoInput),
                        stop_recognition(),
                        play(&[NoInput, AskFullName]),
                        start_recognition(Names),
                        changed("disambiguating", "asking_name"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
        ),
    );
    run_speech(
        "one usable namesake: confirmed instead",
        then(
            speaking(),
            vec![step(
                4_500,
                Recognized(heard("les martin")),
                vec![
                    decided(Decision::Disambiguate(vec![
                        EntryId(1),
                        EntryId(4),
                        EntryId(1),
                    ])),
                    play(&[DidYouMean(EntryId(1))]),
                    start_recognition(YesNo),
                    changed("listening", "confirming"),
                    timeout(MAX_MS),
                ],
            )],
        ),
    );
}

#[test]
fn a_key_during_speech_switches_to_the_dtmf_menu() {
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "menu key over the name question",
            vec![
                answered(),
                transferring(
                    2_000,
                    Digit('2'),
                    "asking_name",
                    vec![stop(), stop_recognition(), collected("2")],
                ),
            ],
        ),
        (
            "extension prefix over the name question",
            vec![
                answered(),
                step(
                    2_000,
                    Digit('3'),
                    vec![
                        stop(),
                        stop_recognition(),
                        changed("asking_name", "menu"),
                        timeout(5_000),
                    ],
                ),
            ],
        ),
        (
            "star over the name question: the menu",
            vec![
                answered(),
                step(
                    2_000,
                    Digit('*'),
                    vec![
                        stop(),
                        stop_recognition(),
                        play(&[Menu]),
                        changed("asking_name", "menu"),
                        timeout(MAX_MS),
                    ],
                ),
            ],
        ),
        (
            "operator key while speaking",
            then(
                speaking(),
                vec![transferring(
                    3_500,
                    Digit('0'),
                    "listening",
                    vec![stop_recognition(), collected("0")],
                )],
            ),
        ),
        (
            "operator key while confirming",
            then(
                confirming(),
                vec![transferring(
                    5_000,
                    Digit('0'),
                    "confirming",
                    vec![stop(), stop_recognition(), collected("0")],
                )],
            ),
        ),
    ];
    for (name, steps) in cases {
        run_speech(name, steps);
    }
}

#[test]
fn a_failed_speech_transfer_goes_back_to_the_dtmf_menu() {
    run_speech(
        "busy",
        then(
            speaking(),
            vec![
                transferring(
                    4_500,
                    Recognized(heard("sophie martin")),
                    "listening",
                    vec![decided(Decision::Transfer(EntryId(1)))],
                ),
                refer(6_000, "31"),
                step(
                    7_000,
                    TransferFailed { status: 486 },
                    vec![
                        transfer_failed(ext("31"), Some(486)),
                        play(&[crate::flow::Prompt::TransferFailed, Menu]),
                        changed("transferring", "menu"),
                        timeout(MAX_MS),
                    ],
                ),
                step(
                    7_500,
                    SpeechStarted,
                    vec![ignored("menu", SpeechStarted), timeout(MAX_MS)],
                ),
            ],
        ),
    );
}

#[test]
fn the_end_stops_a_running_recognition() {
    run_speech(
        "caller hangs up during the name question",
        vec![
            answered(),
            step(
                2_000,
                CallerHungUp,
                vec![
                    stop(),
                    stop_recognition(),
                    changed("asking_name", "ended"),
                    ended(EndReason::CallerHungUp),
                    no_timeout(),
                ],
            ),
        ],
    );
    run_speech(
        "media lost while speaking",
        then(
            speaking(),
            vec![step(
                4_000,
                MediaLost,
                vec![
                    stop_recognition(),
                    hangup(),
                    changed("listening", "ended"),
                    ended(EndReason::MediaLost),
                    no_timeout(),
                ],
            )],
        ),
    );
    let mut capped = confirming();
    capped.extend([
        step(6_000, SpeechStarted, vec![stop(), timeout(16_000)]),
        step(
            16_000,
            Timeout,
            vec![
                fired(TimerKind::EndOfSpeech),
                stop_recognition(),
                play(&[NotUnderstood, AskFullName]),
                start_recognition(Names),
                changed("confirming", "asking_name"),
                timeout(MAX_MS),
            ],
        ),
        // The cap while the names recognition runs: stopped, then the goodbye.
        step(
            MAX_MS,
            Timeout,
            vec![
                fired(TimerKind::MaxDuration),
                stop_recognition(),
                play(&[Goodbye]),
                changed("asking_name", "saying_goodbye"),
                timeout(MAX_MS + 30_000),
            ],
        ),
        step(
            MAX_MS + 100,
            NoSpeech,
            vec![
                ignored("saying_goodbye", NoSpeech),
                timeout(MAX_MS + 30_000),
            ],
        ),
        step(
            MAX_MS + 2_000,
            PlaybackFinished,
            vec![
                hangup(),
                changed("saying_goodbye", "ended"),
                ended(EndReason::MaxDuration),
                no_timeout(),
            ],
        ),
    ]);
    run_speech("the hard cap while asking", capped);
}

#[test]
fn speech_needs_both_the_setting_and_an_interpreter() {
    let dtmf_start = vec![step(
        0,
        Answered,
        vec![
            play(&[Greeting, Menu]),
            changed("starting", "greeting"),
            timeout(MAX_MS),
        ],
    )];
    let no_interpreter = Call::new(t0(), Arc::new(directory()), speech_settings());
    assert!(!no_interpreter.speech_active());
    let setting_off = Call::new(t0(), Arc::new(directory()), settings())
        .with_speech(Arc::new(ScriptedInterpreter));
    assert!(!setting_off.speech_active());
    for (name, mut call) in [
        ("no interpreter", no_interpreter),
        ("setting off", setting_off),
    ] {
        assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
        let mut steps = dtmf_start.clone();
        steps.extend([
            step(
                1_000,
                SpeechStarted,
                vec![ignored("greeting", SpeechStarted), timeout(MAX_MS)],
            ),
            step(
                1_500,
                Recognized(heard("sophie martin")),
                vec![
                    ignored("greeting", Recognized(heard("sophie martin"))),
                    timeout(MAX_MS),
                ],
            ),
            step(
                2_000,
                NoSpeech,
                vec![ignored("greeting", NoSpeech), timeout(MAX_MS)],
            ),
        ]);
        run_steps(name, call, steps);
    }
}

#[test]
fn the_question_between_namesakes_is_answered_by_saying_one() {
    run_speech(
        "Sophie Martin said over the options",
        then(
            disambiguating(),
            vec![
                step(
                    5_000,
                    SpeechStarted,
                    vec![stop(), timeout(15_000)],
                ),
                step(
                    6_000,
                    Recognized(heard("sophie martin")),
                    vec![
                        decided(Decision::Transfer(EntryId(1))),
                        play(&[Transferring]),
                        changed("disambiguating", "transferring"),
                        timeout(MAX_MS),
                    ],
                ),
                refer(7_000, "31"),
            ],
        ),
    );
    run_speech(
        "a name that is not offered: asked again",
        then(
            disambiguating(),
            vec![step(
                6_000,
                Recognized(heard("marc")),
                vec![
                    stop(),
                    decided(Decision::NoMatch),
                    play(&[NotUnderstood, AskFullName]),
                    start_recognition(Names),
                    changed("disambiguating", "asking_name"),
                    timeout(MAX_MS),
                ],
            )],
        ),
    );
}

#[test]
fn operator_words_go_to_the_operator_and_help_asks_again() {
    let mut steps = speaking();
    steps.push(step(
        4_500,
        Recognized(heard("operator")),
        vec![
            decided(Decision::Operator),
            play(&[Transferring]),
            changed("listening", "transferring"),
            timeout(MAX_MS),
        ],
    ));
    steps.push(step(
        5_000,
        PlaybackFinished,
        vec![
            transfer(crate::directory::TransferTarget::Extension("9000".into())),
            timeout(25_000),
        ],
    ));
    run_speech("operator", steps);

    let mut steps = speaking();
    steps.push(step(
        4_500,
        Recognized(heard("help")),
        vec![
            decided(Decision::Help),
            play(&[AskName]),
            start_recognition(Names),
            changed("listening", "asking_name"),
            timeout(MAX_MS),
        ],
    ));
    // Help is no failed attempt: a name not understood next is the first
    // failure, answered by the second way of asking, not the menu.
    steps.push(step(
        5_000,
        Recognized(heard("zzz")),
        vec![
            stop(),
            decided(Decision::NoMatch),
            play(&[NotUnderstood, AskFullName]),
            start_recognition(Names),
            timeout(MAX_MS),
        ],
    ));
    run_speech("help", steps);
}
