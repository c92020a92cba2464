//! What a store's callers may say, engine-neutral, and its two text forms.
//!
//! [`GrammarSpec::from_directory`] collects the spoken forms of a store's
//! directory (display names, aliases, departments), the carrier phrases around
//! them ("je voudrais parler à …") and the yes/no words of confirmations. Each
//! engine then keeps the phrases it can recognise and serialises them with
//! [`vosk_json`] (a JSON array, escaped by serde_json) or [`jsgf`] (JSGF).

use std::collections::BTreeSet;

use crate::directory::{Directory, EntryId, Language};

/// What saying a phrase means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meaning {
    /// A person's or department's display name or alias.
    Entry(EntryId),
    /// A department name (`Entry::department`): the entries of that department.
    Department(String),
    /// Confirmation: yes.
    Yes,
    /// Confirmation: no.
    No,
    /// "Operator", "a person": the caller wants the store's operator.
    Operator,
    /// "Repeat", "help": the caller wants the question again.
    Help,
    /// Words around a name ("je voudrais parler à …"); never said alone.
    Carrier,
}

/// One spoken form, normalised by [`normalize`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phrase {
    /// Words separated by single spaces, as [`normalize`] writes them.
    pub text: String,
    /// What saying it means.
    pub meaning: Meaning,
}

/// Words said around a name: `before NAME after`; either part may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    /// Words said before the name (normalised), or empty.
    pub before: String,
    /// Words said after the name (normalised), or empty.
    pub after: String,
}

impl Carrier {
    /// The carrier as one phrase (`before … after`), for reports.
    pub fn as_phrase(&self) -> Phrase {
        let text = [self.before.as_str(), "…", self.after.as_str()]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Phrase {
            text,
            meaning: Meaning::Carrier,
        }
    }

    /// Every word of the carrier.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.before
            .split(' ')
            .chain(self.after.split(' '))
            .filter(|w| !w.is_empty())
    }
}

/// A language's fixed phrases: carriers and confirmation words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockPhrases {
    /// Words said around a name.
    pub carriers: Vec<Carrier>,
    /// Ways to say yes to "Did you mean …?".
    pub yes: Vec<String>,
    /// Ways to say no.
    pub no: Vec<String>,
    /// Ways to ask for the operator, said alone or in a carrier ("can i speak
    /// to someone").
    pub operator: Vec<String>,
    /// Ways to ask for the question again.
    pub help: Vec<String>,
}

/// The fixed phrases of a language.
///
/// Stand-in until `crate::matching` publishes `carrier_phrases`, `yes_words` and
/// `no_words`: this is the one place to swap for them, so recognition and matching
/// agree on one table.
pub fn stock_phrases(language: Language) -> StockPhrases {
    fn carriers(list: &[(&str, &str)]) -> Vec<Carrier> {
        list.iter()
            .map(|(before, after)| Carrier {
                before: normalize(before),
                after: normalize(after),
            })
            .collect()
    }
    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| normalize(w)).collect()
    }
    match language {
        Language::Fr => StockPhrases {
            carriers: carriers(&[
                ("je voudrais parler à", ""),
                ("je voudrais", ""),
                ("passez-moi", ""),
                ("", "s'il vous plaît"),
            ]),
            yes: words(&["oui", "ouais", "exactement", "c'est ça"]),
            no: words(&["non", "pas du tout"]),
            operator: words(&["standard", "accueil", "quelqu'un", "une personne", "l'opérateur"]),
            help: words(&["répéter", "répétez", "aide"]),
        },
        Language::En => StockPhrases {
            carriers: carriers(&[
                ("i would like to speak to", ""),
                ("can i speak to", ""),
                ("", "please"),
            ]),
            yes: words(&["yes", "yeah", "correct"]),
            no: words(&["no", "nope"]),
            operator: words(&["operator", "reception", "someone", "a person", "the operator"]),
            help: words(&["repeat", "help"]),
        },
        Language::Ko => StockPhrases {
            // Checked against the Korean model's vocabulary: "부탁합니다" and
            // "맞아요" are not words of it, "부탁드립니다" and "맞아" are.
            carriers: carriers(&[("", "부탁드립니다"), ("", "바꿔 주세요")]),
            yes: words(&["네", "예", "맞아"]),
            no: words(&["아니요", "아니오"]),
            // Not yet checked against the Korean model's vocabulary: none.
            operator: Vec::new(),
            help: Vec::new(),
        },
    }
}

/// Normalises a spoken form: lower case, sentence punctuation dropped, single spaces.
///
/// Characters that could matter to a name (`'`, `-`, letters of any script) are
/// kept; anything else stays too, so that an engine reports the word as unknown
/// instead of the grammar silently changing it.
pub fn normalize(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything a store's callers may say, before any engine has checked the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarSpec {
    /// The store's language: the engine's model must match it.
    pub language: Language,
    /// Names, aliases, departments, yes and no: sorted, without duplicates. Two
    /// entries may share a text (homonyms); engines keep the text once.
    pub phrases: Vec<Phrase>,
    /// Carriers allowed around names and departments.
    pub carriers: Vec<Carrier>,
}

impl GrammarSpec {
    /// The grammar of a store: its enabled entries' names, aliases and departments,
    /// with the stock carriers and yes/no words of its language.
    pub fn from_directory(directory: &Directory) -> Self {
        let language = directory.store.language;
        let mut phrases = BTreeSet::new();
        for entry in directory.entries.iter().filter(|e| e.enabled) {
            for form in std::iter::once(&entry.display_name).chain(&entry.aliases) {
                phrases.insert(Phrase {
                    text: normalize(form),
                    meaning: Meaning::Entry(entry.id),
                });
            }
            if let Some(department) = &entry.department {
                let text = normalize(department);
                phrases.insert(Phrase {
                    meaning: Meaning::Department(text.clone()),
                    text,
                });
            }
        }
        Self::new(language, phrases)
    }

    /// A grammar of the given names (meaning [`Meaning::Entry`] each) plus the
    /// stock carriers and yes/no words of `language`.
    pub fn new(language: Language, names: impl IntoIterator<Item = Phrase>) -> Self {
        let stock = stock_phrases(language);
        let mut phrases: BTreeSet<Phrase> =
            names.into_iter().filter(|p| !p.text.is_empty()).collect();
        phrases.extend(stock.yes.into_iter().map(|text| Phrase {
            text,
            meaning: Meaning::Yes,
        }));
        phrases.extend(stock.no.into_iter().map(|text| Phrase {
            text,
            meaning: Meaning::No,
        }));
        phrases.extend(stock.operator.into_iter().map(|text| Phrase {
            text,
            meaning: Meaning::Operator,
        }));
        phrases.extend(stock.help.into_iter().map(|text| Phrase {
            text,
            meaning: Meaning::Help,
        }));
        Self {
            language,
            phrases: phrases.into_iter().collect(),
            carriers: stock.carriers,
        }
    }

    /// Every distinct word of the grammar (phrases and carriers).
    pub fn words(&self) -> BTreeSet<&str> {
        self.phrases
            .iter()
            .flat_map(|p| p.text.split(' '))
            .chain(self.carriers.iter().flat_map(Carrier::words))
            .collect()
    }
}

/// The meanings of a recognised sentence: every phrase it is, alone or inside a
/// carrier (several for homonyms); empty if the text is no sentence of the grammar.
pub fn meanings_of<'a>(
    text: &str,
    phrases: &'a [Phrase],
    carriers: &[Carrier],
) -> Vec<&'a Meaning> {
    let mut out: Vec<&Meaning> = Vec::new();
    for phrase in phrases {
        let matches = phrase.text == text
            || (takes_carriers(&phrase.meaning)
                && carriers.iter().any(|c| {
                    let parts = [c.before.as_str(), phrase.text.as_str(), c.after.as_str()];
                    parts
                        .iter()
                        .filter(|p| !p.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ")
                        == text
                }));
        if matches && !out.contains(&&phrase.meaning) {
            out.push(&phrase.meaning);
        }
    }
    out
}

/// True when `phrase` is said around names (entries and departments) with carriers.
fn takes_carriers(meaning: &Meaning) -> bool {
    matches!(
        meaning,
        Meaning::Entry(_) | Meaning::Department(_) | Meaning::Operator
    )
}

/// Every complete sentence of a grammar: each phrase, and each name or
/// department inside each carrier. What Vosk gets as its phrase list, and what a
/// PocketSphinx N-best entry must be to count as an alternative.
pub fn sentences(phrases: &[Phrase], carriers: &[Carrier]) -> BTreeSet<String> {
    let mut texts = BTreeSet::new();
    for phrase in phrases {
        texts.insert(phrase.text.clone());
        if takes_carriers(&phrase.meaning) {
            for carrier in carriers {
                let parts = [
                    carrier.before.as_str(),
                    phrase.text.as_str(),
                    carrier.after.as_str(),
                ];
                texts.insert(
                    parts
                        .iter()
                        .filter(|p| !p.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
        }
    }
    texts
}

/// The Vosk form: [`sentences`] as a JSON array of strings. serde_json escapes
/// `"`, `\` and control characters, which the `vosk` crate's own grammar builder
/// does not.
pub fn vosk_json(phrases: &[Phrase], carriers: &[Carrier]) -> String {
    // Serialising a set of strings cannot fail: no map keys, no custom Serialize.
    serde_json::to_string(&sentences(phrases, carriers))
        .expect("a list of strings always serialises")
}

/// Characters a JSGF token may hold here: letters of any script, digits, `'`, `-`.
///
/// JSGF reserves `<>()[]{}|*+/;=` and quotes; PocketSphinx's parser does not
/// unescape quoted tokens, so a word with any other character cannot be written as
/// a token at all and must be reported instead.
pub fn is_jsgf_token(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '\'' || c == '-')
}

/// The PocketSphinx form: one public rule `<utterance>` over names (bare or in
/// carriers) and yes/no words. Every word must pass [`is_jsgf_token`]; the engine
/// has already rejected phrases with other words.
pub fn jsgf(phrases: &[Phrase], carriers: &[Carrier]) -> String {
    let alternatives = |filter: &dyn Fn(&Meaning) -> bool| {
        let texts: BTreeSet<&str> = phrases
            .iter()
            .filter(|p| filter(&p.meaning))
            .map(|p| p.text.as_str())
            .collect();
        texts.into_iter().collect::<Vec<_>>().join("\n    | ")
    };
    let names = alternatives(&takes_carriers);
    let yes = alternatives(&|m| *m == Meaning::Yes);
    let no = alternatives(&|m| *m == Meaning::No);
    let help = alternatives(&|m| *m == Meaning::Help);

    let mut top = Vec::new();
    let mut rules = String::new();
    if !names.is_empty() {
        let mut request = vec!["<name>".to_string()];
        for carrier in carriers {
            let parts = [carrier.before.as_str(), "<name>", carrier.after.as_str()];
            request.push(format!(
                "( {} )",
                parts
                    .iter()
                    .filter(|p| !p.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        top.push("<request>");
        rules.push_str(&format!(
            "<request> = {};\n<name> = {names};\n",
            request.join("\n    | ")
        ));
    }
    if !yes.is_empty() {
        top.push("<yes>");
        rules.push_str(&format!("<yes> = {yes};\n"));
    }
    if !no.is_empty() {
        top.push("<no>");
        rules.push_str(&format!("<no> = {no};\n"));
    }
    if !help.is_empty() {
        top.push("<help>");
        rules.push_str(&format!("<help> = {help};\n"));
    }
    format!(
        "#JSGF V1.0;\ngrammar attendant;\npublic <utterance> = {};\n{rules}",
        top.join(" | ")
    )
}

#[cfg(test)]
mod tests {
    //! Grammar building: normalisation, directory collection, and both text forms'
    //! escaping.
    use super::*;
    use crate::directory::{DirectoryVersion, Entry, Store, StoreId, TransferTarget};

    fn entry(
        id: i64,
        name: &str,
        aliases: &[&str],
        department: Option<&str>,
        enabled: bool,
    ) -> Entry {
        Entry {
            id: EntryId(id),
            display_name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            department: department.map(Into::into),
            extension: None,
            target: TransferTarget::Extension(format!("{id}")),
            fallback: None,
            enabled,
        }
    }

    fn directory(language: Language, entries: Vec<Entry>) -> Directory {
        Directory {
            store: Store {
                id: StoreId(1),
                name: "test".into(),
                number: "100".into(),
                language,
                operator: TransferTarget::Extension("9".into()),
            },
            version: DirectoryVersion(1),
            entries,
            menu: vec![],
        }
    }

    #[test]
    fn normalize_cases() {
        let cases = [
            ("Sophie  Martin", "sophie martin"),
            ("  Hervé PRODHOMME. ", "hervé prodhomme"),
            (
                "Jean-Pierre (caisse), accueil!",
                "jean-pierre caisse accueil",
            ),
            ("L'Épicerie", "l'épicerie"),
            ("Anne \"Nanou\" D\\Arc", "anne \"nanou\" d\\arc"),
            ("김민준", "김민준"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "normalize({input:?})");
        }
    }

    #[test]
    fn from_directory_collects_names_aliases_departments_and_skips_disabled() {
        let dir = directory(
            Language::En,
            vec![
                entry(1, "Sophie Martin", &["Sophie"], Some("Bakery"), true),
                entry(2, "Paul Martin", &[], Some("Bakery"), true),
                entry(3, "Gone Person", &[], None, false),
            ],
        );
        let spec = GrammarSpec::from_directory(&dir);
        let has = |text: &str, meaning: Meaning| {
            spec.phrases.contains(&Phrase {
                text: text.into(),
                meaning,
            })
        };
        assert!(has("sophie martin", Meaning::Entry(EntryId(1))));
        assert!(has("sophie", Meaning::Entry(EntryId(1))));
        assert!(has("paul martin", Meaning::Entry(EntryId(2))));
        assert!(has("bakery", Meaning::Department("bakery".into())));
        assert!(has("yes", Meaning::Yes));
        assert!(has("no", Meaning::No));
        assert!(
            !spec.phrases.iter().any(|p| p.text.contains("gone")),
            "disabled entry left out"
        );
        assert_eq!(
            spec.phrases.iter().filter(|p| p.text == "bakery").count(),
            1,
            "department once"
        );
        assert!(
            spec.words().contains("speak"),
            "carrier words are grammar words"
        );
    }

    #[test]
    fn vosk_json_escapes_quotes_and_backslashes_and_expands_carriers() {
        let phrases = vec![
            Phrase {
                text: "anne \"nanou\" d\\arc".into(),
                meaning: Meaning::Entry(EntryId(1)),
            },
            Phrase {
                text: "yes".into(),
                meaning: Meaning::Yes,
            },
        ];
        let carriers = vec![Carrier {
            before: "can i speak to".into(),
            after: String::new(),
        }];
        let json = vosk_json(&phrases, &carriers);
        let parsed: Vec<String> = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(
            parsed,
            vec![
                "anne \"nanou\" d\\arc",
                "can i speak to anne \"nanou\" d\\arc",
                "yes"
            ],
            "round trip keeps the exact text; yes takes no carrier"
        );
    }

    #[test]
    fn meanings_of_sentences() {
        let phrases = vec![
            Phrase {
                text: "paul martin".into(),
                meaning: Meaning::Entry(EntryId(1)),
            },
            Phrase {
                text: "paul martin".into(),
                meaning: Meaning::Entry(EntryId(2)),
            },
            Phrase {
                text: "yes".into(),
                meaning: Meaning::Yes,
            },
        ];
        let carriers = vec![Carrier {
            before: "can i speak to".into(),
            after: String::new(),
        }];
        let cases: [(&str, Vec<Meaning>); 4] = [
            (
                "paul martin",
                vec![Meaning::Entry(EntryId(1)), Meaning::Entry(EntryId(2))],
            ),
            (
                "can i speak to paul martin",
                vec![Meaning::Entry(EntryId(1)), Meaning::Entry(EntryId(2))],
            ),
            ("yes", vec![Meaning::Yes]),
            ("can i speak to yes", vec![]),
        ];
        for (text, expected) in cases {
            let got: Vec<Meaning> = meanings_of(text, &phrases, &carriers)
                .into_iter()
                .cloned()
                .collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn jsgf_tokens() {
        let cases = [
            ("martin", true),
            ("o'brien", true),
            ("jean-pierre", true),
            ("hervé", true),
            ("\"nanou\"", false),
            ("d\\arc", false),
            ("a|b", false),
            ("<x>", false),
            ("", false),
        ];
        for (word, ok) in cases {
            assert_eq!(is_jsgf_token(word), ok, "is_jsgf_token({word:?})");
        }
    }

    #[test]
    fn jsgf_has_rules_for_names_carriers_yes_and_no() {
        let phrases = vec![
            Phrase {
                text: "sophie martin".into(),
                meaning: Meaning::Entry(EntryId(1)),
            },
            Phrase {
                text: "bakery".into(),
                meaning: Meaning::Department("bakery".into()),
            },
            Phrase {
                text: "yes".into(),
                meaning: Meaning::Yes,
            },
        ];
        let carriers = vec![Carrier {
            before: String::new(),
            after: "please".into(),
        }];
        let text = jsgf(&phrases, &carriers);
        assert!(
            text.starts_with(
                "#JSGF V1.0;\ngrammar attendant;\npublic <utterance> = <request> | <yes>;\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("<request> = <name>\n    | ( <name> please );"),
            "{text}"
        );
        assert!(
            text.contains("<name> = bakery\n    | sophie martin;"),
            "{text}"
        );
        assert!(text.contains("<yes> = yes;"), "{text}");
        assert!(!text.contains("<no>"), "no rule without no words: {text}");
    }
}
