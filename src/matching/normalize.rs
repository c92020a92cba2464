//! Text normalisation shared by the index, the queries and the keypad encoding.
//!
//! The same function is applied to directory names and to what the recogniser
//! returned, so the two sides meet on one spelling: lower case, no accents, no
//! punctuation, single spaces.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalises a spoken or written name: lower case, accents removed, every
/// character that is neither a letter nor a digit turned into a space, runs of
/// spaces collapsed, no leading or trailing space.
///
/// Accents are removed by canonical decomposition (NFD), dropping combining
/// marks, then recomposition (NFC): the recomposition matters for Hangul,
/// whose syllables NFD splits into jamo that are letters, not marks.
/// Ligatures that NFD leaves alone (`œ`, `æ`, `ß`) are spelled out, as French
/// and German names use them and recognisers spell them both ways.
///
/// ```
/// use attendant::matching::normalize;
/// assert_eq!(normalize("  Hervé  L'Œillet-Prud'homme "), "herve l oeillet prud homme");
/// ```
pub fn normalize(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'œ' | 'Œ' => folded.push_str("oe"),
            'æ' | 'Æ' => folded.push_str("ae"),
            'ß' => folded.push_str("ss"),
            c if c.is_alphanumeric() => folded.extend(c.to_lowercase()),
            _ => folded.push(' '),
        }
    }
    let recomposed: String = folded.nfc().collect();
    let mut out = String::with_capacity(recomposed.len());
    for word in recomposed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The digit of a phone keypad (ITU E.161) that carries `letter`, for ASCII
/// letters and digits; `None` for anything else (keypad search only covers
/// Latin names, already normalised).
pub fn keypad_digit(letter: char) -> Option<char> {
    let digit = match letter.to_ascii_lowercase() {
        'a'..='c' => '2',
        'd'..='f' => '3',
        'g'..='i' => '4',
        'j'..='l' => '5',
        'm'..='o' => '6',
        'p'..='s' => '7',
        't'..='v' => '8',
        'w'..='z' => '9',
        d @ '0'..='9' => d,
        _ => return None,
    };
    Some(digit)
}

/// Encodes one normalised word as keypad digits ("sophie" → "767443").
/// Characters with no key (non-Latin letters) are skipped, so a word with none
/// encodes to the empty string.
pub fn keypad_encode(word: &str) -> String {
    word.chars().filter_map(keypad_digit).collect()
}

#[cfg(test)]
mod tests {
    //! Normalisation and keypad encoding, case by case.
    use super::*;

    #[test]
    fn normalize_cases() {
        let cases = [
            ("Hervé", "herve"),
            ("HERVE", "herve"),
            ("  Sophie   MARTIN ", "sophie martin"),
            ("Prud'homme", "prud homme"),
            ("Jean-Pierre", "jean pierre"),
            ("François Lœuvre", "francois loeuvre"),
            ("Ångström", "angstrom"),
            ("rayon  fruits & légumes", "rayon fruits legumes"),
            ("김민수", "김민수"),
            ("김 민수!", "김 민수"),
            ("", ""),
            ("  -- ", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "normalize({input:?})");
        }
    }

    #[test]
    fn keypad_cases() {
        let cases = [
            ("sophie", "767443"),
            ("sorin", "76746"),
            ("wxyz", "9999"),
            ("abc", "222"),
            ("r2d2", "7232"),
            ("김", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(keypad_encode(input), expected, "keypad_encode({input:?})");
        }
    }
}
