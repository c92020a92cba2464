//! Carrier phrases ("je voudrais parler à …") and yes/no words, per language.
//!
//! Defined once here: the matcher strips the carrier phrases before looking a
//! name up, and the grammar builder adds the same phrases around the names so
//! the recogniser expects them. Phrases are written as people spell them
//! (accents, apostrophes): the grammar needs the real words, and the matcher
//! compares them after [`normalize`].

use std::sync::LazyLock;

use crate::directory::Language;

use super::normalize::normalize;

/// Words that surround a name in a request and carry no part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarrierPhrases {
    /// May precede the name ("can I talk to", "le rayon"); several may follow
    /// one another ("bonjour, je voudrais parler à monsieur …").
    pub prefixes: &'static [&'static str],
    /// May follow the name ("please", "s'il vous plaît").
    pub suffixes: &'static [&'static str],
    /// Hesitations stripped at either end ("euh", "um").
    pub fillers: &'static [&'static str],
}

/// French carrier phrases.
pub const FRENCH: CarrierPhrases = CarrierPhrases {
    prefixes: &[
        "bonjour",
        "bonsoir",
        "allô",
        "oui",
        "je voudrais parler à",
        "je voudrais parler au",
        "je voudrais parler avec",
        "je voudrais joindre",
        "je voudrais avoir",
        "je voudrais le",
        "je voudrais la",
        "je voudrais",
        "je souhaiterais parler à",
        "je souhaite parler à",
        "je veux parler à",
        "j'aimerais parler à",
        "j'aimerais joindre",
        "je cherche",
        "pourrais-je parler à",
        "est-ce que je peux parler à",
        "puis-je parler à",
        "passez-moi",
        "passez-moi le",
        "passez-moi la",
        "pouvez-vous me passer",
        "vous pouvez me passer",
        "mettez-moi en relation avec",
        "le service",
        "le rayon",
        "la rayon",
        "rayon",
        "service",
        "monsieur",
        "madame",
        "mademoiselle",
        "le",
        "la",
        "les",
        "l'",
        "au",
        "à la",
        "à l'",
        "à",
    ],
    suffixes: &[
        "s'il vous plaît",
        "s'il vous plait",
        "s'il te plaît",
        "svp",
        "merci",
        "merci beaucoup",
        "s'il vous plaît merci",
        "c'est urgent",
        "au revoir",
    ],
    fillers: &["euh", "heu", "hum", "ben", "bah", "alors", "donc"],
};

/// English carrier phrases.
pub const ENGLISH: CarrierPhrases = CarrierPhrases {
    prefixes: &[
        "hello",
        "hi",
        "yes",
        "good morning",
        "good afternoon",
        "i'd like to speak to",
        "i'd like to speak with",
        "i would like to speak to",
        "i would like to speak with",
        "i'd like to talk to",
        "i want to speak to",
        "i want to talk to",
        "i need to speak to",
        "i'm looking for",
        "i am looking for",
        "can i talk to",
        "can i speak to",
        "can i speak with",
        "could i speak to",
        "could i talk to",
        "may i speak to",
        "put me through to",
        "connect me to",
        "connect me with",
        "transfer me to",
        "get me",
        "the",
        "mister",
        "mr",
        "mrs",
        "ms",
        "miss",
        "doctor",
        "dr",
    ],
    suffixes: &[
        "please",
        "thank you",
        "thanks",
        "department",
        "desk",
        "please thank you",
    ],
    fillers: &["uh", "um", "er", "erm", "hmm", "so", "well"],
};

/// Korean carrier phrases. Korean is agglutinative: "…씨 부탁합니다" / "…좀 바꿔
/// 주세요" follow the name as separate words in recogniser output.
pub const KOREAN: CarrierPhrases = CarrierPhrases {
    prefixes: &["여보세요", "안녕하세요", "저기요"],
    suffixes: &[
        "씨",
        "님",
        "부탁합니다",
        "부탁드립니다",
        "바꿔 주세요",
        "바꿔주세요",
        "좀 바꿔 주세요",
        "좀 바꿔주세요",
        "연결해 주세요",
        "연결해주세요",
        "좀",
    ],
    fillers: &["음", "어", "저"],
};

/// The carrier phrases of `language`.
pub fn carrier_phrases(language: Language) -> &'static CarrierPhrases {
    match language {
        Language::Fr => &FRENCH,
        Language::En => &ENGLISH,
        Language::Ko => &KOREAN,
    }
}

/// Words meaning "yes" in French (phrases allowed, written as spoken).
pub const FRENCH_YES: &[&str] = &[
    "oui",
    "ouais",
    "ouai",
    "si",
    "exact",
    "exactement",
    "c'est ça",
    "c'est bien ça",
    "d'accord",
    "pas de souci",
    "pas de problème",
    "sans problème",
    "ok",
    "okay",
    "tout à fait",
    "bien sûr",
    "absolument",
    "voilà",
    "parfait",
    "affirmatif",
];

/// Words meaning "no" in French.
pub const FRENCH_NO: &[&str] = &[
    "non",
    "pas",
    "pas du tout",
    "c'est pas ça",
    "ce n'est pas ça",
    "erreur",
    "négatif",
    "jamais",
    "aucun",
    "mauvais",
];

/// Words meaning "yes" in English.
pub const ENGLISH_YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "correct",
    "right",
    "that's right",
    "that's it",
    "exactly",
    "ok",
    "okay",
    "absolutely",
    "affirmative",
    "of course",
];

/// Words meaning "no" in English.
pub const ENGLISH_NO: &[&str] = &[
    "no",
    "nope",
    "nah",
    "not",
    "wrong",
    "incorrect",
    "negative",
    "that's not it",
    "not right",
    "that's wrong",
    "don't",
];

/// Words meaning "yes" in Korean.
pub const KOREAN_YES: &[&str] = &["네", "예", "응", "맞아요", "맞습니다", "그래요", "좋아요"];

/// Words meaning "no" in Korean.
pub const KOREAN_NO: &[&str] = &["아니요", "아니오", "아니", "아니에요", "틀려요", "아닙니다"];

/// Words and phrases meaning "yes" in `language`.
pub fn yes_words(language: Language) -> &'static [&'static str] {
    match language {
        Language::Fr => FRENCH_YES,
        Language::En => ENGLISH_YES,
        Language::Ko => KOREAN_YES,
    }
}

/// Words and phrases meaning "no" in `language`.
pub fn no_words(language: Language) -> &'static [&'static str] {
    match language {
        Language::Fr => FRENCH_NO,
        Language::En => ENGLISH_NO,
        Language::Ko => KOREAN_NO,
    }
}

/// A list of phrases normalised and split into words, longest first so that
/// "je voudrais parler à" is stripped before "je voudrais".
type WordLists = Vec<Vec<String>>;

fn prepare(phrases: &[&str]) -> WordLists {
    let mut lists: WordLists = phrases
        .iter()
        .map(|p| {
            normalize(p)
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|words| words.iter().all(|w| !w.is_empty()))
        .collect();
    lists.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    lists.dedup();
    lists
}

/// Normalised tables for one language, computed on first use.
struct Prepared {
    prefixes: WordLists,
    suffixes: WordLists,
    /// Yes and no phrases together (`true` for yes), longest first.
    yes_no: Vec<(Vec<String>, bool)>,
}

impl Prepared {
    fn new(language: Language) -> Self {
        let carrier = carrier_phrases(language);
        let mut prefixes = carrier.prefixes.to_vec();
        prefixes.extend_from_slice(carrier.fillers);
        let mut suffixes = carrier.suffixes.to_vec();
        suffixes.extend_from_slice(carrier.fillers);
        Self {
            prefixes: prepare(&prefixes),
            suffixes: prepare(&suffixes),
            yes_no: {
                let mut both: Vec<(Vec<String>, bool)> = prepare(yes_words(language))
                    .into_iter()
                    .map(|p| (p, true))
                    .chain(prepare(no_words(language)).into_iter().map(|p| (p, false)))
                    .collect();
                both.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
                both
            },
        }
    }
}

static PREPARED_FR: LazyLock<Prepared> = LazyLock::new(|| Prepared::new(Language::Fr));
static PREPARED_EN: LazyLock<Prepared> = LazyLock::new(|| Prepared::new(Language::En));
static PREPARED_KO: LazyLock<Prepared> = LazyLock::new(|| Prepared::new(Language::Ko));

fn prepared(language: Language) -> &'static Prepared {
    match language {
        Language::Fr => &PREPARED_FR,
        Language::En => &PREPARED_EN,
        Language::Ko => &PREPARED_KO,
    }
}

/// Removes leading and trailing carrier phrases and fillers from normalised
/// `words`, repeatedly ("euh bonjour je voudrais parler à monsieur martin
/// s'il vous plaît merci" → "martin"). Never strips everything: if only
/// carrier words remain, the last of them is kept as the query, since a
/// name can also be a common word.
pub fn strip_carrier<'a>(words: &'a [&'a str], language: Language) -> &'a [&'a str] {
    let tables = prepared(language);
    let mut rest = words;
    loop {
        let before = rest.len();
        if let Some(p) = tables
            .prefixes
            .iter()
            .find(|p| p.len() < rest.len() && rest.iter().zip(p.iter()).all(|(w, p)| w == p))
        {
            rest = &rest[p.len()..];
        }
        if let Some(s) = tables.suffixes.iter().find(|s| {
            s.len() < rest.len()
                && rest[rest.len() - s.len()..]
                    .iter()
                    .zip(s.iter())
                    .all(|(w, s)| w == s)
        }) {
            rest = &rest[..rest.len() - s.len()];
        }
        if rest.len() == before {
            return rest;
        }
    }
}

/// Reads a yes or a no in one utterance's normalised words: `Some(true)` if
/// it holds a yes phrase and no no phrase, `Some(false)` for the reverse,
/// `None` if it holds neither or both ("oui… non").
///
/// Longer phrases are matched first and their words then ignored, so a
/// phrase wins over the words inside it: "pas de souci" is a yes although
/// "pas" alone is a no, "not right" a no although "right" alone is a yes.
pub(crate) fn yes_no_of_words(words: &[&str], language: Language) -> Option<bool> {
    let tables = prepared(language);
    let mut remaining: Vec<&str> = words.to_vec();
    let (mut yes, mut no) = (false, false);
    for (phrase, is_yes) in &tables.yes_no {
        while let Some(at) = remaining
            .windows(phrase.len())
            .position(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
        {
            if *is_yes {
                yes = true;
            } else {
                no = true;
            }
            for w in &mut remaining[at..at + phrase.len()] {
                *w = "";
            }
        }
    }
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! Carrier-phrase stripping and yes/no reading, per language.
    use super::*;

    fn strip(text: &str, language: Language) -> String {
        let norm = normalize(text);
        let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
        strip_carrier(&words, language).join(" ")
    }

    #[test]
    fn strips_carrier_phrases() {
        let cases = [
            (
                Language::Fr,
                "je voudrais parler à Sophie Martin",
                "sophie martin",
            ),
            (
                Language::Fr,
                "Euh bonjour, je voudrais parler à monsieur Martin s'il vous plaît, merci",
                "martin",
            ),
            (Language::Fr, "passez-moi le rayon bricolage", "bricolage"),
            (Language::Fr, "l'accueil s'il vous plaît", "accueil"),
            (Language::Fr, "Martin", "martin"),
            (Language::Fr, "merci", "merci"),
            (Language::Fr, "le rayon", "rayon"),
            (
                Language::En,
                "I'd like to speak to John Smith please",
                "john smith",
            ),
            (Language::En, "um can I talk to the bakery thanks", "bakery"),
            (Language::En, "smith", "smith"),
            (Language::Ko, "김민수 씨 좀 바꿔 주세요", "김민수"),
        ];
        for (language, input, expected) in cases {
            assert_eq!(strip(input, language), expected, "{language:?} {input:?}");
        }
    }

    #[test]
    fn reads_yes_and_no() {
        let cases = [
            (Language::Fr, "oui", Some(true)),
            (Language::Fr, "oui merci", Some(true)),
            (Language::Fr, "c'est ça", Some(true)),
            (Language::Fr, "tout à fait", Some(true)),
            (Language::Fr, "non", Some(false)),
            (Language::Fr, "non merci", Some(false)),
            (Language::Fr, "c'est pas ça", Some(false)),
            (Language::Fr, "pas du tout", Some(false)),
            (Language::Fr, "oui pas de souci", Some(true)),
            (Language::Fr, "pas de problème", Some(true)),
            (Language::En, "no that's not right", Some(false)),
            (Language::Fr, "oui non", None),
            (Language::Fr, "martin", None),
            (Language::En, "yes please", Some(true)),
            (Language::En, "yeah that's right", Some(true)),
            (Language::En, "no", Some(false)),
            (Language::En, "nope that's not it", Some(false)),
            (Language::En, "the bakery", None),
            (Language::Ko, "네 맞아요", Some(true)),
            (Language::Ko, "아니요", Some(false)),
        ];
        for (language, input, expected) in cases {
            let norm = normalize(input);
            let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
            assert_eq!(
                yes_no_of_words(&words, language),
                expected,
                "{language:?} {input:?}"
            );
        }
    }
}
