//! The Vosk engine (libvosk through the `vosk` crate): the production engine.
//!
//! One [`vosk::Model`] per process (about 500 MiB for the Korean small model),
//! shared by every recognizer; a grammar recognizer costs well under 1 ms and
//! about 2 MiB (benches/asr.rs).
//! Grammars are phrase lists: Vosk drops a word it does not know from its phrase
//! with only a log line, so [`VoskEngine::compile_grammar`] checks every word with
//! `vosk_model_find_word` first and reports the phrases it has to leave out.
//!
//! Each utterance gets a new recognizer: one costs 0.4 to 0.7 ms
//! (benches/speech.rs), about 1 % of decoding a name. Reusing finished ones per
//! grammar was tried and left out: it saves no measurable time, and it cannot
//! be shown to decode as a new one, because libvosk 0.3.45 is not reproducible
//! across utterances in one process anyway (the same recording decoded twice,
//! each time by a new recognizer: best confidence 0.741, then 0.874).

use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use vosk::{CompleteResult, DecodingState, Model};

use super::grammar::{self, GrammarSpec, Meaning, Phrase};
use super::models::{self, ModelManifest};
use super::{
    AsrError, CompiledGrammar, Engine, EngineKind, GrammarPayload, Hypothesis, INPUT_SAMPLE_RATE,
    Recognition, Recognizer, RejectedPhrase,
};
use crate::directory::Language;

/// How many alternatives a recognizer asks Vosk for.
pub const DEFAULT_MAX_ALTERNATIVES: u16 = 5;

/// A loaded Vosk model.
pub struct VoskEngine {
    /// `find_word` takes `&mut Model` in the crate although libvosk only reads:
    /// word checks (directory sync, rare) take the write lock, recognizer creation
    /// (every call) shares the read lock.
    model: RwLock<Model>,
    language: Language,
    path: PathBuf,
    max_alternatives: u16,
}

impl std::fmt::Debug for VoskEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoskEngine")
            .field("language", &self.language)
            .field("path", &self.path)
            .finish()
    }
}

impl VoskEngine {
    /// Loads the model in `model_dir` (1 to 3 s, about 500 MiB for a small model).
    pub fn load(model_dir: &Path, language: Language) -> Result<Self, AsrError> {
        // Vosk logs every grammar word it drops; those are reported by
        // compile_grammar instead. Errors still reach stderr.
        vosk::set_log_level(vosk::LogLevel::Error);
        let path_text = model_dir.to_str().ok_or_else(|| AsrError::ModelLoad {
            engine: EngineKind::Vosk,
            path: model_dir.into(),
        })?;
        let model = Model::new(path_text).ok_or_else(|| AsrError::ModelLoad {
            engine: EngineKind::Vosk,
            path: model_dir.into(),
        })?;
        Ok(Self {
            model: RwLock::new(model),
            language,
            path: model_dir.into(),
            max_alternatives: DEFAULT_MAX_ALTERNATIVES,
        })
    }

    /// Loads the installed model that `models/*.toml` declares for `language`.
    pub fn from_manifest(language: Language) -> Result<Self, AsrError> {
        let manifest =
            ModelManifest::find(&models::default_manifest_dir(), EngineKind::Vosk, language)?;
        let dir = manifest.installed_dir(&models::default_deps_dir())?;
        Self::load(&dir, language)
    }

    /// Sets how many alternatives recognizers return (1 disables N-best).
    pub fn with_max_alternatives(mut self, max: u16) -> Self {
        self.max_alternatives = max.max(1);
        self
    }

    /// The model directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unknown_words<'a>(&self, words: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut unknown: Vec<String> = words
            .filter(|w| !self.can_recognize(w))
            .map(str::to_owned)
            .collect();
        unknown.dedup();
        unknown
    }
}

impl Engine for VoskEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Vosk
    }

    fn language(&self) -> Language {
        self.language
    }

    fn can_recognize(&self, word: &str) -> bool {
        // `[unk]` and friends are model symbols, not words a caller says.
        if word.is_empty() || word.starts_with('[') || word.starts_with('<') || word.contains(' ') {
            return false;
        }
        let mut model = self.model.write().unwrap_or_else(PoisonError::into_inner);
        model.find_word(word).is_some()
    }

    fn compile_grammar(&self, spec: &GrammarSpec) -> Result<CompiledGrammar, AsrError> {
        if spec.language != self.language {
            return Err(AsrError::LanguageMismatch {
                engine: EngineKind::Vosk,
                model: self.language,
                grammar: spec.language,
            });
        }
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        for phrase in &spec.phrases {
            let unknown = self.unknown_words(phrase.text.split(' '));
            if unknown.is_empty() {
                accepted.push(phrase.clone());
            } else {
                rejected.push(RejectedPhrase {
                    phrase: phrase.clone(),
                    unknown_words: unknown,
                });
            }
        }
        let mut carriers = Vec::new();
        for carrier in &spec.carriers {
            let unknown = self.unknown_words(carrier.words());
            if unknown.is_empty() {
                carriers.push(carrier.clone());
            } else {
                rejected.push(RejectedPhrase {
                    phrase: carrier.as_phrase(),
                    unknown_words: unknown,
                });
            }
        }
        if !accepted
            .iter()
            .any(|p: &Phrase| p.meaning != Meaning::Carrier)
        {
            return Err(AsrError::EmptyGrammar {
                rejected: rejected.len(),
            });
        }
        let json = grammar::vosk_json(&accepted, &carriers);
        Ok(CompiledGrammar {
            engine: EngineKind::Vosk,
            language: self.language,
            accepted,
            carriers,
            rejected,
            guessed: Vec::new(),
            payload: GrammarPayload::Vosk { json },
        })
    }

    fn decoded_end_silence(&self) -> Option<std::time::Duration> {
        // Enough to close the last word: the Korean QA corpus keeps its top-1
        // accuracy (6/30) with 200 ms instead of the whole 700 ms, for about
        // 30 % less decoding (benches/speech.rs).
        Some(std::time::Duration::from_millis(200))
    }

    fn recognizer(&self, grammar: &CompiledGrammar) -> Result<Box<dyn Recognizer>, AsrError> {
        let GrammarPayload::Vosk { json } = &grammar.payload else {
            return Err(AsrError::WrongEngine {
                engine: EngineKind::Vosk,
                grammar: grammar.engine,
            });
        };
        let bodies = json_string_bodies(json).ok_or(AsrError::GrammarLoad {
            engine: EngineKind::Vosk,
        })?;
        let model = self.model.read().unwrap_or_else(PoisonError::into_inner);
        let mut recognizer =
            vosk::Recognizer::new_with_grammar(&model, INPUT_SAMPLE_RATE as f32, &bodies).ok_or(
                AsrError::GrammarLoad {
                    engine: EngineKind::Vosk,
                },
            )?;
        drop(model);
        recognizer.set_max_alternatives(self.max_alternatives);
        Ok(Box::new(VoskRecognizer {
            recognizer,
            segments: Vec::new(),
            max_alternatives: self.max_alternatives,
        }))
    }
}

/// The phrases of a JSON string array, each as the inside of its JSON string
/// literal (escapes kept).
///
/// `vosk::Recognizer::new_with_grammar` wraps each phrase in `"…"` without
/// escaping; giving it the already-escaped insides makes the array it builds
/// exactly the escaped JSON [`grammar::vosk_json`] wrote. `None` if `json` is not
/// an array of strings.
pub fn json_string_bodies(json: &str) -> Option<Vec<String>> {
    let phrases: Vec<String> = serde_json::from_str(json).ok()?;
    phrases
        .iter()
        .map(|p| {
            let quoted = serde_json::to_string(p).ok()?;
            // serde_json always writes a string as `"` + escaped text + `"`.
            Some(quoted[1..quoted.len() - 1].to_owned())
        })
        .collect()
}

/// One utterance decoded by Vosk.
struct VoskRecognizer {
    recognizer: vosk::Recognizer,
    /// N-best of the segments Vosk already closed at a pause inside the utterance.
    segments: Vec<Vec<Hypothesis>>,
    max_alternatives: u16,
}

/// Keeps a closed segment's N-best if it has words.
fn push_segment(segments: &mut Vec<Vec<Hypothesis>>, result: CompleteResult<'_>) {
    let alternatives = alternatives_from(result);
    if !alternatives.is_empty() {
        segments.push(alternatives);
    }
}

impl Recognizer for VoskRecognizer {
    fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError> {
        // Vosk takes at most i32::MAX samples per call; 20 ms frames are far below.
        for chunk in samples.chunks(1 << 20) {
            let state = self
                .recognizer
                .accept_waveform(chunk)
                .map_err(|_| AsrError::Decoder {
                    engine: EngineKind::Vosk,
                    call: "vosk_recognizer_accept_waveform_s",
                    code: -1,
                })?;
            match state {
                // Vosk ended a segment at a pause: its result must be taken now or
                // the next audio starts over without it.
                DecodingState::Finalized => {
                    push_segment(&mut self.segments, self.recognizer.result());
                }
                DecodingState::Running => {}
                DecodingState::Failed => {
                    return Err(AsrError::Decoder {
                        engine: EngineKind::Vosk,
                        call: "vosk_recognizer_accept_waveform_s",
                        code: -1,
                    });
                }
            }
        }
        Ok(())
    }

    fn partial(&mut self) -> Option<String> {
        let partial = self.recognizer.partial_result().partial.trim().to_owned();
        let done: Vec<&str> = self
            .segments
            .iter()
            .filter_map(|s| s.first())
            .map(|h| h.text.as_str())
            .collect();
        let text = done
            .into_iter()
            .chain((!partial.is_empty()).then_some(partial.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        (!text.is_empty()).then_some(text)
    }

    fn finish(mut self: Box<Self>) -> Result<Recognition, AsrError> {
        push_segment(&mut self.segments, self.recognizer.final_result());
        Ok(Recognition {
            alternatives: combine_segments(&self.segments, usize::from(self.max_alternatives)),
            // With alternatives on, libvosk 0.3.45 reports no per-word
            // confidence, and the Korean model has no `[unk]`: nothing
            // measured on the audio yet (docs/recognition.md).
            in_grammar: None,
        })
    }
}

/// Vosk's N-best with lattice scores turned into posteriors.
///
/// With alternatives on, Vosk gives each one a total lattice score (higher is
/// better, in log units), not a probability: a softmax over the list gives a
/// `0..=1` confidence relative to the alternatives. A single alternative gets 1.
fn alternatives_from(result: CompleteResult<'_>) -> Vec<Hypothesis> {
    let scored: Vec<(String, f32)> = match result {
        CompleteResult::Multiple(multiple) => multiple
            .alternatives
            .iter()
            .map(|a| (a.text.trim().to_owned(), a.confidence))
            .filter(|(text, _)| !text.is_empty())
            .collect(),
        CompleteResult::Single(single) => {
            let text = single.text.trim().to_owned();
            if text.is_empty() {
                Vec::new()
            } else {
                let conf = single.result.iter().map(|w| w.conf).fold(1.0f32, f32::min);
                return vec![Hypothesis {
                    text,
                    confidence: conf,
                }];
            }
        }
    };
    softmax(scored)
}

fn softmax(scored: Vec<(String, f32)>) -> Vec<Hypothesis> {
    let max = scored
        .iter()
        .map(|(_, s)| *s)
        .fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = scored.iter().map(|(_, s)| (s - max).exp()).sum();
    let mut out: Vec<Hypothesis> = scored
        .into_iter()
        .map(|(text, s)| Hypothesis {
            text,
            confidence: (s - max).exp() / total,
        })
        .collect();
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

/// Joins the N-best of consecutive segments into N-best of the whole utterance
/// (product of confidences, best `max` kept).
fn combine_segments(segments: &[Vec<Hypothesis>], max: usize) -> Vec<Hypothesis> {
    let mut combined: Vec<Hypothesis> = vec![Hypothesis {
        text: String::new(),
        confidence: 1.0,
    }];
    for segment in segments {
        let mut next = Vec::with_capacity(combined.len() * segment.len());
        for prefix in &combined {
            for alt in segment {
                let text = if prefix.text.is_empty() {
                    alt.text.clone()
                } else {
                    format!("{} {}", prefix.text, alt.text)
                };
                next.push(Hypothesis {
                    text,
                    confidence: prefix.confidence * alt.confidence,
                });
            }
        }
        next.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        next.truncate(max.max(1));
        combined = next;
    }
    combined.retain(|h| !h.text.is_empty());
    combined
}

#[cfg(test)]
mod tests {
    //! Vosk helpers that need no model: escaping for the crate's grammar builder,
    //! score calibration and segment joining.
    use super::*;

    #[test]
    fn bodies_rebuild_the_exact_escaped_array() {
        let phrases = [
            "anne \"nanou\" d\\arc",
            "tab\there",
            "sophie martin",
            "김민준",
        ];
        let json = serde_json::to_string(&phrases).expect("json");
        let bodies = json_string_bodies(&json).expect("array of strings");
        // What vosk::Recognizer::new_with_grammar builds from the bodies.
        let rebuilt = format!(
            "[{}]",
            bodies
                .iter()
                .map(|b| format!("\"{b}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let parsed: Vec<String> = serde_json::from_str(&rebuilt).expect("valid JSON");
        assert_eq!(parsed, phrases);
        assert_eq!(json_string_bodies("{\"a\": 1}"), None);
    }

    #[test]
    fn softmax_orders_and_normalises() {
        let out = softmax(vec![
            ("b".into(), 10.0),
            ("a".into(), 12.0),
            ("c".into(), 2.0),
        ]);
        let texts: Vec<&str> = out.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c"]);
        let sum: f32 = out.iter().map(|h| h.confidence).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        assert!(
            (out[0].confidence - 1.0 / (1.0 + (-2.0f32).exp() + (-10.0f32).exp())).abs() < 1e-5
        );
    }

    #[test]
    fn segments_combine_as_products() {
        let h = |t: &str, c: f32| Hypothesis {
            text: t.into(),
            confidence: c,
        };
        let segments = vec![
            vec![h("paul", 0.8), h("sophie", 0.2)],
            vec![h("martin", 0.9), h("dubois", 0.1)],
        ];
        let out = combine_segments(&segments, 3);
        assert_eq!(
            out.iter().map(|h| h.text.as_str()).collect::<Vec<_>>(),
            ["paul martin", "sophie martin", "paul dubois"]
        );
        assert!((out[0].confidence - 0.72).abs() < 1e-6);
        assert!(
            combine_segments(&[], 5).is_empty(),
            "no segment, no alternative"
        );
    }
}
