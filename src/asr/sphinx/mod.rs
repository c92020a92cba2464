//! The PocketSphinx engine (libpocketsphinx 5prealpha, own thin binding in `ffi`).
//!
//! Used for English stores and as a second engine. A JSGF grammar fails to load
//! as a whole if one of its words is missing from the dictionary, so
//! [`SphinxEngine::compile_grammar`] gives every missing word a pronunciation
//! from [`g2p`] (espeak-ng rules mapped to CMU phones) and reports the words it
//! cannot pronounce. Each recognizer upsamples its audio as it comes (8 kHz to
//! the model's 16 kHz, with `crate::speech::resample`, the one resampler of the
//! speech path) and decodes the whole utterance in [`Recognizer::finish`]:
//! whole-utterance decoding is far more accurate than PocketSphinx's own
//! segmentation on short names, and only a whole utterance gets batch cepstral
//! mean normalisation. Fed as it comes (`ps_process_raw` without `full_utt`),
//! this library version switches to live CMN, whose mean carries over from the
//! decoder's previous utterances: the same recording then decided differently
//! depending on which pooled decoder it got (`tests/replay_consistency.rs`
//! caught it); and the front end's noise level carries over within a
//! stream, so each utterance starts a stream of its own. A whole utterance decodes at a real-time factor of about 0.025,
//! so the end of speech costs about 30 ms of decoding for a name.
//!
//! A decoder holds its own copy of the acoustic model (no sharing in this API
//! version, about 20 MiB), so the engine keeps a pool of idle decoders: a
//! recognizer borrows one only to decode, in `finish`, and gives it back; a
//! call listening to its caller holds none.

mod ffi;
pub mod g2p;

use std::collections::{BTreeSet, HashMap};
use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, Once, PoisonError};


use self::g2p::EspeakG2p;
use super::grammar::{self, GrammarSpec, Meaning};
use super::models::{self, ModelManifest};
use super::{
    AsrError, CompiledGrammar, Engine, EngineKind, GrammarPayload, GuessedWord, Hypothesis,
    Recognition, Recognizer, RejectedPhrase,
};
use crate::directory::Language;

/// Sample rate of the en-us acoustic model.
pub const MODEL_SAMPLE_RATE: u32 = 16000;

/// How many alternatives a recognition returns at most.
pub const MAX_ALTERNATIVES: usize = 5;

/// Name of the JSGF search set on each decoder.
const SEARCH: &CStr = c"attendant";

/// Name of the free phone-loop search (allphone) each decoder also holds.
const PHONE_LOOP: &CStr = c"phone_loop";

/// File name of the phonetic language model beside the acoustic model
/// directory (`.../model/en-us/en-us-phone.lm.bin` for `.../model/en-us/en-us`).
pub const PHONE_LM_FILE: &str = "en-us-phone.lm.bin";

/// In-grammar confidence from the per-frame log-likelihood ratio of the
/// grammar path against the free phone loop: `1 / (1 + exp(-LLR_SCALE ×
/// llr))`, 0.5 when both paths are as likely. The path scores this library
/// reports are relative to each frame's best senone, so the ratio per 10 ms
/// frame is small: about +0.0006 to +0.003 (ln) on the QA corpus's
/// in-directory requests (the grammar's words beat free phones weighted by
/// the phone LM); the scale spreads that over `0..=1` for thresholds to read.
/// Calibration picks the thresholds (docs/recognition.md).
const LLR_SCALE: f64 = 1000.0;

/// The phonetic LM of the free phone loop, when it is beside the acoustic
/// model directory `hmm` (as Debian's `pocketsphinx-en-us` installs it).
fn phone_lm_beside(hmm: &Path) -> Option<PathBuf> {
    hmm.parent()
        .map(|dir| dir.join(PHONE_LM_FILE))
        .filter(|path| path.is_file())
}

/// A loaded PocketSphinx model (acoustic model + CMU dictionary).
pub struct SphinxEngine {
    config: DecoderConfig,
    /// The CMU dictionary, word -> phones: answers word checks without a decoder.
    dictionary: HashMap<String, String>,
    g2p: EspeakG2p,
    pool: Arc<Mutex<Vec<Decoder>>>,
}

impl std::fmt::Debug for SphinxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SphinxEngine")
            .field("hmm", &self.config.hmm)
            .field("dict", &self.config.dict)
            .finish()
    }
}

#[derive(Debug, Clone)]
struct DecoderConfig {
    hmm: PathBuf,
    dict: PathBuf,
    /// Phonetic LM for the free phone loop; `None`: no in-grammar confidence.
    phone_lm: Option<PathBuf>,
}

impl SphinxEngine {
    /// Loads the acoustic model directory `hmm` and dictionary `dict`, and one
    /// decoder to check them.
    pub fn load(hmm: &Path, dict: &Path) -> Result<Self, AsrError> {
        static QUIET: Once = Once::new();
        // sphinxbase logs every step of every decoder to stderr; errors surface
        // as return codes here. Process-wide, hence once.
        QUIET.call_once(|| unsafe { ffi::err_set_logfp(std::ptr::null_mut()) });

        let text = std::fs::read_to_string(dict).map_err(|_| AsrError::ModelLoad {
            engine: EngineKind::Sphinx,
            path: dict.into(),
        })?;
        let dictionary = parse_dictionary(&text);
        // On when the phonetic LM is beside the acoustic model: the
        // phone-loop pass over context-independent phones costs about 1.4
        // times the grammar decode alone (benches/asr.rs, docs/recognition.md).
        let phone_lm = phone_lm_beside(hmm);
        let config = DecoderConfig {
            hmm: hmm.into(),
            dict: dict.into(),
            phone_lm,
        };
        let first = Decoder::new(&config)?;
        Ok(Self {
            config,
            dictionary,
            g2p: EspeakG2p::default(),
            pool: Arc::new(Mutex::new(vec![first])),
        })
    }

    /// Loads the installed model that `models/*.toml` declares for English.
    pub fn from_manifest() -> Result<Self, AsrError> {
        let manifest = ModelManifest::find(
            &models::default_manifest_dir(),
            EngineKind::Sphinx,
            Language::En,
        )?;
        let dir = manifest.installed_dir(&models::default_deps_dir())?;
        let files = manifest.sphinx.ok_or_else(|| AsrError::ModelLoad {
            engine: EngineKind::Sphinx,
            path: dir.clone(),
        })?;
        Self::load(&dir.join(files.hmm), &dir.join(files.dict))
    }

    /// The dictionary pronunciation of `word`, if it has one.
    pub fn dictionary_phones(&self, word: &str) -> Option<&str> {
        self.dictionary.get(word).map(String::as_str)
    }

    /// The G2P method used for words missing from the dictionary.
    pub fn g2p(&self) -> &EspeakG2p {
        &self.g2p
    }

    /// Whether recognitions carry an in-grammar confidence (the phonetic LM
    /// for the free phone loop was found beside the acoustic model).
    pub fn measures_in_grammar(&self) -> bool {
        self.config.phone_lm.is_some()
    }

    /// The same engine with the free phone-loop pass (in-grammar
    /// confidence), when the phonetic LM is beside the acoustic model.
    pub fn with_in_grammar(self) -> Self {
        let phone_lm = phone_lm_beside(&self.config.hmm);
        self.with_phone_lm(phone_lm)
    }

    /// The same engine without the free phone-loop pass: recognitions carry
    /// no in-grammar confidence (the plain decode, for benchmarks and as a
    /// fallback when the second pass costs too much).
    pub fn without_in_grammar(self) -> Self {
        self.with_phone_lm(None)
    }

    /// The same engine with `phone_lm` as its phone-loop model. Idle decoders
    /// were built with the old one: they are dropped, new ones use this one.
    fn with_phone_lm(mut self, phone_lm: Option<PathBuf>) -> Self {
        self.config.phone_lm = phone_lm;
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self
    }

    /// Decoders currently idle in the pool.
    pub fn idle_decoders(&self) -> usize {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Parses a CMU dictionary file: `word phones…` per line; `word(2)` variants are
/// alternatives of `word`, the first pronunciation is kept.
fn parse_dictionary(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        if word.ends_with(')') {
            continue;
        }
        out.entry(word.to_owned())
            .or_insert_with(|| parts.collect::<Vec<_>>().join(" "));
    }
    out
}

impl Engine for SphinxEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Sphinx
    }

    fn language(&self) -> Language {
        Language::En
    }

    fn can_recognize(&self, word: &str) -> bool {
        grammar::is_jsgf_token(word)
            && (self.dictionary.contains_key(word) || EspeakG2p::supports(word))
    }

    fn compile_grammar(&self, spec: &GrammarSpec) -> Result<CompiledGrammar, AsrError> {
        if spec.language != Language::En {
            return Err(AsrError::LanguageMismatch {
                engine: EngineKind::Sphinx,
                model: Language::En,
                grammar: spec.language,
            });
        }
        // Pronounce every missing word in one espeak-ng run.
        let missing: Vec<&str> = spec
            .words()
            .into_iter()
            .filter(|w| !self.dictionary.contains_key(*w) && self.can_recognize(w))
            .collect();
        let guesses = self.g2p.pronounce(&missing)?;
        let guessed: Vec<GuessedWord> = missing
            .iter()
            .zip(guesses)
            .filter_map(|(word, phones)| {
                Some(GuessedWord {
                    word: (*word).to_owned(),
                    phones: phones?,
                })
            })
            .collect();
        let known = |word: &str| {
            grammar::is_jsgf_token(word)
                && (self.dictionary.contains_key(word) || guessed.iter().any(|g| g.word == word))
        };

        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        for phrase in &spec.phrases {
            let unknown: Vec<String> = phrase
                .text
                .split(' ')
                .filter(|w| !known(w))
                .map(str::to_owned)
                .collect();
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
            let unknown: Vec<String> = carrier
                .words()
                .filter(|w| !known(w))
                .map(str::to_owned)
                .collect();
            if unknown.is_empty() {
                carriers.push(carrier.clone());
            } else {
                rejected.push(RejectedPhrase {
                    phrase: carrier.as_phrase(),
                    unknown_words: unknown,
                });
            }
        }
        if !accepted.iter().any(|p| p.meaning != Meaning::Carrier) {
            return Err(AsrError::EmptyGrammar {
                rejected: rejected.len(),
            });
        }
        let jsgf = grammar::jsgf(&accepted, &carriers);
        let sentences = Arc::new(grammar::sentences(&accepted, &carriers));
        Ok(CompiledGrammar {
            engine: EngineKind::Sphinx,
            language: Language::En,
            accepted,
            carriers,
            rejected,
            guessed: guessed.clone(),
            payload: GrammarPayload::Sphinx {
                jsgf,
                words: guessed,
                sentences,
            },
        })
    }

    fn decoded_end_silence(&self) -> Option<std::time::Duration> {
        // Batch CMN averages over the whole utterance, silence included:
        // 200 ms of it lost 2 of 31 recordings of the QA corpus, 400 ms one.
        None
    }

    fn recognizer(&self, grammar: &CompiledGrammar) -> Result<Box<dyn Recognizer>, AsrError> {
        let GrammarPayload::Sphinx {
            jsgf,
            words,
            sentences,
        } = &grammar.payload
        else {
            return Err(AsrError::WrongEngine {
                engine: EngineKind::Sphinx,
                grammar: grammar.engine,
            });
        };
        Ok(Box::new(SphinxRecognizer {
            config: self.config.clone(),
            pool: Arc::clone(&self.pool),
            jsgf: jsgf.clone(),
            words: words.clone(),
            sentences: Arc::clone(sentences),
            upsampler: Some(crate::speech::resample::UtteranceUpsampler::new()?),
            audio16k: Vec::new(),
        }))
    }
}

impl SphinxEngine {
    /// Decodes a whole utterance with an idle decoder (a new one when all are
    /// busy), and gives the decoder back.
    fn decode(
        pool: &Mutex<Vec<Decoder>>,
        config: &DecoderConfig,
        (jsgf, words): (&str, &[GuessedWord]),
        audio16k: &[i16],
        sentences: &BTreeSet<String>,
    ) -> Result<Recognition, AsrError> {
        let idle = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut decoder = match idle {
            Some(decoder) => decoder,
            None => Decoder::new(config)?,
        };
        let result = decoder
            .load_grammar(jsgf, words)
            .and_then(|()| decoder.decode(audio16k, sentences));
        // A decoder whose search failed to load, or whose decoding failed, is
        // still sound (its utterance is closed): keep it.
        pool.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(decoder);
        result
    }
}

/// One `ps_decoder_t` with the grammar it has loaded.
struct Decoder {
    ps: NonNull<ffi::ps_decoder_t>,
    /// The JSGF text of the active search, to skip reloading the same grammar.
    loaded: Option<String>,
    /// `ps_start_utt` was called and `ps_end_utt` not yet.
    in_utterance: bool,
    /// The free phone-loop search is loaded (see [`Decoder::phone_loop_score`]).
    phone_loop: bool,
}

// SAFETY: a decoder is owned by one recognizer (or the idle pool) at a time and
// libpocketsphinx keeps no thread-affine state in it; it is never shared (!Sync).
unsafe impl Send for Decoder {}

fn cstring(text: &str) -> Result<CString, AsrError> {
    CString::new(text).map_err(|_| AsrError::GrammarLoad {
        engine: EngineKind::Sphinx,
    })
}

fn path_cstring(path: &Path) -> Result<CString, AsrError> {
    path.to_str()
        .and_then(|p| CString::new(p).ok())
        .ok_or_else(|| AsrError::ModelLoad {
            engine: EngineKind::Sphinx,
            path: path.into(),
        })
}

impl Decoder {
    fn new(config: &DecoderConfig) -> Result<Self, AsrError> {
        let load_error = || AsrError::ModelLoad {
            engine: EngineKind::Sphinx,
            path: config.hmm.clone(),
        };
        let args: Vec<CString> = vec![
            c"-hmm".into(),
            path_cstring(&config.hmm)?,
            c"-dict".into(),
            path_cstring(&config.dict)?,
            c"-samprate".into(),
            c"16000".into(),
            // Lattice best path: needed for posteriors (ps_get_prob) and N-best.
            c"-bestpath".into(),
            c"yes".into(),
        ];
        let mut args = args;
        if config.phone_lm.is_some() {
            // The free phone loop over context-independent phones only: the
            // default (every triphone) cost 160 times the grammar decode
            // (docs/recognition.md); the loop is a reference for the grammar
            // path's score, not a transcription.
            args.extend([c"-allphone_ci".into(), c"yes".into()]);
        }
        let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
        // SAFETY: argv points into `args`, alive for the call; sphinxbase copies the
        // strings it keeps. strict = 1 rejects unknown flags.
        let config_ptr = unsafe {
            ffi::cmd_ln_parse_r(
                std::ptr::null_mut(),
                ffi::ps_args(),
                argv.len() as i32,
                argv.as_mut_ptr(),
                1,
            )
        };
        if config_ptr.is_null() {
            return Err(load_error());
        }
        // SAFETY: config_ptr is a valid parsed configuration; ps_init retains it,
        // so our reference is released right after.
        let ps = unsafe { ffi::ps_init(config_ptr) };
        unsafe { ffi::cmd_ln_free_r(config_ptr) };
        let ps = NonNull::new(ps).ok_or_else(load_error)?;
        let mut decoder = Self {
            ps,
            loaded: None,
            in_utterance: false,
            phone_loop: false,
        };
        if let Some(lm) = &config.phone_lm {
            let path = path_cstring(lm)?;
            // SAFETY: valid decoder and NUL-terminated strings, copied by the library.
            let code = unsafe {
                ffi::ps_set_allphone_file(ps.as_ptr(), PHONE_LOOP.as_ptr(), path.as_ptr())
            };
            decoder.phone_loop = code >= 0;
        }
        Ok(decoder)
    }

    fn check(&self, call: &'static str, code: i32) -> Result<i32, AsrError> {
        if code < 0 {
            Err(AsrError::Decoder {
                engine: EngineKind::Sphinx,
                call,
                code,
            })
        } else {
            Ok(code)
        }
    }

    fn load_grammar(&mut self, jsgf: &str, words: &[GuessedWord]) -> Result<(), AsrError> {
        if self.loaded.as_deref() == Some(jsgf) {
            return Ok(());
        }
        for word in words {
            let w = cstring(&word.word)?;
            // SAFETY: ps is valid; ps_lookup_word returns a malloc'd copy or NULL.
            let existing = unsafe { ffi::ps_lookup_word(self.ps.as_ptr(), w.as_ptr()) };
            if !existing.is_null() {
                // SAFETY: allocated by sphinxbase's allocator, freed once here.
                unsafe { ffi::ckd_free(existing.cast()) };
                continue;
            }
            let phones = cstring(&word.phones)?;
            // SAFETY: valid decoder and NUL-terminated strings; update = 0 because
            // the search is rebuilt by ps_set_jsgf_string below.
            let code =
                unsafe { ffi::ps_add_word(self.ps.as_ptr(), w.as_ptr(), phones.as_ptr(), 0) };
            self.check("ps_add_word", code)?;
        }
        let text = cstring(jsgf)?;
        self.loaded = None;
        // SAFETY: valid decoder and NUL-terminated strings, copied by the library.
        let code =
            unsafe { ffi::ps_set_jsgf_string(self.ps.as_ptr(), SEARCH.as_ptr(), text.as_ptr()) };
        if code < 0 {
            return Err(AsrError::GrammarLoad {
                engine: EngineKind::Sphinx,
            });
        }
        let code = unsafe { ffi::ps_set_search(self.ps.as_ptr(), SEARCH.as_ptr()) };
        self.check("ps_set_search", code)?;
        self.loaded = Some(jsgf.to_owned());
        Ok(())
    }

    /// Decodes one whole utterance (16 kHz) and returns its N-best.
    fn decode(&mut self, audio16k: &[i16], sentences: &BTreeSet<String>) -> Result<Recognition, AsrError> {
        let ps = self.ps.as_ptr();
        // A new stream for every utterance: the front end keeps channel
        // parameters (the noise level of its noise removal) across the
        // utterances of a stream, so a pooled decoder would decode this one
        // after whatever call it served last (`tests/replay_fidelity.rs`).
        // SAFETY: ps is a valid decoder owned by self, between utterances.
        self.check("ps_start_stream", unsafe { ffi::ps_start_stream(ps) })?;
        // SAFETY: ps is a valid decoder owned by self.
        self.check("ps_start_utt", unsafe { ffi::ps_start_utt(ps) })?;
        self.in_utterance = true;
        // SAFETY: valid decoder in an utterance; the library reads `audio16k`
        // during the call only. full_utt = 1: the whole utterance, which gets
        // batch CMN.
        let processed = unsafe { ffi::ps_process_raw(ps, audio16k.as_ptr(), audio16k.len(), 0, 1) };
        if processed < 0 {
            self.end_utterance();
            return Err(AsrError::Decoder {
                engine: EngineKind::Sphinx,
                call: "ps_process_raw",
                code: processed,
            });
        }
        let (mut recognition, grammar_ln) = self.finish(sentences)?;
        if let Some(grammar_ln) = grammar_ln {
            recognition.in_grammar = self.in_grammar(audio16k, grammar_ln);
        }
        Ok(recognition)
    }

    /// The in-grammar confidence of an utterance whose grammar path scored
    /// `grammar_ln`: the same audio decoded by the free phone loop, compared
    /// per frame (see [`LLR_SCALE`]). `None` when there is no phone loop or
    /// its pass fails (the recognition stands without it).
    fn in_grammar(&mut self, audio16k: &[i16], grammar_ln: f64) -> Option<f32> {
        let ps = self.ps.as_ptr();
        // SAFETY: valid decoder, between utterances.
        let frames = unsafe { ffi::ps_get_n_frames(ps) };
        if !self.phone_loop || frames <= 0 {
            return None;
        }
        let phone_ln = self.phone_loop_score(audio16k);
        // Back to the grammar whatever happened: the next utterance needs it.
        // SAFETY: valid decoder; the grammar search was loaded before.
        let back = unsafe { ffi::ps_set_search(ps, SEARCH.as_ptr()) };
        if back < 0 {
            // Reload on next use rather than decode with the wrong search.
            self.loaded = None;
        }
        let llr = (grammar_ln - phone_ln?) / f64::from(frames);
        Some(in_grammar_of_llr(llr))
    }

    /// Decodes `audio16k` with the free phone loop and returns its best path
    /// score (ln). Leaves the phone loop as the active search.
    fn phone_loop_score(&mut self, audio16k: &[i16]) -> Option<f64> {
        let ps = self.ps.as_ptr();
        // SAFETY (this block): ps is a valid decoder owned by self, between
        // utterances; `audio16k` is read during the call only.
        unsafe {
            if ffi::ps_set_search(ps, PHONE_LOOP.as_ptr()) < 0 || ffi::ps_start_utt(ps) < 0 {
                return None;
            }
            self.in_utterance = true;
            let processed = ffi::ps_process_raw(ps, audio16k.as_ptr(), audio16k.len(), 0, 1);
            if self.end_utterance() < 0 || processed < 0 {
                return None;
            }
            let mut score = 0i32;
            let hyp = ffi::ps_get_hyp(ps, &mut score);
            if hyp.is_null() {
                return None;
            }
            Some(ffi::logmath_log_to_ln(ffi::ps_get_logmath(ps), score))
        }
    }

    /// Ends the utterance in progress, if any (an abandoned or failed one too,
    /// so that the decoder can go back to the pool).
    fn end_utterance(&mut self) -> i32 {
        if !self.in_utterance {
            return 0;
        }
        self.in_utterance = false;
        // SAFETY: valid decoder with an utterance in progress.
        unsafe { ffi::ps_end_utt(self.ps.as_ptr()) }
    }

    /// Ends the utterance and returns its N-best: the best path, then lattice
    /// N-best entries that are complete `sentences` (the lattice A* also yields
    /// grammar prefixes such as "can i", which are no alternative).
    /// Also returns the best path's score (ln), if there is one.
    fn finish(
        &mut self,
        sentences: &BTreeSet<String>,
    ) -> Result<(Recognition, Option<f64>), AsrError> {
        let code = self.end_utterance();
        self.check("ps_end_utt", code)?;
        let ps = self.ps.as_ptr();
        // SAFETY (this block): ps is a valid decoder owned by self, its utterance
        // ended; returned strings are owned by the decoder and copied before the
        // next call on it.
        unsafe {
            let mut best_score = 0i32;
            let hyp = ffi::ps_get_hyp(ps, &mut best_score);
            if hyp.is_null() {
                return Ok((Recognition::default(), None));
            }
            let best_text = CStr::from_ptr(hyp).to_string_lossy().trim().to_owned();
            if best_text.is_empty() {
                return Ok((Recognition::default(), None));
            }
            let lmath = ffi::ps_get_logmath(ps);
            let posterior = ffi::logmath_exp(lmath, ffi::ps_get_prob(ps)) as f32;
            let best_ln = ffi::logmath_log_to_ln(lmath, best_score);

            let mut scored: Vec<(String, f64)> = Vec::new();
            let mut nbest = ffi::ps_nbest(ps);
            let mut visited = 0;
            // The A* search may yield the same words several times (different
            // segmentations); a bounded number of steps keeps this cheap.
            while !nbest.is_null() && scored.len() < MAX_ALTERNATIVES && visited < 50 {
                visited += 1;
                let mut score = 0i32;
                let text = ffi::ps_nbest_hyp(nbest, &mut score);
                if !text.is_null() {
                    let text = CStr::from_ptr(text).to_string_lossy().trim().to_owned();
                    if sentences.contains(&text)
                        && text != best_text
                        && !scored.iter().any(|(t, _)| *t == text)
                    {
                        scored.push((text, ffi::logmath_log_to_ln(lmath, score)));
                    }
                }
                nbest = ffi::ps_nbest_next(nbest);
            }
            if !nbest.is_null() {
                ffi::ps_nbest_free(nbest);
            }
            let recognition = Recognition {
                alternatives: rank((best_text, best_ln), posterior, scored),
                in_grammar: None,
            };
            Ok((recognition, Some(best_ln)))
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: ps came from ps_init and is freed once.
        unsafe { ffi::ps_free(self.ps.as_ptr()) };
    }
}

/// Maps the per-frame log-likelihood ratio of the grammar path against the
/// free phone loop to `0..=1` (see [`LLR_SCALE`]).
fn in_grammar_of_llr(llr: f64) -> f32 {
    if llr.is_nan() {
        return 0.0;
    }
    (1.0 / (1.0 + (-LLR_SCALE * llr).exp())) as f32
}

/// Orders the alternatives and gives them confidences: the decoder's best path
/// first, then the other complete sentences of the N-best. Confidences are a
/// softmax of the path scores (ln) over that list, times the lattice posterior of
/// the best path (which this library version reports as 1 for JSGF searches).
/// With no competing sentence the best path keeps the posterior alone: a forced
/// grammar accepts almost anything, so rejection is the matcher's job.
fn rank(best: (String, f64), posterior: f32, others: Vec<(String, f64)>) -> Vec<Hypothesis> {
    let all: Vec<(String, f64)> = std::iter::once(best).chain(others).collect();
    let max = all
        .iter()
        .map(|(_, s)| *s)
        .fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = all.iter().map(|(_, s)| (s - max).exp()).sum();
    let posterior = f64::from(posterior.clamp(0.0, 1.0));
    let mut out: Vec<Hypothesis> = all
        .into_iter()
        .map(|(text, s)| Hypothesis {
            text,
            confidence: (posterior * (s - max).exp() / total) as f32,
        })
        .collect();
    // Keep the best path first even when a lattice entry scores higher.
    out[1..].sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out.truncate(MAX_ALTERNATIVES);
    out
}

/// One utterance: upsampled as it comes, decoded whole by `finish`.
struct SphinxRecognizer {
    config: DecoderConfig,
    pool: Arc<Mutex<Vec<Decoder>>>,
    jsgf: String,
    words: Vec<GuessedWord>,
    sentences: Arc<BTreeSet<String>>,
    /// 8 kHz to 16 kHz, aligned on the utterance's first sample; taken by `finish`.
    upsampler: Option<crate::speech::resample::UtteranceUpsampler>,
    /// The utterance so far, at 16 kHz.
    audio16k: Vec<i16>,
}

impl Recognizer for SphinxRecognizer {
    fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError> {
        if let Some(upsampler) = self.upsampler.as_mut() {
            upsampler.push(samples, &mut self.audio16k)?;
        }
        Ok(())
    }

    fn partial(&mut self) -> Option<String> {
        None
    }

    fn finish(mut self: Box<Self>) -> Result<Recognition, AsrError> {
        if let Some(upsampler) = self.upsampler.take() {
            upsampler.finish(&mut self.audio16k)?;
        }
        SphinxEngine::decode(
            &self.pool,
            &self.config,
            (&self.jsgf, &self.words),
            &self.audio16k,
            &self.sentences,
        )
    }
}

#[cfg(test)]
mod tests {
    //! Dictionary parsing and ranking need no model.
    use super::*;

    #[test]
    fn dictionary_keeps_first_pronunciation() {
        let dict =
            parse_dictionary("martin M AA R T AH N\nmartin(2) M AA R T IH N\npaul P AO L\n\n");
        assert_eq!(
            dict.get("martin").map(String::as_str),
            Some("M AA R T AH N")
        );
        assert_eq!(dict.get("paul").map(String::as_str), Some("P AO L"));
        assert_eq!(dict.len(), 2);
    }

    #[test]
    fn rank_puts_best_path_first_and_shares_by_score() {
        let out = rank(
            ("paul martin".into(), -10.0),
            1.0,
            vec![("bakery".into(), -12.0), ("sophie martin".into(), -11.0)],
        );
        let texts: Vec<&str> = out.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(texts, ["paul martin", "sophie martin", "bakery"]);
        let z = 1.0 + (-1.0f64).exp() + (-2.0f64).exp();
        assert!(
            (f64::from(out[0].confidence) - 1.0 / z).abs() < 1e-6,
            "{out:?}"
        );
        assert!(
            (f64::from(out[1].confidence) - (-1.0f64).exp() / z).abs() < 1e-6,
            "{out:?}"
        );
        let alone = rank(("yes".into(), -5.0), 0.8, vec![]);
        assert_eq!(
            alone,
            vec![Hypothesis {
                text: "yes".into(),
                confidence: 0.8
            }]
        );
    }
}
