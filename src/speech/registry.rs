//! Every store's current [`StoreSpeech`], swapped atomically when its directory
//! changes.
//!
//! Engines are loaded once per language (the `[asr]` configuration says which
//! engine serves which language) and shared by every store of that language. Per
//! store, an [`ArcSwap`] holds the speech set-up of the store's current directory
//! version. A call takes the `Arc` when it starts ([`SpeechRegistry::current`])
//! and keeps it to the end: a directory change during the call swaps in a new
//! version for the next calls and leaves this one on its own.
//!
//! Compiling a version (grammar, name index, spoken names) is CPU and file work:
//! it runs on the blocking pool, never on the async threads. A store whose
//! language has no usable engine, or with speech off in its settings, has no
//! entry: its calls run the DTMF menu only (logged at start-up).
//!
//! [`SpeechRegistry::refresh`] is the seam for directory change notifications:
//! whoever commits a directory change (the admin API, a sync job) calls it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use tracing::{error, info, warn};

use super::understand::{SpeechSetupError, StoreSpeech};
use crate::asr::models::{self, ModelManifest};
use crate::asr::sphinx::SphinxEngine;
use crate::asr::vosk::VoskEngine;
use crate::asr::{AsrError, Engine, EngineKind};
use crate::matching::calibration::{self, Calibration};
use crate::config::AsrConfig;
use crate::directory::prompts::{PromptTexts, planned_names, synthesize};
use crate::directory::store::{DirectoryStore, StoreError};
use crate::directory::{Directory, Language, StoreId};
use crate::flow::FlowSettings;
use crate::media::prompt::PromptAudio;

/// Why a store's speech could not be (re)built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read store {store} from the directory database")]
    Store {
        store: StoreId,
        #[source]
        source: StoreError,
    },
    #[error("cannot compile the speech set-up of store {store}")]
    Setup {
        store: StoreId,
        #[source]
        source: SpeechSetupError,
    },
    /// The blocking task building the set-up panicked or was cancelled.
    #[error("the speech build task of store {store} failed")]
    Task {
        store: StoreId,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Where the registry finds models and prompt texts.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    pub asr: AsrConfig,
    /// Prompts folder: spoken names go to `names/<lang>/`.
    pub prompts_dir: PathBuf,
    /// Prompt texts (`<lang>.toml`): the voice that speaks names.
    pub prompt_texts_dir: PathBuf,
    /// Fleet flow defaults (a store's settings override them: `speech_enabled`, `thresholds`).
    pub flow_defaults: FlowSettings,
}

/// An engine slot: loaded, or known to be unusable (tried once).
type EngineSlot = Option<Arc<dyn Engine>>;

/// The stores' speech set-ups, current version each.
pub struct SpeechRegistry {
    settings: RegistrySettings,
    directory: DirectoryStore,
    /// Engines by language, loaded on first need and kept for the process.
    /// Only locked while building (blocking pool), never on a call's path.
    engines: Mutex<HashMap<Language, EngineSlot>>,
    stores: RwLock<HashMap<StoreId, ArcSwap<StoreSpeech>>>,
    /// Per-engine thresholds read at start (`[asr] calibration_dir`).
    calibration: Calibration,
}

impl std::fmt::Debug for SpeechRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stores: Vec<StoreId> = self.stores.read().map(|s| s.keys().copied().collect()).unwrap_or_default();
        f.debug_struct("SpeechRegistry").field("stores", &stores).finish()
    }
}

impl SpeechRegistry {
    /// Builds the speech set-up of every store (engines loaded as their
    /// languages need them). A store that cannot get one is logged and runs
    /// DTMF-only; only an unreadable store list is an error.
    pub async fn start(settings: RegistrySettings, directory: DirectoryStore) -> Result<Arc<SpeechRegistry>, StoreError> {
        let stores = directory.list_stores().await?;
        let dir = settings.asr.calibration_dir.clone().unwrap_or_else(calibration::default_dir);
        let calibration = Calibration::load(&dir).unwrap_or_else(|error| {
            error!(error = %error_chain(&error), "calibration unusable: built-in thresholds used");
            Calibration::default()
        });
        let registry = Arc::new(SpeechRegistry {
            calibration,
            settings,
            directory,
            engines: Mutex::new(HashMap::new()),
            stores: RwLock::new(HashMap::new()),
        });
        for store in stores {
            if let Err(error) = registry.refresh(store.id).await {
                warn!(store = %store.number, error = %error_chain(&error), "speech unavailable: DTMF menu only");
            }
        }
        Ok(registry)
    }

    /// The speech set-up a call starting now uses, if the store has speech.
    pub fn current(&self, store: StoreId) -> Option<Arc<StoreSpeech>> {
        let stores = self.stores.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        stores.get(&store).map(ArcSwap::load_full)
    }

    /// Rebuilds `store`'s speech from its current directory and settings and
    /// swaps it in; calls in progress keep the version they started with. Call
    /// it after every committed directory or settings change. With speech off,
    /// or no engine for the store's language, the store's entry is removed.
    pub async fn refresh(self: &Arc<Self>, store: StoreId) -> Result<(), RegistryError> {
        let directory = self
            .directory
            .load_directory(store)
            .await
            .map_err(|source| RegistryError::Store { store, source })?;
        let flow = match self.directory.store_settings(store).await {
            Ok(overrides) => overrides.resolve(&self.settings.flow_defaults).unwrap_or_else(|error| {
                warn!(store = %directory.store.number, %error, "store settings unusable: fleet defaults used");
                self.settings.flow_defaults.clone()
            }),
            Err(source) => return Err(RegistryError::Store { store, source }),
        };
        if !flow.speech_enabled {
            self.remove(store);
            info!(store = %directory.store.number, "speech off in the store's settings");
            return Ok(());
        }
        let registry = self.clone();
        let built = tokio::task::spawn_blocking(move || registry.build(directory, &flow))
            .await
            .map_err(|source| RegistryError::Task { store, source })??;
        match built {
            Some(speech) => {
                let speech = Arc::new(speech);
                let mut stores = self.stores.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                match stores.get(&store) {
                    Some(slot) => slot.store(speech),
                    None => {
                        stores.insert(store, ArcSwap::new(speech));
                    }
                }
            }
            None => self.remove(store),
        }
        Ok(())
    }

    fn remove(&self, store: StoreId) {
        self.stores.write().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&store);
    }

    /// Compiles one directory version (blocking). `None`: no engine for its language.
    fn build(&self, directory: Directory, flow: &FlowSettings) -> Result<Option<StoreSpeech>, RegistryError> {
        let (store, number, language) = (directory.store.id, directory.store.number.clone(), directory.store.language);
        let Some(engine) = self.engine(language) else {
            warn!(store = %number, ?language, "no speech engine for the store's language: DTMF menu only");
            return Ok(None);
        };
        let directory = Arc::new(directory);
        let thresholds = self.calibration.resolve(flow.thresholds, engine.kind());
        let speech = StoreSpeech::build(directory.clone(), engine, thresholds)
            .map_err(|source| RegistryError::Setup { store, source })?;
        // The sync report: names callers cannot say (they stay reachable by DTMF).
        let grammar = speech.grammar();
        for rejected in &grammar.rejected {
            warn!(store = %number, phrase = %rejected.phrase.text, unknown_words = ?rejected.unknown_words, "cannot be recognised");
        }
        for guessed in &grammar.guessed {
            info!(store = %number, word = %guessed.word, phones = %guessed.phones, "pronunciation guessed");
        }
        let name_audio = self.name_audio(&directory);
        info!(
            store = %number,
            version = directory.version.0,
            engine = ?speech.engine().kind(),
            phrases = grammar.accepted.len(),
            rejected = grammar.rejected.len(),
            guessed = grammar.guessed.len(),
            names_spoken = name_audio.len(),
            "speech ready"
        );
        Ok(Some(speech.with_name_audio(name_audio)))
    }

    /// Spoken names of the directory's entries (see [`spoken_names`]).
    fn name_audio(&self, directory: &Directory) -> HashMap<crate::directory::EntryId, PromptAudio> {
        spoken_names(&self.settings.prompts_dir, &self.settings.prompt_texts_dir, directory)
    }

    /// The engine serving `language`, shared with the calls; loaded on first
    /// use, which blocks (seconds for a Vosk model): call it off the async
    /// threads. `None`: no engine configured for the language, or it failed
    /// to load.
    pub fn engine_for(&self, language: Language) -> Option<Arc<dyn Engine>> {
        self.engine(language)
    }

    /// Languages whose configured engine was tried and could not be loaded:
    /// the node is not ready while there is one (see [`crate::ops::health`]).
    pub fn failed_engines(&self) -> Vec<Language> {
        let engines = self.engines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        engines
            .iter()
            .filter(|(language, slot)| slot.is_none() && self.settings.asr.engine_for(**language).is_some())
            .map(|(language, _)| *language)
            .collect()
    }

    /// The engine of `language`, loaded on first use (blocking).
    fn engine(&self, language: Language) -> EngineSlot {
        let mut engines = self.engines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        engines
            .entry(language)
            .or_insert_with(|| {
                let kind = self.settings.asr.engine_for(language)?;
                match load_engine(&self.settings.asr, kind, language) {
                    Ok(engine) => {
                        info!(?language, engine = ?kind, "speech engine loaded");
                        Some(engine)
                    }
                    Err(error) => {
                        warn!(?language, engine = ?kind, error = %error_chain(&error), "speech engine unavailable");
                        None
                    }
                }
            })
            .clone()
    }
}

/// Spoken names of the directory's entries, synthesised into `prompts_dir` when
/// missing (blocking: espeak-ng and file IO). A name that cannot be spoken is
/// logged; its prompts play without it. Also used by keypad name search for
/// stores without speech (`runtime::spelling`).
pub fn spoken_names(prompts_dir: &Path, prompt_texts_dir: &Path, directory: &Directory) -> HashMap<crate::directory::EntryId, PromptAudio> {
    let texts = match PromptTexts::load(prompt_texts_dir, directory.store.language) {
        Ok(texts) => texts,
        Err(error) => {
            warn!(store = %directory.store.number, error = %error_chain(&error), "no prompt texts: names will not be spoken");
            return HashMap::new();
        }
    };
    let mut audio = HashMap::new();
    for (entry, planned) in planned_names(&texts, directory) {
        let loaded = synthesize(prompts_dir, &planned)
            .map_err(|error| error_chain(&error))
            .and_then(|_| PromptAudio::load(&prompts_dir.join(&planned.file)).map_err(|error| error_chain(&error)));
        match loaded {
            Ok(spoken) => {
                audio.insert(entry, spoken);
            }
            Err(error) => warn!(store = %directory.store.number, name = %planned.text, %error, "cannot speak the name"),
        }
    }
    audio
}

/// Loads `kind`'s model for `language` as its manifest describes it.
pub fn load_engine(asr: &AsrConfig, kind: EngineKind, language: Language) -> Result<Arc<dyn Engine>, AsrError> {
    let manifest_dir = asr.manifest_dir.clone().unwrap_or_else(models::default_manifest_dir);
    let deps_dir = asr.deps_dir.clone().unwrap_or_else(models::default_deps_dir);
    let manifest = ModelManifest::find(&manifest_dir, kind, language)?;
    let dir = manifest.installed_dir(&deps_dir)?;
    Ok(match kind {
        EngineKind::Vosk => Arc::new(VoskEngine::load(&dir, language)?),
        EngineKind::Sphinx => {
            let files = manifest.sphinx.ok_or(AsrError::ModelLoad { engine: kind, path: dir.clone() })?;
            Arc::new(SphinxEngine::load(&dir.join(files.hmm), &dir.join(files.dict))?)
        }
    })
}

/// An error and its causes on one line, for logs.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
