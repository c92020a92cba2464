//! Pronunciations for names missing from the CMU dictionary.
//!
//! Method: espeak-ng's own English letter-to-sound rules and exception lists
//! (`espeak-ng -q -x -v en-us`, Kirshenbaum-style phoneme mnemonics), mapped to the
//! 39 CMU phones of the PocketSphinx model by [`espeak_to_cmu`]. Run once per
//! directory sync for the missing words only, in one espeak-ng process; never per
//! call. espeak-ng reads foreign names the English way ("Prodhomme" -> P R AA D
//! HH AA M), which is also how an English model hears most callers say them.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::asr::AsrError;

/// The espeak-ng program run for G2P.
pub const ESPEAK: &str = "espeak-ng";

/// espeak-ng mnemonics (en-us phoneme table) to CMU phones, longest first.
/// Stress, length and syllable marks are dropped by [`espeak_to_cmu`].
const TABLE: &[(&str, &str)] = &[
    ("aI@", "AY ER"),
    ("aU@", "AW ER"),
    ("i@3", "IY ER"),
    ("A@", "AA R"),
    ("O@", "AO R"),
    ("o@", "AO R"),
    ("e@", "EH R"),
    ("i@", "IY R"),
    ("U@", "UH R"),
    ("aI", "AY"),
    ("aU", "AW"),
    ("eI", "EY"),
    ("oU", "OW"),
    ("OI", "OY"),
    ("tS", "CH"),
    ("dZ", "JH"),
    ("@L", "AH L"),
    ("O2", "AA"),
    ("a2", "AH"),
    ("@2", "AH"),
    ("@5", "AH"),
    ("a#", "AH"),
    ("I#", "IH"),
    ("I2", "IH"),
    ("3", "ER"),
    ("@", "AH"),
    ("a", "AE"),
    ("A", "AA"),
    ("0", "AA"),
    ("O", "AO"),
    ("V", "AH"),
    ("E", "EH"),
    ("e", "EH"),
    ("I", "IH"),
    ("i", "IY"),
    ("U", "UH"),
    ("u", "UW"),
    ("o", "OW"),
    ("n-", "AH N"),
    ("l-", "AH L"),
    ("r-", "ER"),
    ("t#", "T"),
    ("d#", "D"),
    ("p", "P"),
    ("b", "B"),
    ("t", "T"),
    ("d", "D"),
    ("k", "K"),
    ("g", "G"),
    ("f", "F"),
    ("v", "V"),
    ("T", "TH"),
    ("D", "DH"),
    ("s", "S"),
    ("z", "Z"),
    ("S", "SH"),
    ("Z", "ZH"),
    ("h", "HH"),
    ("x", "K"),
    ("C", "HH"),
    ("m", "M"),
    ("n", "N"),
    ("N", "NG"),
    ("l", "L"),
    ("r", "R"),
    ("w", "W"),
    ("j", "Y"),
];

/// Marks in espeak-ng's `-x` output that are not phonemes: stress (`'` `,`),
/// length (`:`), syllable/word boundaries, glottal stop and unstressed markers.
const SKIPPED: &[char] = &['\'', ',', '%', '=', ':', '_', ';', '!', '#', '?', '|', '-'];

/// Maps one word of espeak-ng `-x` output to CMU phones; `None` if a symbol is
/// unknown (the word is then reported instead of guessed badly).
pub fn espeak_to_cmu(mnemonics: &str) -> Option<String> {
    let mut phones: Vec<&str> = Vec::new();
    let mut rest = mnemonics.trim();
    'outer: while !rest.is_empty() {
        for (symbol, cmu) in TABLE {
            if let Some(after) = rest.strip_prefix(symbol) {
                phones.extend(cmu.split(' '));
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next()?;
        if c.is_whitespace() || SKIPPED.contains(&c) {
            rest = &rest[c.len_utf8()..];
        } else {
            return None;
        }
    }
    // espeak-ng writes r-coloured vowels and a following linking /r/ as two
    // symbols ("3r", "A@r"); CMU spells them with one R.
    phones.dedup_by(|next, prev| *next == "R" && (*prev == "R" || *prev == "ER"));
    (!phones.is_empty()).then(|| phones.join(" "))
}

/// Grapheme-to-phoneme through espeak-ng.
#[derive(Debug, Clone)]
pub struct EspeakG2p {
    /// espeak-ng voice whose rules are used (`en-us`).
    pub voice: String,
}

impl Default for EspeakG2p {
    fn default() -> Self {
        Self {
            voice: "en-us".into(),
        }
    }
}

impl EspeakG2p {
    /// Whether the method can attempt `word`: letters (any script espeak-ng folds),
    /// apostrophes and hyphens only.
    pub fn supports(word: &str) -> bool {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
            && word.chars().any(char::is_alphabetic)
    }

    /// CMU pronunciations of `words`, in order; `None` for a word it cannot read.
    pub fn pronounce(&self, words: &[&str]) -> Result<Vec<Option<String>>, AsrError> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let lines = self.run(&words.iter().map(|w| format!("{w}.\n")).collect::<String>())?;
        if lines.len() == words.len() {
            return Ok(lines.iter().map(|l| espeak_to_cmu(l)).collect());
        }
        // espeak-ng joined or split some clause: fall back to one run per word.
        words
            .iter()
            .map(|w| {
                Ok(self
                    .run(&format!("{w}.\n"))?
                    .first()
                    .and_then(|l| espeak_to_cmu(l)))
            })
            .collect()
    }

    fn run(&self, input: &str) -> Result<Vec<String>, AsrError> {
        let spawn_error = |source| AsrError::G2pSpawn {
            program: ESPEAK,
            source,
        };
        let mut child = Command::new(ESPEAK)
            .args(["-q", "-x", "-v", &self.voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(spawn_error)?;
        // Piped stdin always exists right after a successful spawn with Stdio::piped().
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(input.as_bytes()).map_err(spawn_error)?;
        drop(stdin);
        let output = child.wait_with_output().map_err(spawn_error)?;
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// Levenshtein distance between two phone sequences.
pub fn phone_edit_distance(a: &[&str], b: &[&str]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, pa) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, pb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if pa == pb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    //! The espeak-ng mnemonic mapping on known words, and the edit distance.
    use super::*;

    #[test]
    fn maps_espeak_mnemonics() {
        let cases = [
            ("m'A@tIn", Some("M AA R T IH N")),
            ("s'oUfi", Some("S OW F IY")),
            ("b'eIk3ri", Some("B EY K ER IY")),
            ("d'u:pO2nt", Some("D UW P AA N T")),
            ("m'O@roU", Some("M AO R OW")),
            ("dI#p'A@tm@nt", Some("D IH P AA R T M AH N T")),
            ("Sm'It", Some("SH M IH T")),
            ("tS'i:z", Some("CH IY Z")),
            ("", None),
            ("m'A@t\u{263a}n", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                espeak_to_cmu(input).as_deref(),
                expected,
                "espeak_to_cmu({input:?})"
            );
        }
    }

    #[test]
    fn edit_distance() {
        let cases: [(&[&str], &[&str], usize); 4] = [
            (&["M", "AA", "R"], &["M", "AA", "R"], 0),
            (&["M", "AA", "R"], &["M", "AA"], 1),
            (&["M", "AA", "R"], &["N", "AA", "R", "T"], 2),
            (&[], &["A"], 1),
        ];
        for (a, b, d) in cases {
            assert_eq!(phone_edit_distance(a, b), d, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn supported_words() {
        let cases = [
            ("prodhomme", true),
            ("hervé", true),
            ("o'brien", true),
            ("r2d2", false),
            ("\"x\"", false),
            ("-", false),
        ];
        for (word, ok) in cases {
            assert_eq!(EspeakG2p::supports(word), ok, "{word}");
        }
    }
}
