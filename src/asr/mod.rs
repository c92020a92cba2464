//! Speech recognition engines behind one trait (Vosk, PocketSphinx).
//!
//! Two roles, two traits:
//! - an [`Engine`] holds a loaded model. It is loaded once per process and shared
//!   by `Arc` between all calls; it checks words ([`Engine::can_recognize`]),
//!   compiles a store's grammar ([`Engine::compile_grammar`], done when a directory
//!   is synced, never per call) and makes recognizers.
//! - a [`Recognizer`] decodes one utterance: feed it 8 kHz 16-bit mono audio with
//!   [`Recognizer::push_audio`] and take the N-best result with
//!   [`Recognizer::finish`]. It does no IO and keeps no clock: endpointing is the
//!   caller's job. Live calls push audio block by block while the caller speaks,
//!   so that `finish` has little left to do. Decoding is CPU-heavy: the runtime
//!   calls these methods on its decode workers (`speech::decode`), hence `Send`.
//!
//! What to recognise is described once, engine-neutral, by a
//! [`grammar::GrammarSpec`] built from a store's directory; each engine compiles it
//! to its own form (a JSON phrase list for Vosk, JSGF plus dictionary words for
//! PocketSphinx) and reports the phrases it cannot recognise.
//!
//! One module touches each native library: [`vosk`] (libvosk, through the `vosk`
//! crate) and [`sphinx`] (libpocketsphinx, through its own FFI binding).
//!
//! ```no_run
//! use std::sync::Arc;
//! use attendant::asr::{Engine, GrammarSpec, vosk::VoskEngine};
//! # fn directory() -> attendant::directory::Directory { unimplemented!() }
//! # fn main() -> Result<(), attendant::asr::AsrError> {
//! // Once per process.
//! let engine: Arc<dyn Engine> = Arc::new(VoskEngine::from_manifest(attendant::directory::Language::Fr)?);
//! // At each directory sync: report what cannot be recognised.
//! let grammar = Arc::new(engine.compile_grammar(&GrammarSpec::from_directory(&directory()))?);
//! for rejected in &grammar.rejected {
//!     eprintln!("cannot recognise {:?}: {:?}", rejected.phrase.text, rejected.unknown_words);
//! }
//! // Per utterance, on a decode worker (speech::decode), fed while the caller speaks.
//! let mut recognizer = engine.recognizer(&grammar)?;
//! let frame = [0i16; 160]; // 20 ms of 8 kHz audio, as RTP delivers it
//! recognizer.push_audio(&frame)?;
//! let recognition = recognizer.finish()?;
//! if let Some(best) = recognition.best() {
//!     let meanings = grammar.meanings_of(&best.text); // empty: not a sentence of the grammar
//!     println!("{} ({:.2}) -> {meanings:?}", best.text, best.confidence);
//! }
//! # Ok(()) }
//! ```
//!
//! Owns the engines and their native libraries. Uses `directory` (grammar spec),
//! `matching` (carrier phrases) and `speech::resample`; must not import
//! rsipstack, sqlx, axum, `media`, `sip`, `runtime`, `admin` or `replay`.

pub mod grammar;
pub mod models;
pub mod sphinx;
pub mod vosk;

use std::path::PathBuf;

use crate::directory::Language;

pub use grammar::{GrammarSpec, Meaning, Phrase};

/// Sample rate of the audio given to [`Recognizer::push_audio`]: G.711 telephone audio.
pub const INPUT_SAMPLE_RATE: u32 = 8000;

/// One alternative of a recognition result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hypothesis {
    /// Recognised words, lower case, separated by single spaces.
    pub text: String,
    /// Engine confidence in `0.0..=1.0` (engine-specific calibration).
    pub confidence: f32,
}

/// Final result of one utterance: N-best alternatives, best first (may be empty).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Recognition {
    /// N-best alternatives, best first; confidences are relative to the list.
    pub alternatives: Vec<Hypothesis>,
    /// How well the audio fits the best alternative rather than free speech,
    /// in `0..=1`, measured on the audio (not on the list): PocketSphinx
    /// compares the grammar path with a free phone loop over the same
    /// utterance, Vosk averages its per-word confidences. Low: speech the
    /// grammar does not hold (a name not in the directory, a sentence, noise).
    /// `None`: the engine measured nothing (or an older recording).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_grammar: Option<f32>,
}

impl Recognition {
    /// The best alternative, if the engine produced any words at all.
    pub fn best(&self) -> Option<&Hypothesis> {
        self.alternatives.first()
    }
}

/// Which engine a model or grammar belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// libvosk (Kaldi), [`vosk`].
    Vosk,
    /// libpocketsphinx 5prealpha, [`sphinx`].
    Sphinx,
}

/// A phrase of a [`GrammarSpec`] that the engine cannot recognise, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedPhrase {
    /// The phrase (or carrier, with [`Meaning::Carrier`]) left out of the grammar.
    pub phrase: Phrase,
    /// The phrase's words the engine does not know (and cannot learn).
    pub unknown_words: Vec<String>,
}

/// A word the engine did not know, added with a generated pronunciation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuessedWord {
    /// The word, as in the grammar.
    pub word: String,
    /// Pronunciation in the engine's phone set (CMU phones for PocketSphinx).
    pub phones: String,
}

/// A [`GrammarSpec`] compiled for one engine: what can be recognised and what not.
///
/// Built at directory-sync time by [`Engine::compile_grammar`]; cheap to clone into
/// an `Arc` and to start recognizers from.
#[derive(Debug, Clone)]
pub struct CompiledGrammar {
    engine: EngineKind,
    language: Language,
    /// Phrases every word of which the engine can recognise.
    pub accepted: Vec<Phrase>,
    /// Carriers kept (all their words recognisable).
    pub carriers: Vec<grammar::Carrier>,
    /// Phrases and carriers left out, with the words that made them unrecognisable.
    pub rejected: Vec<RejectedPhrase>,
    /// Words missing from the engine's dictionary that got a generated pronunciation.
    pub guessed: Vec<GuessedWord>,
    pub(crate) payload: GrammarPayload,
}

/// The engine-specific form of a compiled grammar.
#[derive(Debug, Clone)]
pub(crate) enum GrammarPayload {
    /// Vosk: the phrase list as a JSON array of strings (escaped by serde_json).
    Vosk { json: String },
    /// PocketSphinx: a JSGF grammar and the words to add to the dictionary first.
    Sphinx {
        jsgf: String,
        words: Vec<GuessedWord>,
        /// Complete sentences of the grammar: N-best entries must be one of them.
        sentences: std::sync::Arc<std::collections::BTreeSet<String>>,
    },
}

impl CompiledGrammar {
    /// The engine this grammar was compiled for.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The language of the grammar (the store's).
    pub fn language(&self) -> Language {
        self.language
    }

    /// Every word the engine could not recognise, sorted, without duplicates.
    pub fn unknown_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .rejected
            .iter()
            .flat_map(|r| r.unknown_words.iter().cloned())
            .collect();
        words.sort();
        words.dedup();
        words
    }

    /// What a recognised text means: the accepted phrases it is, alone or inside a
    /// kept carrier (several for homonyms; none for text outside the grammar).
    pub fn meanings_of(&self, text: &str) -> Vec<&Meaning> {
        grammar::meanings_of(text, &self.accepted, &self.carriers)
    }

    /// The engine's text form of the grammar: Vosk's JSON phrase list, or JSGF.
    pub fn source_text(&self) -> &str {
        match &self.payload {
            GrammarPayload::Vosk { json } => json,
            GrammarPayload::Sphinx { jsgf, .. } => jsgf,
        }
    }
}

/// Errors of the speech engines.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("cannot read model manifest {path}")]
    ManifestRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid model manifest {path}")]
    ManifestParse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("no model manifest for engine {engine:?} and language {language:?} under {dir}")]
    NoManifest {
        dir: PathBuf,
        engine: EngineKind,
        language: Language,
    },
    #[error("model {name} is not installed at {path}: run `make setup` (scripts/fetch-models.sh)")]
    ModelMissing { name: String, path: PathBuf },
    #[error("{engine:?} failed to load the model at {path}")]
    ModelLoad { engine: EngineKind, path: PathBuf },
    #[error("grammar is in {grammar:?} but the {engine:?} model is {model:?}")]
    LanguageMismatch {
        engine: EngineKind,
        model: Language,
        grammar: Language,
    },
    #[error("grammar compiled for {grammar:?} given to a {engine:?} engine")]
    WrongEngine {
        engine: EngineKind,
        grammar: EngineKind,
    },
    #[error("no phrase of the grammar can be recognised ({rejected} rejected)")]
    EmptyGrammar { rejected: usize },
    #[error("{engine:?} refused the grammar")]
    GrammarLoad { engine: EngineKind },
    #[error("{engine:?}: {call} failed (code {code})")]
    Decoder {
        engine: EngineKind,
        call: &'static str,
        code: i32,
    },
    #[error("audio resampling failed")]
    Resample(#[from] crate::speech::resample::ResampleError),
    #[error("cannot run the grapheme-to-phoneme program {program}")]
    G2pSpawn {
        program: &'static str,
        source: std::io::Error,
    },
}

/// A loaded speech model: shared by all calls of the process (`Arc<dyn Engine>`).
pub trait Engine: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// The language of the loaded model.
    fn language(&self) -> Language;

    /// Whether `word` (lower case, as produced by [`grammar::normalize`]) can be
    /// part of a grammar: it is in the model's vocabulary, or the engine can give
    /// it a pronunciation.
    fn can_recognize(&self, word: &str) -> bool;

    /// Compiles a store's grammar. Phrases with words the engine cannot recognise
    /// are left out and listed in [`CompiledGrammar::rejected`]; fails only when
    /// the language differs from the model's or no phrase is left.
    fn compile_grammar(&self, spec: &GrammarSpec) -> Result<CompiledGrammar, AsrError>;

    /// How much of the end-of-speech silence (the silence after the caller's
    /// last word that ends an utterance) the engine must decode; `None`: all of
    /// it. Decoding silence costs as much as decoding speech, but an engine
    /// whose scores depend on it (PocketSphinx normalises over the whole
    /// utterance) must get it all, or its decisions change.
    fn decoded_end_silence(&self) -> Option<std::time::Duration>;

    /// Starts decoding one utterance constrained by `grammar`. Cheap (a Vosk
    /// grammar recognizer takes under 1 ms; PocketSphinx takes a decoder from its
    /// pool only in `finish`, and builds one, about 100 ms, when all are busy),
    /// but engine work all the same: call it off the async threads.
    fn recognizer(&self, grammar: &CompiledGrammar) -> Result<Box<dyn Recognizer>, AsrError>;
}

/// Decodes one utterance. Sans-IO: audio in, result out, no clock.
pub trait Recognizer: Send {
    /// Feeds 16-bit mono PCM at [`INPUT_SAMPLE_RATE`] (8 kHz), and processes it
    /// now as far as the engine can: Vosk searches as audio comes, so feeding an
    /// utterance while it is spoken leaves [`Recognizer::finish`] only the end;
    /// PocketSphinx upsamples it and searches the whole utterance in `finish`
    /// (see [`sphinx`] for why). Results may depend on how the audio is cut into
    /// calls (Vosk checks its own end of segment once per call): live and replay
    /// feed the same blocks (`speech::stream::decode_blocks`).
    fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError>;

    /// Best guess so far, if the engine computes one cheaply (Vosk does; PocketSphinx
    /// decodes whole utterances only and returns `None`).
    fn partial(&mut self) -> Option<String>;

    /// Ends the utterance and returns its N-best result, best first.
    fn finish(self: Box<Self>) -> Result<Recognition, AsrError>;
}
