//! Keypad name search scenarios: the spell key enters spelling, `#` or the inter-digit timeout searches the real name index, one match transfers, several are offered by key, none / too many / `#` alone / silence re-prompt until the operator, `*` returns to the menu, `0` is the operator, letterless keys are ignored.

use std::sync::Arc;

use super::harness::*;
use crate::directory::{Directory, EntryId};
use crate::flow::Input::{Answered, Digit, PlaybackFinished, Timeout};
use crate::flow::Prompt::{
    AskName, DisambiguationOption, Greeting, InvalidChoice, Menu, NamesMatch, NoInput, NoNameMatch,
    SpellName, TooManyNames, Transferring,
};
use crate::flow::RecognitionMode::Names;
use crate::flow::{Call, CallEvent, FlowSettings, MenuKey, NameSearch, Output, TimerKind};
use crate::matching::NameIndex;

/// [`settings`] with `9` as the spell key.
fn spelling_settings() -> FlowSettings {
    FlowSettings {
        spell_key: Some(MenuKey::new('9').expect("9 is a menu key")),
        ..settings()
    }
}

/// A call over `directory` searching the real name index of that directory.
fn spelling_call_on(directory: Directory, settings: FlowSettings) -> Call {
    let index = NameIndex::build(&directory).expect("fixture directory indexes");
    let mut call = Call::new(t0(), Arc::new(directory), settings).with_name_search(Arc::new(index));
    assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
    call
}

fn spelling_call() -> Call {
    spelling_call_on(directory(), spelling_settings())
}

/// The search found `entries` for `digits`.
fn searched(digits: &str, entries: &[i64]) -> Output {
    Output::Event(CallEvent::KeypadSearch {
        digits: digits.to_owned(),
        entries: entries.iter().copied().map(EntryId).collect(),
    })
}

/// Answered, greeting over at 5 s, spell key `9` at 6 s, its prompt over at
/// 9 s: the call spells, no retry spent, `NoInput` due at 15 s.
fn spelling() -> Vec<Step> {
    let mut steps = answered_then_menu(5_000);
    steps.extend([
        step(
            6_000,
            Digit('9'),
            vec![
                collected("9"),
                play(&[SpellName]),
                changed("menu", "spelling"),
                timeout(MAX_MS),
            ],
        ),
        step(9_000, PlaybackFinished, vec![timeout(15_000)]),
    ]);
    steps
}

/// Keys typed one a second from `from_ms` while spelling (each re-arms `InterDigit`).
fn typed(from_ms: u64, digits: &str) -> Vec<Step> {
    digits
        .chars()
        .enumerate()
        .map(|(i, digit)| {
            let ms = from_ms + 1_000 * i as u64;
            step(ms, Digit(digit), vec![timeout(ms + 3_000)])
        })
        .collect()
}

/// `#` at `ms` after `digits` found `entries` (2 to 9): the choices play.
fn offered(ms: u64, digits: &str, entries: &[i64]) -> Step {
    let mut prompts = vec![NamesMatch];
    prompts.extend(
        entries
            .iter()
            .zip('1'..)
            .map(|(&id, key)| DisambiguationOption {
                key,
                entry: EntryId(id),
            }),
    );
    step(
        ms,
        Digit('#'),
        vec![
            collected(digits),
            searched(digits, entries),
            play(&prompts),
            changed("spelling", "choosing_name"),
            timeout(MAX_MS),
        ],
    )
}

/// Transfer announced at `ms` from `state` (after `cause`, if any).
fn announced(state: &'static str, causes: &[crate::flow::Prompt]) -> Vec<Output> {
    let mut prompts = causes.to_vec();
    prompts.push(Transferring);
    vec![
        play(&prompts),
        changed(state, "transferring"),
        timeout(MAX_MS),
    ]
}

/// A no-match re-prompt: `cause`, then the spelling prompt again.
fn again(cause: crate::flow::Prompt) -> Output {
    play(&[cause, SpellName])
}

fn concat(parts: Vec<Vec<Step>>) -> Vec<Step> {
    parts.into_iter().flatten().collect()
}

#[test]
fn spelling_scenarios() {
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "one match on # transfers (m-a-r-c: Marc Dupont)",
            concat(vec![
                spelling(),
                typed(10_000, "6272"),
                vec![
                    step(
                        14_000,
                        Digit('#'),
                        [
                            vec![collected("6272"), searched("6272", &[2])],
                            announced("spelling", &[]),
                        ]
                        .concat(),
                    ),
                    step(
                        16_000,
                        PlaybackFinished,
                        vec![transfer(ext("315")), timeout(36_000)],
                    ),
                ],
            ]),
        ),
        (
            "one match when the inter-digit timer ends the entry (j: Julie Martin)",
            concat(vec![
                spelling(),
                typed(10_000, "5"),
                vec![
                    step(
                        12_999,
                        Timeout,
                        vec![ignored("spelling", Timeout), timeout(13_000)],
                    ),
                    step(
                        13_000,
                        Timeout,
                        [
                            vec![
                                fired(TimerKind::InterDigit),
                                collected("5"),
                                searched("5", &[6]),
                            ],
                            announced("spelling", &[]),
                        ]
                        .concat(),
                    ),
                    step(
                        15_000,
                        PlaybackFinished,
                        vec![transfer(ext("6031")), timeout(35_000)],
                    ),
                ],
            ]),
        ),
        (
            "a key barges in on the spelling prompt",
            concat(vec![
                answered_then_menu(5_000),
                vec![
                    step(
                        6_000,
                        Digit('9'),
                        vec![
                            collected("9"),
                            play(&[SpellName]),
                            changed("menu", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(7_000, Digit('3'), vec![stop(), timeout(10_000)]),
                    step(
                        7_500,
                        Digit('#'),
                        [
                            vec![collected("3"), searched("3", &[2])],
                            announced("spelling", &[]),
                        ]
                        .concat(),
                    ),
                ],
            ]),
        ),
        (
            "two matches are offered by key (m-a-r-t: the Martins), key 2 picks Sophie",
            concat(vec![
                spelling(),
                typed(10_000, "6278"),
                vec![
                    offered(14_000, "6278", &[6, 1]),
                    step(
                        15_000,
                        Digit('2'),
                        [vec![stop()], announced("choosing_name", &[])].concat(),
                    ),
                    step(
                        17_000,
                        PlaybackFinished,
                        vec![transfer(ext("31")), timeout(37_000)],
                    ),
                ],
            ]),
        ),
        (
            "choosing: * replays the choices, # spells again without a retry",
            concat(vec![
                spelling(),
                typed(10_000, "6"),
                vec![
                    offered(11_000, "6", &[6, 2, 1]),
                    step(16_000, PlaybackFinished, vec![timeout(22_000)]),
                    step(
                        17_000,
                        Digit('*'),
                        vec![
                            play(&[
                                NamesMatch,
                                DisambiguationOption {
                                    key: '1',
                                    entry: EntryId(6),
                                },
                                DisambiguationOption {
                                    key: '2',
                                    entry: EntryId(2),
                                },
                                DisambiguationOption {
                                    key: '3',
                                    entry: EntryId(1),
                                },
                            ]),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(
                        18_000,
                        Digit('#'),
                        vec![
                            stop(),
                            play(&[SpellName]),
                            changed("choosing_name", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(18_500, PlaybackFinished, vec![timeout(24_500)]),
                ],
                typed(19_000, "6272"),
                vec![step(
                    23_000,
                    Digit('#'),
                    [
                        vec![collected("6272"), searched("6272", &[2])],
                        announced("spelling", &[]),
                    ]
                    .concat(),
                )],
            ]),
        ),
        (
            "choosing: a key not offered spends a retry and asks to spell again",
            concat(vec![
                spelling(),
                typed(10_000, "2"),
                vec![
                    offered(11_000, "2", &[5, 3]),
                    step(
                        12_000,
                        Digit('7'),
                        vec![
                            stop(),
                            invalid("7"),
                            again(InvalidChoice),
                            changed("choosing_name", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                ],
            ]),
        ),
        (
            "choosing: silence spends a retry and asks to spell again",
            concat(vec![
                spelling(),
                typed(10_000, "2"),
                vec![
                    offered(11_000, "2", &[5, 3]),
                    step(14_000, PlaybackFinished, vec![timeout(20_000)]),
                    step(
                        20_000,
                        Timeout,
                        vec![
                            fired(TimerKind::NoInput),
                            again(NoInput),
                            changed("choosing_name", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                ],
            ]),
        ),
        (
            "choosing: 0 is the operator",
            concat(vec![
                spelling(),
                typed(10_000, "2"),
                vec![
                    offered(11_000, "2", &[5, 3]),
                    step(
                        12_000,
                        Digit('0'),
                        [
                            vec![stop(), collected("0")],
                            announced("choosing_name", &[]),
                        ]
                        .concat(),
                    ),
                    step(
                        14_000,
                        PlaybackFinished,
                        vec![transfer(operator()), timeout(34_000)],
                    ),
                ],
            ]),
        ),
        (
            "no match re-prompts, twice, then the operator (t: nobody)",
            concat(vec![
                spelling(),
                typed(10_000, "8"),
                vec![
                    step(
                        11_000,
                        Digit('#'),
                        vec![
                            collected("8"),
                            searched("8", &[]),
                            again(NoNameMatch),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(11_500, PlaybackFinished, vec![timeout(17_500)]),
                ],
                typed(12_000, "4"),
                vec![
                    step(
                        13_000,
                        Digit('#'),
                        vec![
                            collected("4"),
                            searched("4", &[]),
                            again(NoNameMatch),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(13_500, PlaybackFinished, vec![timeout(19_500)]),
                ],
                typed(14_000, "88"),
                vec![
                    step(
                        16_000,
                        Digit('#'),
                        [
                            vec![collected("88"), searched("88", &[])],
                            announced("spelling", &[NoNameMatch]),
                        ]
                        .concat(),
                    ),
                    step(
                        19_000,
                        PlaybackFinished,
                        vec![transfer(operator()), timeout(39_000)],
                    ),
                ],
            ]),
        ),
        (
            "retries are shared with the menu: one menu no-input, then one no-match is the last",
            concat(vec![
                answered_then_menu(5_000),
                vec![
                    step(
                        11_000,
                        Timeout,
                        vec![
                            fired(TimerKind::NoInput),
                            play(&[NoInput, Menu]),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(
                        12_000,
                        Digit('9'),
                        vec![
                            stop(),
                            collected("9"),
                            play(&[SpellName]),
                            changed("menu", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(12_500, PlaybackFinished, vec![timeout(18_500)]),
                ],
                typed(13_000, "8"),
                vec![
                    step(
                        14_000,
                        Digit('#'),
                        vec![
                            collected("8"),
                            searched("8", &[]),
                            again(NoNameMatch),
                            timeout(MAX_MS),
                        ],
                    ),
                    step(14_500, PlaybackFinished, vec![timeout(20_500)]),
                ],
                typed(15_000, "8"),
                vec![step(
                    16_000,
                    Digit('#'),
                    [
                        vec![collected("8"), searched("8", &[])],
                        announced("spelling", &[NoNameMatch]),
                    ]
                    .concat(),
                )],
            ]),
        ),
        (
            "# alone is an invalid choice",
            concat(vec![
                spelling(),
                vec![step(
                    10_000,
                    Digit('#'),
                    vec![
                        collected(""),
                        invalid(""),
                        again(InvalidChoice),
                        timeout(MAX_MS),
                    ],
                )],
            ]),
        ),
        (
            "silence after the prompt re-prompts, and past the retries goes to the operator",
            concat(vec![
                spelling(),
                vec![
                    step(
                        15_000,
                        Timeout,
                        vec![fired(TimerKind::NoInput), again(NoInput), timeout(MAX_MS)],
                    ),
                    step(18_000, PlaybackFinished, vec![timeout(24_000)]),
                    step(
                        24_000,
                        Timeout,
                        vec![fired(TimerKind::NoInput), again(NoInput), timeout(MAX_MS)],
                    ),
                    step(27_000, PlaybackFinished, vec![timeout(33_000)]),
                    step(
                        33_000,
                        Timeout,
                        [
                            vec![fired(TimerKind::NoInput)],
                            announced("spelling", &[NoInput]),
                        ]
                        .concat(),
                    ),
                ],
            ]),
        ),
        (
            "* returns to the menu with no retry spent, digits dropped",
            concat(vec![
                spelling(),
                typed(10_000, "62"),
                vec![
                    step(
                        12_000,
                        Digit('*'),
                        vec![play(&[Menu]), changed("spelling", "menu"), timeout(MAX_MS)],
                    ),
                    step(15_000, PlaybackFinished, vec![timeout(21_000)]),
                    // The menu again: the spell key still works from there.
                    step(
                        16_000,
                        Digit('9'),
                        vec![
                            collected("9"),
                            play(&[SpellName]),
                            changed("menu", "spelling"),
                            timeout(MAX_MS),
                        ],
                    ),
                ],
            ]),
        ),
        (
            "0 goes to the operator, even with digits typed",
            concat(vec![
                spelling(),
                typed(10_000, "6"),
                vec![step(
                    11_000,
                    Digit('0'),
                    [vec![collected("0")], announced("spelling", &[])].concat(),
                )],
            ]),
        ),
        (
            "keys without letters are ignored and change nothing",
            concat(vec![
                spelling(),
                typed(10_000, "6"),
                vec![
                    step(
                        11_000,
                        Digit('1'),
                        vec![ignored("spelling", Digit('1')), timeout(13_000)],
                    ),
                    step(
                        11_500,
                        Digit('A'),
                        vec![ignored("spelling", Digit('A')), timeout(13_000)],
                    ),
                    step(
                        12_000,
                        Digit('#'),
                        vec![
                            collected("6"),
                            searched("6", &[6, 2, 1]),
                            play(&[
                                NamesMatch,
                                DisambiguationOption {
                                    key: '1',
                                    entry: EntryId(6),
                                },
                                DisambiguationOption {
                                    key: '2',
                                    entry: EntryId(2),
                                },
                                DisambiguationOption {
                                    key: '3',
                                    entry: EntryId(1),
                                },
                            ]),
                            changed("spelling", "choosing_name"),
                            timeout(MAX_MS),
                        ],
                    ),
                ],
            ]),
        ),
    ];
    for (name, steps) in cases {
        run_steps(name, spelling_call(), steps);
    }
}

#[test]
fn too_many_matches_ask_for_more_letters() {
    let mut directory = directory();
    // Ten enabled Martins on top of the fixture's two: "627" finds twelve.
    for n in 0..10 {
        let mut martin = directory.entries[0].clone();
        martin.id = EntryId(100 + n);
        martin.display_name = format!("Martin {n}");
        martin.extension = None;
        directory.entries.push(martin);
    }
    let steps = concat(vec![
        spelling(),
        typed(10_000, "627"),
        vec![step(
            13_000,
            Digit('#'),
            vec![
                collected("627"),
                Output::Event(CallEvent::KeypadSearch {
                    digits: "627".into(),
                    entries: [6, 2, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 1]
                        .map(EntryId)
                        .to_vec(),
                }),
                again(TooManyNames),
                timeout(MAX_MS),
            ],
        )],
    ]);
    run_steps(
        "too many",
        spelling_call_on(directory, spelling_settings()),
        steps,
    );
}

/// Returns a disabled entry (4) and a duplicate alongside a real one (1), as a
/// search built from another version might.
#[derive(Debug)]
struct StaleSearch;

impl NameSearch for StaleSearch {
    fn keypad_search(&self, _digits: &str) -> Vec<EntryId> {
        vec![EntryId(4), EntryId(1), EntryId(1), EntryId(99)]
    }
}

#[test]
fn entries_not_enabled_in_the_call_directory_are_never_offered() {
    let mut call = Call::new(t0(), Arc::new(directory()), spelling_settings())
        .with_name_search(Arc::new(StaleSearch));
    assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
    let steps = concat(vec![
        spelling(),
        typed(10_000, "2"),
        vec![step(
            11_000,
            Digit('#'),
            [
                vec![collected("2"), searched("2", &[1])],
                announced("spelling", &[]),
            ]
            .concat(),
        )],
    ]);
    run_steps("stale search", call, steps);
}

#[test]
fn spelling_needs_both_the_key_and_a_search() {
    // The spell key without a search, and a search without the key: `9` is an
    // unknown menu key either way.
    let without_search = Call::new(t0(), Arc::new(directory()), spelling_settings());
    let index = NameIndex::build(&directory()).expect("fixture indexes");
    let without_key =
        Call::new(t0(), Arc::new(directory()), settings()).with_name_search(Arc::new(index));
    for (name, mut call) in [("no search", without_search), ("no key", without_key)] {
        assert!(!call.spelling_active(), "{name}");
        assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
        let mut steps = answered_then_menu(5_000);
        steps.push(step(
            6_000,
            Digit('9'),
            vec![
                collected("9"),
                invalid("9"),
                play(&[InvalidChoice, Menu]),
                timeout(MAX_MS),
            ],
        ));
        run_steps(name, call, steps);
    }
    assert!(spelling_call().spelling_active());
}

#[test]
fn the_spell_key_works_while_speech_asks_for_a_name() {
    let index = NameIndex::build(&directory()).expect("fixture indexes");
    let settings = FlowSettings {
        spell_key: Some(MenuKey::new('9').expect("menu key")),
        ..speech_settings()
    };
    let mut call = Call::new(t0(), Arc::new(directory()), settings)
        .with_speech(Arc::new(ScriptedInterpreter))
        .with_name_search(Arc::new(index));
    assert_eq!(drain(&mut call), vec![timeout(MAX_MS)]);
    let steps = vec![
        step(
            0,
            Answered,
            vec![
                play(&[Greeting, AskName]),
                start_recognition(Names),
                changed("starting", "asking_name"),
                timeout(MAX_MS),
            ],
        ),
        step(
            2_000,
            Digit('9'),
            vec![
                stop(),
                stop_recognition(),
                collected("9"),
                play(&[SpellName]),
                changed("asking_name", "spelling"),
                timeout(MAX_MS),
            ],
        ),
    ];
    run_steps("speech then spell key", call, steps);
}

#[test]
fn menu_keys_accept_only_one_to_nine() {
    let cases = [
        ('1', true),
        ('9', true),
        ('0', false),
        ('*', false),
        ('#', false),
        ('A', false),
    ];
    for (key, valid) in cases {
        assert_eq!(MenuKey::new(key).is_ok(), valid, "{key:?}");
        let parsed: Result<FlowSettings, _> =
            serde_json::from_value(serde_json::json!({ "spell_key": key.to_string() }));
        assert_eq!(parsed.is_ok(), valid, "{key:?} from JSON");
    }
    let parsed: FlowSettings =
        serde_json::from_value(serde_json::json!({ "spell_key": null })).expect("null is off");
    assert_eq!(parsed.spell_key, None);
    assert_eq!(
        serde_json::to_value(spelling_settings()).expect("serializes")["spell_key"],
        serde_json::json!("9")
    );
}
