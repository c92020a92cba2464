//! Keypad name search for live calls (`flow::spelling`): the name index and
//! the audio the flow's spelling prompts need.
//!
//! A store with speech already has a name index and spoken names for the
//! directory version its calls run on ([`StoreSpeech`]): spelling uses those.
//! A store without speech gets them from [`KeypadIndexes`], built once per
//! directory version on the blocking pool (index, and spoken names
//! synthesised when missing) and shared by the calls of that version; the
//! first call after a directory change waits for the build while it rings
//! (a few ms for the index; espeak-ng for each new name).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::{info, warn};

use crate::directory::prompts::{OPTION_KEYS, option_key_file, resolve_prompt};
use crate::directory::{Directory, DirectoryVersion, EntryId, StoreId};
use crate::flow::{FlowSettings, NameSearch, Prompt};
use crate::matching::NameIndex;
use crate::media::prompt::{PromptAudio, PromptCache};
use crate::speech::registry::spoken_names;
use crate::speech::understand::StoreSpeech;

/// The prompts of keypad name search that have a fixed text.
const SPELLING_PROMPTS: [Prompt; 4] = [
    Prompt::SpellName,
    Prompt::NoNameMatch,
    Prompt::NamesMatch,
    Prompt::TooManyNames,
];

/// One directory version of a store without speech, ready for name search.
#[derive(Debug)]
struct KeypadDirectory {
    version: DirectoryVersion,
    index: Arc<NameIndex>,
    names: Arc<HashMap<EntryId, PromptAudio>>,
}

/// Name indexes (and spoken names) of the stores without speech, latest
/// version each.
#[derive(Debug)]
pub(super) struct KeypadIndexes {
    prompts_dir: PathBuf,
    prompt_texts_dir: PathBuf,
    built: Mutex<HashMap<StoreId, Arc<KeypadDirectory>>>,
    /// The process's prompt audio: spelling prompts are read through it, so
    /// calls share one decoded copy (they once decoded 13 files each).
    prompt_cache: Arc<PromptCache>,
}

impl KeypadIndexes {
    pub(super) fn new(
        prompts_dir: PathBuf,
        prompt_texts_dir: PathBuf,
        prompt_cache: Arc<PromptCache>,
    ) -> KeypadIndexes {
        KeypadIndexes {
            prompts_dir,
            prompt_texts_dir,
            built: Mutex::new(HashMap::new()),
            prompt_cache,
        }
    }

    /// The index of `directory`'s version, built if no call had it yet. `None`
    /// (logged) when it cannot be built: the call goes on without spelling.
    async fn get(&self, directory: &Arc<Directory>) -> Option<Arc<KeypadDirectory>> {
        let (store, version) = (directory.store.id, directory.version);
        if let Some(found) = self
            .lock()
            .get(&store)
            .filter(|found| found.version == version)
        {
            return Some(found.clone());
        }
        let (prompts_dir, texts_dir, building) = (
            self.prompts_dir.clone(),
            self.prompt_texts_dir.clone(),
            directory.clone(),
        );
        let built =
            tokio::task::spawn_blocking(move || build(&prompts_dir, &texts_dir, &building)).await;
        let built = match built {
            Ok(Ok(built)) => Arc::new(built),
            Ok(Err(error)) => {
                warn!(%error, "cannot build the keypad name index: no name search");
                return None;
            }
            Err(error) => {
                warn!(%error, "keypad name index task failed: no name search");
                return None;
            }
        };
        info!(
            version = version.0,
            names_spoken = built.names.len(),
            "keypad name index ready"
        );
        let mut cache = self.lock();
        // Two first calls may race: keep the newer version.
        if cache
            .get(&store)
            .is_none_or(|cached| cached.version <= version)
        {
            cache.insert(store, built.clone());
        }
        Some(built)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StoreId, Arc<KeypadDirectory>>> {
        // The map holds finished builds only: a panic elsewhere cannot leave it half-written.
        self.built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn build(
    prompts_dir: &Path,
    texts_dir: &Path,
    directory: &Directory,
) -> Result<KeypadDirectory, crate::matching::MatchError> {
    let index = NameIndex::build(directory)?;
    let names = spoken_names(prompts_dir, texts_dir, directory);
    Ok(KeypadDirectory {
        version: directory.version,
        index: Arc::new(index),
        names: Arc::new(names),
    })
}

/// What one call needs for keypad name search.
#[derive(Debug)]
pub(super) struct CallSpelling {
    /// Given to the flow ([`crate::flow::Call::with_name_search`]).
    pub(super) search: Arc<dyn NameSearch>,
    /// Spoken names of stores without speech (speech stores' come from `StoreSpeech`).
    names: Arc<HashMap<EntryId, PromptAudio>>,
    prompts: HashMap<Prompt, PromptAudio>,
    /// "press N" after each offered name.
    options: HashMap<char, PromptAudio>,
}

impl CallSpelling {
    /// The audio of a fixed spelling prompt, if loaded.
    pub(super) fn prompt(&self, prompt: Prompt) -> Option<&PromptAudio> {
        self.prompts.get(&prompt)
    }

    /// "press `key`", if loaded.
    pub(super) fn option(&self, key: char) -> Option<&PromptAudio> {
        self.options.get(&key)
    }

    /// The spoken name of `entry` (stores without speech).
    pub(super) fn name(&self, entry: EntryId) -> Option<&PromptAudio> {
        self.names.get(&entry)
    }
}

/// Keypad name search for a call on `directory`, when its settings name a
/// spell key: the speech set-up's index if the call has one, else the
/// store's keypad index. Prompt files that are missing are logged and skipped
/// when played, as speech prompts are.
pub(super) async fn prepare(
    indexes: &KeypadIndexes,
    prompts_dir: &Path,
    directory: &Arc<Directory>,
    settings: &FlowSettings,
    speech: Option<&Arc<StoreSpeech>>,
) -> Option<CallSpelling> {
    settings.spell_key?;
    let (search, names): (Arc<dyn NameSearch>, _) = match speech {
        Some(speech) => (speech.name_search(), Arc::new(HashMap::new())),
        None => {
            let built = indexes.get(directory).await?;
            (built.index.clone(), built.names.clone())
        }
    };
    let fixed: Vec<(Prompt, PathBuf)> = SPELLING_PROMPTS
        .into_iter()
        .map(|prompt| {
            (
                prompt,
                resolve_prompt(prompts_dir, &directory.store, prompt),
            )
        })
        .collect();
    let options: Vec<(char, PathBuf)> = OPTION_KEYS
        .into_iter()
        .map(|key| {
            (
                key,
                prompts_dir.join(option_key_file(directory.store.language, key)),
            )
        })
        .collect();
    let cache = indexes.prompt_cache.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let load = |path: &Path| match cache.load(path) {
            Ok(audio) => Some(audio),
            Err(error) => {
                warn!(%error, "spelling prompt missing: it will be skipped");
                None
            }
        };
        let prompts = fixed
            .iter()
            .filter_map(|(prompt, path)| Some((*prompt, load(path)?)))
            .collect();
        let options = options
            .iter()
            .filter_map(|(key, path)| Some((*key, load(path)?)))
            .collect();
        (prompts, options)
    })
    .await;
    let (prompts, options) = loaded.unwrap_or_else(|error| {
        warn!(%error, "spelling prompt loading task failed: spelling prompts skipped");
        (HashMap::new(), HashMap::new())
    });
    Some(CallSpelling {
        search,
        names,
        prompts,
        options,
    })
}

#[cfg(test)]
mod tests {
    //! Keypad indexes are built once per directory version and shared; a new
    //! version gets a new index; a call gets spelling only with a spell key.
    use super::*;
    use crate::directory::{Entry, Language, Store, TransferTarget};
    use crate::flow::MenuKey;

    fn directory(version: i64, names: &[&str]) -> Arc<Directory> {
        let entries = names
            .iter()
            .enumerate()
            .map(|(i, name)| Entry {
                id: EntryId(i as i64 + 1),
                display_name: (*name).to_owned(),
                aliases: vec![],
                department: None,
                extension: None,
                target: TransferTarget::Extension(format!("{}", 300 + i)),
                fallback: None,
                enabled: true,
            })
            .collect();
        Arc::new(Directory {
            store: Store {
                id: StoreId(5),
                name: "S".to_owned(),
                number: "5000".to_owned(),
                language: Language::En,
                operator: TransferTarget::Extension("100".to_owned()),
            },
            version: DirectoryVersion(version),
            entries,
            menu: vec![],
        })
    }

    /// Indexes whose prompt texts do not exist: no names are spoken (logged),
    /// so the test runs no synthesiser.
    fn indexes(dir: &Path) -> KeypadIndexes {
        KeypadIndexes::new(
            dir.join("prompts"),
            dir.join("no-texts"),
            Arc::new(PromptCache::default()),
        )
    }

    #[tokio::test]
    async fn one_index_per_directory_version() {
        let dir = tempfile::tempdir().unwrap();
        let indexes = indexes(dir.path());
        let v1 = directory(1, &["Julie Petit", "Karine Durand"]);
        let first = indexes.get(&v1).await.expect("v1 builds");
        let again = indexes.get(&v1).await.expect("v1 cached");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same version is built once"
        );
        assert_eq!(first.index.keypad_search("5"), [EntryId(1), EntryId(2)]);

        let v2 = directory(2, &["Julie Petit"]);
        let second = indexes.get(&v2).await.expect("v2 builds");
        assert!(
            !Arc::ptr_eq(&first, &second),
            "a new version gets a new index"
        );
        assert_eq!(second.index.keypad_search("5"), [EntryId(1)]);
        assert!(second.names.is_empty(), "no prompt texts, no spoken names");
    }

    #[tokio::test]
    async fn calls_get_spelling_only_with_a_spell_key() {
        let dir = tempfile::tempdir().unwrap();
        let indexes = indexes(dir.path());
        let v1 = directory(1, &["Julie Petit"]);
        let prompts_dir = dir.path().join("prompts");
        let off = FlowSettings::default();
        assert!(
            prepare(&indexes, &prompts_dir, &v1, &off, None)
                .await
                .is_none()
        );
        let on = FlowSettings {
            spell_key: Some(MenuKey::new('9').unwrap()),
            ..FlowSettings::default()
        };
        let spelling = prepare(&indexes, &prompts_dir, &v1, &on, None)
            .await
            .expect("spelling on");
        assert_eq!(spelling.search.keypad_search("58"), [EntryId(1)]);
        // Missing prompt files are skipped, not fatal.
        assert!(spelling.prompt(Prompt::SpellName).is_none() && spelling.option('1').is_none());
    }

    /// Issue 11: a heap profile found 13 prompt decodings per call (the 4
    /// spelling prompts and 9 "press N"), read past the process's prompt
    /// cache. Every call must share the one decoded copy.
    #[tokio::test]
    async fn calls_share_one_decoded_copy_of_the_spelling_prompts() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(PromptCache::default());
        let prompts_dir = dir.path().join("prompts");
        let indexes = KeypadIndexes::new(
            prompts_dir.clone(),
            dir.path().join("no-texts"),
            cache.clone(),
        );
        let v1 = directory(1, &["Julie Petit"]);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let files = SPELLING_PROMPTS
            .iter()
            .map(|&prompt| resolve_prompt(&prompts_dir, &v1.store, prompt))
            .chain(
                OPTION_KEYS
                    .iter()
                    .map(|&key| prompts_dir.join(option_key_file(v1.store.language, key))),
            );
        for path in files {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut writer = hound::WavWriter::create(&path, spec).unwrap();
            for i in 0..800i16 {
                writer.write_sample(i).unwrap();
            }
            writer.finalize().unwrap();
        }
        let on = FlowSettings {
            spell_key: Some(MenuKey::new('9').unwrap()),
            ..FlowSettings::default()
        };
        let mut calls = Vec::new();
        for _ in 0..20 {
            calls.push(
                prepare(&indexes, &prompts_dir, &v1, &on, None)
                    .await
                    .expect("spelling on"),
            );
        }
        let same = |a: &PromptAudio, b: &PromptAudio| {
            std::ptr::eq(a.samples().as_ptr(), b.samples().as_ptr())
        };
        let first = &calls[0];
        for call in &calls[1..] {
            for prompt in SPELLING_PROMPTS {
                assert!(
                    same(
                        first.prompt(prompt).expect("loaded"),
                        call.prompt(prompt).unwrap()
                    ),
                    "{prompt:?} shared"
                );
            }
            for key in OPTION_KEYS {
                assert!(
                    same(
                        first.option(key).expect("loaded"),
                        call.option(key).unwrap()
                    ),
                    "option {key} shared"
                );
            }
        }
        assert_eq!(cache.decodes(), 13, "each file decoded once for 20 calls");
    }
}
