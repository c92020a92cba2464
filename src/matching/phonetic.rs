//! Phonetic keys: two spellings that sound alike get the same key.
//!
//! - French: [`french_key`], a reduction in the spirit of Soundex-FR/Phonex
//!   (rules listed on the function), written here because no maintained crate
//!   has one.
//! - English: Double Metaphone from the `rphonetic` crate (primary and
//!   alternate codes, both indexed).
//! - Korean: Hangul is already phonetic; the normalised text is the key.
//!
//! Keys are computed word by word and joined by spaces, so "sophie martin"
//! and "martin" keep distinct keys and a multi-word name matches only as a
//! whole.

use rphonetic::DoubleMetaphone;

use crate::directory::Language;

/// The phonetic keys of a normalised text (see [`super::normalize()`]): one key
/// per language today (a list so that a language may index variants). Empty
/// if the text has no letters.
pub fn phonetic_keys(normalized: &str, language: Language) -> Vec<String> {
    let words = normalized.split(' ').filter(|w| !w.is_empty());
    let mut keys = match language {
        Language::Fr => vec![join(words.map(french_key))],
        Language::Ko => vec![join(words.map(str::to_owned))],
        Language::En => {
            // No length cap: the default of 4 would make "Christensen" and
            // "Christopher" collide. Primary codes only: the alternate codes
            // (e.g. Spanish "j" → "A") made "Jon" sound like "Anna".
            let metaphone = DoubleMetaphone::new(None);
            vec![join(words.map(|w| metaphone.double_metaphone(w).primary()))]
        }
    };
    keys.retain(|k| !k.trim().is_empty());
    keys.dedup();
    keys
}

fn join(words: impl Iterator<Item = String>) -> String {
    words
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// French phonetic key of one normalised word (lower case, no accents).
///
/// Rules, applied left to right after letters are deduplicated:
/// 1. double letters count once ("Prodhomme" → "prodhome");
/// 2. digraphs: `ph`→f, `ch`/`sh`/`sch`→ʃ (`S`), `th`→t, `qu`/`q`/`ck`→k,
///    `gn`→ni, `gu`+e/i/y→g;
/// 3. `h` elsewhere is mute;
/// 4. soft consonants: `c`+e/i/y→s, `g`+e/i/y→j, other `c`→k, `x`→ks,
///    `z`→s, `w`→v, `y`→i;
/// 5. vowel groups: `eau`/`au`→o, `ou`→u (`U`), `oi`→wa, `ai`/`ei`→e,
///    `eu`/`oeu`→`E`;
/// 6. nasals (`an am en em`→`A`, `on om`→`O`, `in im ain ein un um`→`I`)
///    when followed by a consonant other than n/m, or at the end of the word;
/// 7. a final mute `e` (or `es`) is dropped; if the word did not end in
///    `e`, one final mute `s t d x z` is dropped instead ("Dupont" = "Dupond",
///    "Thomas" = "Tomas", "Devaux" = "Devau", but "Lamotte" keeps its t);
/// 8. a final `er`/`ez` becomes `e` ("Gauthier" = "Gautié").
///
/// Upper-case letters in the key stand for sounds the alphabet lacks.
pub fn french_key(word: &str) -> String {
    let mut letters: Vec<char> = Vec::with_capacity(word.len());
    for c in word.chars() {
        if letters.last() != Some(&c) {
            letters.push(c);
        }
    }
    let at = |i: usize| letters.get(i).copied();
    let ends_with_e = letters.last() == Some(&'e') || letters.ends_with(&['e', 's']);
    let mut out = String::with_capacity(letters.len());
    let mut i = 0;
    while i < letters.len() {
        let c = letters[i];
        let next = at(i + 1);
        let after = at(i + 2);
        let nasal_follows = |j: usize| match at(j) {
            None => true,
            Some(n) => !is_vowel(n) && n != 'n' && n != 'm' && n != 'h',
        };
        let (sound, used): (&str, usize) = match (c, next, after) {
            ('s', Some('c'), Some('h')) => ("S", 3),
            ('p', Some('h'), _) => ("f", 2),
            ('c' | 's', Some('h'), _) => ("S", 2),
            ('t', Some('h'), _) => ("t", 2),
            ('q', Some('u'), _) | ('c', Some('k'), _) => ("k", 2),
            ('q', _, _) => ("k", 1),
            ('g', Some('n'), _) => ("ni", 2),
            ('g', Some('u'), Some('e' | 'i' | 'y')) => ("g", 2),
            ('c', Some('e' | 'i' | 'y'), _) => ("s", 1),
            ('g', Some('e' | 'i' | 'y'), _) => ("j", 1),
            ('c', _, _) => ("k", 1),
            ('x', None, _) => ("", 1),
            ('x', _, _) => ("ks", 1),
            ('z', _, _) => ("s", 1),
            ('w', _, _) => ("v", 1),
            ('h', _, _) => ("", 1),
            ('e', Some('a'), Some('u')) => ("o", 3),
            ('a', Some('u'), _) => ("o", 2),
            ('o', Some('e'), Some('u')) => ("E", 3),
            ('a' | 'e', Some('i'), Some('n' | 'm')) if nasal_follows(i + 3) => ("I", 3),
            ('o', Some('u'), _) => ("U", 2),
            ('o', Some('i'), _) => ("wa", 2),
            ('a' | 'e', Some('i'), _) => ("e", 2),
            ('e', Some('u'), _) => ("E", 2),
            ('a' | 'e', Some('n' | 'm'), _) if nasal_follows(i + 2) => ("A", 2),
            ('o', Some('n' | 'm'), _) if nasal_follows(i + 2) => ("O", 2),
            ('i' | 'y' | 'u', Some('n' | 'm'), _) if nasal_follows(i + 2) => ("I", 2),
            ('y', _, _) => ("i", 1),
            _ => ("", 0),
        };
        if used == 0 {
            out.push(c);
            i += 1;
        } else {
            out.push_str(sound);
            i += used;
        }
    }
    // Rules 7 and 8.
    if (letters.ends_with(&['e', 'r']) || letters.ends_with(&['e', 'z'])) && out.len() > 2 {
        // "er"/"ez" (z already turned into s): keep the e, drop the consonant.
        out.pop();
    } else if ends_with_e {
        let cut = if out.ends_with("es") {
            2
        } else if out.ends_with('e') {
            1
        } else {
            0
        };
        if out.len() > cut {
            out.truncate(out.len() - cut);
        }
    } else if out.len() > 1 && out.ends_with(['s', 't', 'd', 'z']) {
        out.pop();
    }
    // Letters merged by the rules ("ss" from "sc" + "s") count once as well.
    let mut key = String::with_capacity(out.len());
    for c in out.chars() {
        if !key.ends_with(c) {
            key.push(c);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    //! Which French spellings share a key, which do not; English Double
    //! Metaphone through `phonetic_keys`.
    use super::*;

    #[test]
    fn french_spellings_that_sound_alike_share_a_key() {
        let same = [
            ("prodhomme", "prodome"),
            ("dupont", "dupond"),
            ("thomas", "tomas"),
            ("philippe", "filip"),
            ("fontaine", "fontene"),
            ("gauthier", "gautier"),
            ("gauthier", "gothier"),
            ("caroline", "karoline"),
            ("mathieu", "matthieu"),
            ("herve", "erve"),
            ("lefevre", "lefaivre"),
            ("renaud", "reno"),
            ("devaux", "deveau"),
            ("moreau", "moro"),
            ("giraud", "jiro"),
            ("chevalier", "schevalier"),
        ];
        for (a, b) in same {
            assert_eq!(french_key(a), french_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn french_spellings_that_sound_different_differ() {
        let different = [
            ("martin", "martine"),
            ("dupont", "dupuis"),
            ("lamotte", "lamo"),
            ("bernard", "renard"),
            ("petit", "petitjean"),
        ];
        for (a, b) in different {
            assert_ne!(french_key(a), french_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn keys_by_language() {
        assert_eq!(
            phonetic_keys("sophie martin", Language::Fr),
            vec![french_key("sophie") + " " + &french_key("martin")]
        );
        assert_eq!(
            phonetic_keys("김민수", Language::Ko),
            vec!["김민수".to_owned()]
        );
        // Double Metaphone: "Smith" and "Smyth" share the primary code.
        let smith = phonetic_keys("smith", Language::En);
        let smyth = phonetic_keys("smyth", Language::En);
        assert_eq!(smith[0], smyth[0]);
        assert!(phonetic_keys("", Language::Fr).is_empty());
    }
}
