//! Where each store's prompt WAVs live, and the texts they are made from.
//!
//! Layout under the prompts folder (`paths.prompts_dir`):
//! - `default/<lang>/<stem>.wav`: one per [`Prompt`] and language;
//! - `stores/<number>/<stem>.wav`: a store's own version of a prompt (today the
//!   menu, spoken from the store's menu labels), used instead of the default;
//! - `default/<lang>/disambiguation_option_<key>.wav`: "press 1" … "press 9";
//! - `default/<lang>/{spell_name,…}.wav`: keypad name search
//!   ([`Prompt::SPELLING_FILE_STEMS`]);
//! - `names/<lang>/<hash>.wav`: an entry's spoken name ("Sophie Martin,
//!   Accounting"), named by a hash of voice and text so that a directory version
//!   re-uses every name an earlier version already had spoken.
//!
//! The texts are in `prompts/texts/<lang>.toml`; `scripts/make-prompts.sh`
//! speaks the [`plan`] with espeak-ng, and the speech registry speaks missing
//! names with [`synthesize`] (the same commands) when it compiles a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

use super::{Directory, Entry, Language, MenuOption, Store};
use crate::flow::Prompt;

/// Keys a disambiguation menu can offer, one "press N" file each.
pub const OPTION_KEYS: [char; 9] = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

/// Why prompt texts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptTextsError {
    #[error("cannot read prompt texts {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("prompt texts {path} are invalid")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    /// `[prompts]` lacks the text of a prompt.
    #[error("prompt texts {path}: no text for prompt {stem:?}")]
    MissingPrompt { path: PathBuf, stem: &'static str },
    /// `[prompts]` has a key that is no prompt's file stem.
    #[error(
        "prompt texts {path}: {key:?} is not a prompt (expected one of the flow::Prompt file stems)"
    )]
    UnknownPrompt { path: PathBuf, key: String },
    /// `prompts.disambiguation_option` lacks `{key}`.
    #[error("prompt texts {path}: prompts.disambiguation_option must contain {{key}}")]
    KeyTemplate { path: PathBuf },
    /// `store_menu.option` lacks `{label}` or `{digit}`.
    #[error("prompt texts {path}: store_menu.option must contain {{label}} and {{digit}}")]
    OptionTemplate { path: PathBuf },
    /// `store_menu.spell` lacks `{digit}`.
    #[error("prompt texts {path}: store_menu.spell must contain {{digit}}")]
    SpellTemplate { path: PathBuf },
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TextsFile {
    voice: String,
    prompts: BTreeMap<String, String>,
    store_menu: StoreMenuTexts,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreMenuTexts {
    intro: String,
    option: String,
    /// The keypad name search option, when the store has a spell key.
    spell: String,
    outro: String,
}

/// The prompt texts of one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTexts {
    /// The espeak-ng voice that speaks them.
    pub voice: String,
    prompts: BTreeMap<Prompt, String>,
    /// Speech prompts by file stem ([`Prompt::SPEECH_FILE_STEMS`]).
    speech: BTreeMap<&'static str, String>,
    /// Keypad name search prompts by file stem ([`Prompt::SPELLING_FILE_STEMS`]).
    spelling: BTreeMap<&'static str, String>,
    store_menu: StoreMenuTexts,
}

impl PromptTexts {
    /// Reads `<texts_dir>/<lang>.toml`.
    pub fn load(texts_dir: &Path, language: Language) -> Result<PromptTexts, PromptTextsError> {
        let path = texts_dir.join(format!("{}.toml", language.code()));
        let text = std::fs::read_to_string(&path).map_err(|source| PromptTextsError::Read {
            path: path.clone(),
            source,
        })?;
        let file: TextsFile = toml::from_str(&text).map_err(|source| PromptTextsError::Parse {
            path: path.clone(),
            source,
        })?;
        let mut by_stem = file.prompts;
        let mut prompts = BTreeMap::new();
        for prompt in Prompt::ALL {
            let stem = prompt.file_stem();
            let text = by_stem
                .remove(stem)
                .ok_or(PromptTextsError::MissingPrompt {
                    path: path.clone(),
                    stem,
                })?;
            prompts.insert(prompt, one_line(&text));
        }
        let mut speech = BTreeMap::new();
        for stem in Prompt::SPEECH_FILE_STEMS {
            let text = by_stem.remove(stem).ok_or(PromptTextsError::MissingPrompt {
                path: path.clone(),
                stem,
            })?;
            speech.insert(stem, one_line(&text));
        }
        let mut spelling = BTreeMap::new();
        for stem in Prompt::SPELLING_FILE_STEMS {
            let text = by_stem.remove(stem).ok_or(PromptTextsError::MissingPrompt {
                path: path.clone(),
                stem,
            })?;
            spelling.insert(stem, one_line(&text));
        }
        if !speech
            .get(Prompt::DisambiguationOption { key: '1', entry: super::EntryId(0) }.file_stem())
            .is_some_and(|text| text.contains("{key}"))
        {
            return Err(PromptTextsError::KeyTemplate { path });
        }
        if let Some(key) = by_stem.into_keys().next() {
            return Err(PromptTextsError::UnknownPrompt { path, key });
        }
        let option = &file.store_menu.option;
        if !option.contains("{label}") || !option.contains("{digit}") {
            return Err(PromptTextsError::OptionTemplate { path });
        }
        if !file.store_menu.spell.contains("{digit}") {
            return Err(PromptTextsError::SpellTemplate { path });
        }
        Ok(PromptTexts {
            voice: file.voice,
            prompts,
            speech,
            spelling,
            store_menu: file.store_menu,
        })
    }

    /// The default text of `prompt`.
    pub fn text(&self, prompt: Prompt) -> &str {
        // `load` inserted every prompt of Prompt::ALL, and Prompt has no other values.
        self.prompts
            .get(&prompt)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The speech prompt files of this language (relative to the prompts folder)
    /// and their texts: the fixed speech prompts, then "press N" for each key.
    pub fn speech_prompts(&self, language: Language) -> Vec<(PathBuf, String)> {
        let folder = PathBuf::from("default").join(language.code());
        let mut files = Vec::new();
        for (stem, text) in &self.speech {
            if *stem == "disambiguation_option" {
                for key in OPTION_KEYS {
                    files.push((option_key_file(language, key), text.replace("{key}", &key.to_string())));
                }
            } else {
                files.push((folder.join(format!("{stem}.wav")), text.clone()));
            }
        }
        files
    }

    /// The keypad name search prompt files of this language (relative to the
    /// prompts folder) and their texts. Their options are the speech
    /// `disambiguation_option_<key>` files ([`Self::speech_prompts`]).
    pub fn spelling_prompts(&self, language: Language) -> Vec<(PathBuf, String)> {
        let folder = PathBuf::from("default").join(language.code());
        self.spelling
            .iter()
            .map(|(stem, text)| (folder.join(format!("{stem}.wav")), text.clone()))
            .collect()
    }

    /// The text of a store's own menu prompt: intro, one sentence per option (in
    /// digit order, the spell key's among them when it has one, unless an
    /// option takes its digit: the option wins, as in `flow::digits`), outro.
    pub fn store_menu_text(&self, menu: &[MenuOption], spell_key: Option<char>) -> String {
        let mut options: Vec<(char, String)> = menu
            .iter()
            .map(|option| {
                let text = self
                    .store_menu
                    .option
                    .replace("{label}", &option.label)
                    .replace("{digit}", &option.digit.to_string());
                (option.digit, text)
            })
            .collect();
        if let Some(key) = spell_key.filter(|key| menu.iter().all(|option| option.digit != *key)) {
            options.push((key, self.store_menu.spell.replace("{digit}", &key.to_string())));
        }
        options.sort_by_key(|(digit, _)| *digit);
        let mut sentences = vec![self.store_menu.intro.clone()];
        sentences.extend(options.into_iter().map(|(_, text)| text));
        sentences.push(self.store_menu.outro.clone());
        one_line(&sentences.join(" "))
    }
}

/// Collapses whitespace (newlines of multi-line TOML strings included): the plan
/// is printed one prompt per line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `default/<lang>/<stem>.wav`, relative to the prompts folder.
pub fn default_prompt_file(language: Language, prompt: Prompt) -> PathBuf {
    PathBuf::from("default")
        .join(language.code())
        .join(format!("{}.wav", prompt.file_stem()))
}

/// `stores/<number>/<stem>.wav`, relative to the prompts folder.
pub fn store_prompt_file(number: &str, prompt: Prompt) -> PathBuf {
    PathBuf::from("stores")
        .join(number)
        .join(format!("{}.wav", prompt.file_stem()))
}

/// The WAV to play for `prompt` in `store`: the store's own file if present,
/// else the default of its language.
pub fn resolve_prompt(prompts_dir: &Path, store: &Store, prompt: Prompt) -> PathBuf {
    let own = prompts_dir.join(store_prompt_file(&store.number, prompt));
    if own.is_file() {
        own
    } else {
        prompts_dir.join(default_prompt_file(store.language, prompt))
    }
}

/// `default/<lang>/disambiguation_option_<key>.wav`: "press `key`".
pub fn option_key_file(language: Language, key: char) -> PathBuf {
    PathBuf::from("default")
        .join(language.code())
        .join(format!("disambiguation_option_{key}.wav"))
}

/// What a confirmation or a disambiguation option says for `entry`: its name,
/// and its department when it has one (namesakes differ by department).
pub fn name_text(entry: &Entry) -> String {
    match entry.department.as_deref().map(str::trim) {
        Some(department) if !department.is_empty() && department != entry.display_name => {
            one_line(&format!("{}, {department}.", entry.display_name))
        }
        _ => one_line(&format!("{}.", entry.display_name)),
    }
}

/// `names/<lang>/<hash>.wav`, relative to the prompts folder: the hash covers
/// voice and text, so a renamed entry or another voice gets a new file.
pub fn name_audio_file(language: Language, voice: &str, text: &str) -> PathBuf {
    let digest = sha2::Sha256::digest(format!("{voice}\t{text}").as_bytes());
    let hex: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    PathBuf::from("names").join(language.code()).join(format!("{hex}.wav"))
}

/// The spoken names of a directory's enabled entries, by entry.
pub fn planned_names(texts: &PromptTexts, directory: &Directory) -> Vec<(super::EntryId, PlannedPrompt)> {
    directory
        .entries
        .iter()
        .filter(|entry| entry.enabled)
        .map(|entry| {
            let text = name_text(entry);
            let file = name_audio_file(directory.store.language, &texts.voice, &text);
            (entry.id, PlannedPrompt { file, voice: texts.voice.clone(), text })
        })
        .collect()
}

/// Why a prompt could not be spoken.
#[derive(Debug, thiserror::Error)]
pub enum SynthesisError {
    #[error("cannot run {program} for {file}")]
    Spawn {
        program: &'static str,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} failed for {file} ({status})")]
    Failed {
        program: &'static str,
        file: PathBuf,
        status: std::process::ExitStatus,
    },
    #[error("cannot write {file}")]
    Write {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Speaks `prompt` into `prompts_dir/prompt.file` unless the file exists (the
/// name is a hash of its voice and text: an existing file is the right one).
/// The same commands as `scripts/make-prompts.sh`: espeak-ng at 150 words per
/// minute, then sox to 8 kHz mono 16-bit without dither. Blocking: run it off
/// the async threads. Returns whether a file was written.
pub fn synthesize(prompts_dir: &Path, prompt: &PlannedPrompt) -> Result<bool, SynthesisError> {
    let target = prompts_dir.join(&prompt.file);
    if target.is_file() {
        return Ok(false);
    }
    let write_error = |source| SynthesisError::Write { file: target.clone(), source };
    let folder = target.parent().unwrap_or(prompts_dir);
    std::fs::create_dir_all(folder).map_err(write_error)?;
    // Temporary files in the target folder: the final rename is atomic, so a
    // call never reads a half-written name.
    let work = tempfile::Builder::new().prefix(".synth").tempdir_in(folder).map_err(write_error)?;
    let speech = work.path().join("speech.wav");
    let converted = work.path().join("prompt.wav");
    let run = |program: &'static str, command: &mut Command| -> Result<(), SynthesisError> {
        let status = command.status().map_err(|source| SynthesisError::Spawn {
            program,
            file: target.clone(),
            source,
        })?;
        if status.success() {
            Ok(())
        } else {
            Err(SynthesisError::Failed { program, file: target.clone(), status })
        }
    };
    run(
        "espeak-ng",
        Command::new("espeak-ng")
            .args(["-v", &prompt.voice, "-s", "150", "-w"])
            .arg(&speech)
            .arg(&prompt.text),
    )?;
    run(
        "sox",
        Command::new("sox")
            .args(["-D", "-V1"])
            .arg(&speech)
            .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"])
            .arg(&converted)
            .args(["norm", "-1"]),
    )?;
    std::fs::rename(&converted, &target).map_err(write_error)?;
    Ok(true)
}

/// The prompt files these stores would play that do not exist.
pub fn missing_prompts(prompts_dir: &Path, stores: &[Store]) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = stores
        .iter()
        .flat_map(|store| Prompt::ALL.map(|prompt| resolve_prompt(prompts_dir, store, prompt)))
        .filter(|path| !path.is_file())
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// The stores' own `closed` prompts (`stores/<number>/closed.wav`), spoken
/// from the message of each store whose after-hours route is a closed message,
/// in its language's voice, in store number order. Other stores play the
/// default `closed` prompt.
pub fn plan_closed_messages(
    texts_dir: &Path,
    stores: &[(Store, super::hours::OpeningHours)],
) -> Result<Vec<PlannedPrompt>, PromptTextsError> {
    let mut sorted: Vec<&(Store, super::hours::OpeningHours)> = stores.iter().collect();
    sorted.sort_by(|a, b| a.0.number.cmp(&b.0.number));
    let mut planned = Vec::new();
    for (store, hours) in sorted {
        if let super::hours::AfterHoursRoute::ClosedMessage { message } = &hours.after_hours {
            planned.push(PlannedPrompt {
                file: store_prompt_file(&store.number, Prompt::Closed),
                voice: PromptTexts::load(texts_dir, store.language)?.voice,
                text: one_line(message),
            });
        }
    }
    Ok(planned)
}

/// One WAV to synthesise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPrompt {
    /// Relative to the prompts folder.
    pub file: PathBuf,
    pub voice: String,
    /// One line, no tabs.
    pub text: String,
}

/// Every WAV `scripts/make-prompts.sh` makes: the defaults of each language in
/// `languages`, then the menu of each directory with a menu or a spell key
/// (`spell_keys`, by store: the resolved `FlowSettings::spell_key`), in a
/// stable order.
pub fn plan(
    texts_dir: &Path,
    languages: &[Language],
    directories: &[Directory],
    spell_keys: &BTreeMap<super::StoreId, char>,
) -> Result<Vec<PlannedPrompt>, PromptTextsError> {
    let mut planned = Vec::new();
    let mut texts_by_language = Vec::new();
    let mut texts_for = |language: Language| -> Result<PromptTexts, PromptTextsError> {
        if let Some((_, texts)) = texts_by_language.iter().find(|(l, _)| *l == language) {
            return Ok(PromptTexts::clone(texts));
        }
        let texts = PromptTexts::load(texts_dir, language)?;
        texts_by_language.push((language, texts.clone()));
        Ok(texts)
    };
    for &language in languages {
        let texts = texts_for(language)?;
        for prompt in Prompt::ALL {
            planned.push(PlannedPrompt {
                file: default_prompt_file(language, prompt),
                voice: texts.voice.clone(),
                text: texts.text(prompt).to_owned(),
            });
        }
        for (file, text) in texts
            .speech_prompts(language)
            .into_iter()
            .chain(texts.spelling_prompts(language))
        {
            planned.push(PlannedPrompt {
                file,
                voice: texts.voice.clone(),
                text,
            });
        }
    }
    let mut with_menu: Vec<&Directory> = directories
        .iter()
        .filter(|d| !d.menu.is_empty() || spell_keys.contains_key(&d.store.id))
        .collect();
    with_menu.sort_by(|a, b| a.store.number.cmp(&b.store.number));
    for directory in with_menu {
        let texts = texts_for(directory.store.language)?;
        planned.push(PlannedPrompt {
            file: store_prompt_file(&directory.store.number, Prompt::Menu),
            voice: texts.voice.clone(),
            text: texts.store_menu_text(
                &directory.menu,
                spell_keys.get(&directory.store.id).copied(),
            ),
        });
    }
    // Every directory's spoken names (the registry also speaks missing ones
    // when it compiles a directory version).
    let mut all: Vec<&Directory> = directories.iter().collect();
    all.sort_by(|a, b| a.store.number.cmp(&b.store.number));
    for directory in all {
        let texts = texts_for(directory.store.language)?;
        for (_, name) in planned_names(&texts, directory) {
            if !planned.iter().any(|p| p.file == name.file) {
                planned.push(name);
            }
        }
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    //! The committed texts load for en and fr, store menus are spoken in digit
    //! order, and prompt files resolve to the store's own file before the default.
    use super::*;
    use crate::directory::{DirectoryVersion, StoreId, TransferTarget};

    /// The error and its sources, as `{:#}` shows them in anyhow.
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(e) = source {
            text = format!("{text}: {e}");
            source = e.source();
        }
        text
    }

    fn texts_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/texts")
    }

    fn store(number: &str, language: Language) -> Store {
        Store {
            id: StoreId(1),
            name: "S".to_owned(),
            number: number.to_owned(),
            language,
            operator: TransferTarget::Extension("100".to_owned()),
        }
    }

    fn option(digit: char, label: &str) -> MenuOption {
        MenuOption {
            digit,
            label: label.to_owned(),
            target: TransferTarget::Extension("3".to_owned()),
        }
    }

    #[test]
    fn committed_texts_cover_every_prompt() {
        for (language, voice) in [(Language::En, "en-us"), (Language::Fr, "fr"), (Language::Ko, "ko")] {
            let texts = PromptTexts::load(&texts_dir(), language).unwrap();
            assert_eq!(texts.voice, voice);
            for prompt in Prompt::ALL {
                let text = texts.text(prompt);
                assert!(
                    !text.is_empty() && !text.contains(['\t', '\n']),
                    "{language:?} {prompt:?}: {text:?}"
                );
            }
            let speech = texts.speech_prompts(language);
            // Five fixed speech prompts (ask, ask for the full name, not
            // understood, which one, did you mean), then "press N" for keys 1 to 9.
            assert_eq!(speech.len(), 5 + OPTION_KEYS.len(), "{language:?}");
            let spelling = texts.spelling_prompts(language);
            let stems: Vec<String> = spelling
                .iter()
                .map(|(file, _)| file.file_stem().unwrap().to_string_lossy().into_owned())
                .collect();
            let mut expected = Prompt::SPELLING_FILE_STEMS.map(str::to_owned).to_vec();
            expected.sort();
            assert_eq!(stems, expected, "{language:?}");
            assert!(spelling.iter().all(|(_, text)| !text.is_empty()), "{language:?}");
            let (file, text) = speech.iter().find(|(f, _)| f.ends_with("disambiguation_option_7.wav")).unwrap();
            assert_eq!(file, &option_key_file(language, '7'));
            assert!(text.contains('7') && !text.contains("{key}"), "{language:?}: {text}");
        }
    }

    #[test]
    fn bad_texts_files_are_rejected() {
        let full = std::fs::read_to_string(texts_dir().join("en.toml")).unwrap();
        let cases = [
            (
                full.replace("goodbye = ", "good_bye = "),
                "no text for prompt \"goodbye\"",
            ),
            (
                full.replace("[prompts]\n", "[prompts]\nhold_music = \"x\"\n"),
                "\"hold_music\" is not a prompt",
            ),
            (
                full.replace("press {digit}", "press it"),
                "must contain {label} and {digit}",
            ),
            (full.replace("voice = ", "voix = "), "unknown field `voix`"),
            (full.replace("press {key}", "press it"), "must contain {key}"),
            (full.replace("ask_name = ", "ask_for_name = "), "no text for prompt \"ask_name\""),
            (full.replace("spell_name = ", "spell = "), "no text for prompt \"spell_name\""),
            (full.replace("press {digit}.\"\noutro", "press it.\"\noutro"), "store_menu.spell must contain {digit}"),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("en.toml"), text).unwrap();
            let err = PromptTexts::load(dir.path(), Language::En).unwrap_err();
            let err = chain(&err);
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn store_menu_text_lists_options_in_digit_order() {
        let texts = PromptTexts::load(&texts_dir(), Language::En).unwrap();
        let menu = [option('2', "the butchery"), option('1', "the bakery")];
        let cases = [
            (
                None,
                "For the bakery, press 1. For the butchery, press 2. For the operator, press zero.",
            ),
            (
                Some('9'),
                "For the bakery, press 1. For the butchery, press 2. \
                 To spell a name on your keypad, press 9. For the operator, press zero.",
            ),
            (
                Some('2'),
                "For the bakery, press 1. For the butchery, press 2. For the operator, press zero.",
            ),
        ];
        for (spell_key, options) in cases {
            assert_eq!(
                texts.store_menu_text(&menu, spell_key),
                format!(
                    "Please say the name of the person or department you want, or choose from the menu. {options}"
                ),
                "{spell_key:?}"
            );
        }
    }

    #[test]
    fn plan_covers_defaults_then_store_menus() {
        // Store ids 1 to 4 from the numbers' first digit.
        let directory = |number: &str, language, menu: Vec<MenuOption>| Directory {
            store: Store {
                id: StoreId(number[..1].parse().unwrap()),
                ..store(number, language)
            },
            version: DirectoryVersion(1),
            entries: vec![],
            menu,
        };
        let directories = [
            directory("2000", Language::Fr, vec![option('1', "la boulangerie")]),
            directory("1000", Language::En, vec![option('1', "the bakery")]),
            directory("3000", Language::En, vec![]),
            directory("4000", Language::En, vec![]),
        ];
        // Store 4000 (id 4) has no menu options but a spell key: it gets a menu.
        let spell_keys = BTreeMap::from([(crate::directory::StoreId(4), '9')]);
        let planned = plan(&texts_dir(), &[Language::En, Language::Fr], &directories, &spell_keys).unwrap();
        let files: Vec<String> = planned
            .iter()
            .map(|p| p.file.display().to_string())
            .collect();
        let per_language =
            Prompt::ALL.len() + 5 + OPTION_KEYS.len() + Prompt::SPELLING_FILE_STEMS.len();
        assert_eq!(files.len(), 2 * per_language + 3, "{files:?}");
        assert_eq!(files[0], "default/en/greeting.wav");
        assert_eq!(files[per_language], "default/fr/greeting.wav");
        assert_eq!(
            files[files.len() - 3..],
            ["stores/1000/menu.wav", "stores/2000/menu.wav", "stores/4000/menu.wav"]
        );
        let fr_menu = &planned[planned.len() - 2];
        assert!(fr_menu.text.contains("Pour la boulangerie, tapez 1."));
        assert_eq!(fr_menu.voice, "fr");
        assert!(planned.last().unwrap().text.contains("To spell a name on your keypad, press 9."));
    }

    #[test]
    fn names_are_planned_per_entry_and_shared_by_text() {
        let texts = PromptTexts::load(&texts_dir(), Language::En).unwrap();
        let entry = |id, name: &str, department: Option<&str>, enabled| Entry {
            id: crate::directory::EntryId(id),
            display_name: name.to_owned(),
            aliases: vec![],
            department: department.map(str::to_owned),
            extension: None,
            target: TransferTarget::Extension("1".to_owned()),
            fallback: None,
            enabled,
        };
        let directory = Directory {
            store: store("1000", Language::En),
            version: DirectoryVersion(3),
            entries: vec![
                entry(1, "Sophie Martin", Some("Bakery"), true),
                entry(2, "Paul Martin", None, true),
                entry(3, "Claire Petit", None, false),
                entry(4, "Bakery", Some("Bakery"), true),
            ],
            menu: vec![],
        };
        let names = planned_names(&texts, &directory);
        let texts_of: Vec<(i64, &str)> = names.iter().map(|(id, p)| (id.0, p.text.as_str())).collect();
        assert_eq!(
            texts_of,
            [(1, "Sophie Martin, Bakery."), (2, "Paul Martin."), (4, "Bakery.")],
            "disabled entries have no name audio; a department equal to the name is not repeated"
        );
        assert!(names.iter().all(|(_, p)| p.file.starts_with("names/en") && p.voice == "en-us"));
        assert_eq!(
            name_audio_file(Language::En, "en-us", "Paul Martin."),
            names[1].1.file,
            "same voice and text, same file"
        );
        assert_ne!(name_audio_file(Language::En, "en-us", "Paul Martin."), name_audio_file(Language::En, "en-us+f3", "Paul Martin."));
    }

    #[test]
    fn synthesize_speaks_once_into_an_8k_wav() {
        let dir = tempfile::tempdir().unwrap();
        let prompt = PlannedPrompt {
            file: name_audio_file(Language::En, "en-us", "Paul Martin."),
            voice: "en-us".to_owned(),
            text: "Paul Martin.".to_owned(),
        };
        assert!(synthesize(dir.path(), &prompt).unwrap(), "written the first time");
        let audio = crate::media::prompt::PromptAudio::load(&dir.path().join(&prompt.file)).unwrap();
        assert!(audio.duration() > std::time::Duration::from_millis(300), "{:?}", audio.duration());
        assert!(!synthesize(dir.path(), &prompt).unwrap(), "cached the second time");
    }

    #[test]
    fn closed_messages_become_the_stores_closed_prompts() {
        use crate::directory::hours::{AfterHoursRoute, OpeningHours, WeeklyHours};
        let hours = |route| OpeningHours {
            time_zone: "Europe/Paris".into(),
            weekly: WeeklyHours::default(),
            holidays: vec![],
            after_hours: route,
        };
        let message = |text: &str| AfterHoursRoute::ClosedMessage { message: text.into() };
        let stores = [
            (store("2000", Language::Fr), hours(message("Fermé le dimanche.\n Rappelez lundi."))),
            (store("1000", Language::En), hours(message("Closed."))),
            (store("3000", Language::Fr), hours(AfterHoursRoute::Operator)),
        ];
        let planned = plan_closed_messages(&texts_dir(), &stores).unwrap();
        let summary: Vec<(PathBuf, &str, &str)> =
            planned.iter().map(|p| (p.file.clone(), p.voice.as_str(), p.text.as_str())).collect();
        let fr_voice = PromptTexts::load(&texts_dir(), Language::Fr).unwrap().voice;
        let en_voice = PromptTexts::load(&texts_dir(), Language::En).unwrap().voice;
        assert_eq!(
            summary,
            vec![
                (PathBuf::from("stores/1000/closed.wav"), en_voice.as_str(), "Closed."),
                (PathBuf::from("stores/2000/closed.wav"), fr_voice.as_str(), "Fermé le dimanche. Rappelez lundi."),
            ]
        );
    }

    #[test]
    fn store_files_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let en = store("1000", Language::En);
        let missing = missing_prompts(dir.path(), std::slice::from_ref(&en));
        assert_eq!(missing.len(), Prompt::ALL.len(), "nothing exists yet");

        for prompt in Prompt::ALL {
            let path = dir.path().join(default_prompt_file(Language::En, prompt));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"RIFF").unwrap();
        }
        assert!(missing_prompts(dir.path(), std::slice::from_ref(&en)).is_empty());
        assert_eq!(
            resolve_prompt(dir.path(), &en, Prompt::Menu),
            dir.path().join("default/en/menu.wav")
        );

        let own = dir.path().join("stores/1000/menu.wav");
        std::fs::create_dir_all(own.parent().unwrap()).unwrap();
        std::fs::write(&own, b"RIFF").unwrap();
        assert_eq!(resolve_prompt(dir.path(), &en, Prompt::Menu), own);
        assert_eq!(
            resolve_prompt(dir.path(), &en, Prompt::Goodbye),
            dir.path().join("default/en/goodbye.wav")
        );

        let fr = store("2000", Language::Fr);
        let missing = missing_prompts(dir.path(), &[en, fr]);
        assert_eq!(
            missing.len(),
            Prompt::ALL.len(),
            "only the French defaults are missing: {missing:?}"
        );
        assert!(
            missing
                .iter()
                .all(|p| p.starts_with(dir.path().join("default/fr")))
        );
    }
}
