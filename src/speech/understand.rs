//! What a store's callers can say, compiled once per directory version, and the one
//! path from an utterance to a decision. Live calls and QA replay both go through
//! [`StoreSpeech`]: a change here changes both, which is what makes replay figures
//! trustworthy.

use std::collections::HashMap;
use std::sync::Arc;

use crate::asr::{AsrError, CompiledGrammar, Engine, GrammarSpec, Recognition, Recognizer};
use crate::directory::{Directory, DirectoryVersion, EntryId, StoreId};
use crate::flow::SpeechInterpreter;
use crate::matching::interpreter::MatchingInterpreter;
use crate::matching::{Decision, MatchError, NameIndex, Thresholds};

use super::endpoint::{EndpointEvent, EndpointSettings, Endpointer};
use super::resample::ResampleError;
use super::stream::{decode_blocks, decoded_part};

/// Why a store's speech set-up could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SpeechSetupError {
    #[error("{store} directory {version:?}: cannot compile the grammar")]
    Grammar { store: StoreId, version: DirectoryVersion, source: AsrError },
    #[error("{store} directory {version:?}: cannot build the name index")]
    Index { store: StoreId, version: DirectoryVersion, source: MatchError },
}

/// Everything speech needs for one store at one directory version: immutable,
/// shared by `Arc` between the calls that started on this version.
pub struct StoreSpeech {
    directory: Arc<Directory>,
    engine: Arc<dyn Engine>,
    grammar: CompiledGrammar,
    interpreter: Arc<MatchingInterpreter>,
    /// Spoken names for confirmations and disambiguation menus (live calls only;
    /// replay has none).
    name_audio: HashMap<EntryId, crate::media::prompt::PromptAudio>,
}

impl std::fmt::Debug for StoreSpeech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSpeech")
            .field("store", &self.directory.store.id)
            .field("version", &self.directory.version)
            .field("engine", &self.engine.kind())
            .finish()
    }
}

impl StoreSpeech {
    /// Compiles the grammar and the name index of `directory` for `engine`.
    /// CPU work (PocketSphinx may run a pronunciation guesser): not on async threads.
    pub fn build(directory: Arc<Directory>, engine: Arc<dyn Engine>, thresholds: Thresholds) -> Result<StoreSpeech, SpeechSetupError> {
        let (store, version) = (directory.store.id, directory.version);
        let grammar = engine
            .compile_grammar(&GrammarSpec::from_directory(&directory))
            .map_err(|source| SpeechSetupError::Grammar { store, version, source })?;
        let index = NameIndex::build(&directory).map_err(|source| SpeechSetupError::Index { store, version, source })?;
        let interpreter = Arc::new(MatchingInterpreter::new(index, &directory, thresholds));
        Ok(StoreSpeech { directory, engine, grammar, interpreter, name_audio: HashMap::new() })
    }

    /// Adds the entries' spoken names (see `directory::prompts::planned_names`).
    pub fn with_name_audio(mut self, name_audio: HashMap<EntryId, crate::media::prompt::PromptAudio>) -> StoreSpeech {
        self.name_audio = name_audio;
        self
    }

    /// The spoken name of `entry`, if it was synthesised.
    pub fn name_audio(&self, entry: EntryId) -> Option<&crate::media::prompt::PromptAudio> {
        self.name_audio.get(&entry)
    }

    /// The decision thresholds in force (the store's, else its engine's calibration).
    pub fn thresholds(&self) -> Thresholds {
        self.interpreter.thresholds
    }

    /// The directory version this was built from.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// The compiled grammar (its `rejected` list is the sync report's
    /// "cannot be recognised" section).
    pub fn grammar(&self) -> &CompiledGrammar {
        &self.grammar
    }

    /// The engine this was compiled for.
    pub fn engine(&self) -> &Arc<dyn Engine> {
        &self.engine
    }

    /// The decision logic, as the call flow takes it.
    pub fn interpreter(&self) -> Arc<dyn SpeechInterpreter> {
        self.interpreter.clone()
    }

    /// The same name index, for keypad name search (`flow::spelling`).
    pub fn name_search(&self) -> Arc<dyn crate::flow::NameSearch> {
        self.interpreter.clone()
    }

    /// A recognizer for one utterance of this store's grammar. Live calls start
    /// it on a decode worker when speech starts and feed it the blocks of a
    /// [`SpeechStream`](super::stream::SpeechStream) while the caller speaks.
    pub fn recognizer(&self) -> Result<Box<dyn Recognizer>, AsrError> {
        self.engine.recognizer(&self.grammar)
    }

    /// How much end-of-speech silence this store's engine decodes (`None`: all):
    /// the tail of the call's [`SpeechStream`](super::stream::SpeechStream).
    pub fn decoded_end_silence(&self) -> Option<std::time::Duration> {
        self.engine.decoded_end_silence()
    }

    /// Decodes one utterance of 8 kHz audio (its [`decoded_part`], for an
    /// endpointed one), fed in the blocks a live call streams
    /// ([`decode_blocks`]): the recognizer gets exactly the calls it gets live,
    /// so replay decides as the call did. Blocking and CPU-bound.
    pub fn recognize(&self, pcm_8k: &[i16]) -> Result<Recognition, AsrError> {
        let mut recognizer = self.recognizer()?;
        for block in decode_blocks(pcm_8k) {
            recognizer.push_audio(block)?;
        }
        recognizer.finish()
    }

    /// What a name utterance means (the same call the flow makes).
    pub fn decide(&self, recognition: &Recognition) -> Decision {
        self.interpreter.decide_name(recognition)
    }
}

/// One utterance found in a recording, recognised and decided.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderstoodUtterance {
    /// Where the endpointer ended the utterance, in samples from the start.
    pub ended_at_sample: u64,
    /// Length of the utterance audio, in samples.
    pub samples: usize,
    pub truncated: bool,
    pub recognition: Recognition,
    pub decision: Decision,
}

/// Why a recording could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum UnderstandError {
    #[error("endpointing failed")]
    Endpoint(#[from] ResampleError),
    #[error("recognition failed")]
    Asr(#[from] AsrError),
}

/// Runs a whole recording (8 kHz) through the live path: endpointer, engine,
/// decision. Each utterance found is decoded; the endpointer listens again after
/// each one, as a call does after a re-prompt. Trailing speech that never ended
/// (the recording stops mid-word) is flushed as a last utterance.
pub fn understand_recording(speech: &StoreSpeech, settings: &EndpointSettings, pcm_8k: &[i16]) -> Result<Vec<UnderstoodUtterance>, UnderstandError> {
    let mut endpointer = Endpointer::new(settings.clone())?;
    let mut out = Vec::new();
    // 20 ms pieces, as RTP delivers them; then enough silence to close a final utterance.
    let tail = vec![0i16; (settings.end_of_speech_silence.as_millis() as usize + 100) * 8];
    for piece in pcm_8k.chunks(160).chain(tail.chunks(160)) {
        for event in endpointer.push(piece)? {
            if let EndpointEvent::Utterance(u) = event {
                let recognition = speech.recognize(decoded_part(&u, speech.decoded_end_silence()))?;
                let decision = speech.decide(&recognition);
                out.push(UnderstoodUtterance {
                    ended_at_sample: u.ended_at_sample,
                    samples: u.pcm.len(),
                    truncated: u.truncated,
                    recognition,
                    decision,
                });
                endpointer.reset();
            }
        }
    }
    Ok(out)
}
