//! Where each store's prompt WAVs live, and the texts they are made from.
//!
//! Layout under the prompts folder (`paths.prompts_dir`):
//! - `default/<lang>/<stem>.wav`: one per [`Prompt`] and language;
//! - `stores/<number>/<stem>.wav`: a store's own version of a prompt (today the
//!   menu, spoken from the store's menu labels), used instead of the default.
//!
//! The texts are in `prompts/texts/<lang>.toml`; `scripts/make-prompts.sh`
//! speaks the [`plan`] with espeak-ng. This module only computes texts and paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Directory, Language, MenuOption, Store};
use crate::flow::Prompt;

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
    /// `store_menu.option` lacks `{label}` or `{digit}`.
    #[error("prompt texts {path}: store_menu.option must contain {{label}} and {{digit}}")]
    OptionTemplate { path: PathBuf },
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
    outro: String,
}

/// The prompt texts of one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTexts {
    /// The espeak-ng voice that speaks them.
    pub voice: String,
    prompts: BTreeMap<Prompt, String>,
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
        if let Some(key) = by_stem.into_keys().next() {
            return Err(PromptTextsError::UnknownPrompt { path, key });
        }
        let option = &file.store_menu.option;
        if !option.contains("{label}") || !option.contains("{digit}") {
            return Err(PromptTextsError::OptionTemplate { path });
        }
        Ok(PromptTexts {
            voice: file.voice,
            prompts,
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

    /// The text of a store's own menu prompt: intro, one sentence per option (in
    /// digit order), outro.
    pub fn store_menu_text(&self, menu: &[MenuOption]) -> String {
        let mut options: Vec<&MenuOption> = menu.iter().collect();
        options.sort_by_key(|o| o.digit);
        let mut sentences = vec![self.store_menu.intro.clone()];
        for option in options {
            sentences.push(
                self.store_menu
                    .option
                    .replace("{label}", &option.label)
                    .replace("{digit}", &option.digit.to_string()),
            );
        }
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
/// `languages`, then the menu of each directory with a menu, in a stable order.
pub fn plan(
    texts_dir: &Path,
    languages: &[Language],
    directories: &[Directory],
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
    }
    let mut directories: Vec<&Directory> =
        directories.iter().filter(|d| !d.menu.is_empty()).collect();
    directories.sort_by(|a, b| a.store.number.cmp(&b.store.number));
    for directory in directories {
        let texts = texts_for(directory.store.language)?;
        planned.push(PlannedPrompt {
            file: store_prompt_file(&directory.store.number, Prompt::Menu),
            voice: texts.voice.clone(),
            text: texts.store_menu_text(&directory.menu),
        });
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
        for (language, voice) in [(Language::En, "en-us"), (Language::Fr, "fr")] {
            let texts = PromptTexts::load(&texts_dir(), language).unwrap();
            assert_eq!(texts.voice, voice);
            for prompt in Prompt::ALL {
                let text = texts.text(prompt);
                assert!(
                    !text.is_empty() && !text.contains(['\t', '\n']),
                    "{language:?} {prompt:?}: {text:?}"
                );
            }
        }
        let missing = PromptTexts::load(&texts_dir(), Language::Ko).unwrap_err();
        assert!(
            matches!(missing, PromptTextsError::Read { .. }),
            "{missing}"
        );
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
        let text = texts.store_menu_text(&[option('2', "the butchery"), option('1', "the bakery")]);
        assert_eq!(
            text,
            "Please say the name of the person or department you want, or choose from the menu. \
             For the bakery, press 1. For the butchery, press 2. For the operator, press zero."
        );
    }

    #[test]
    fn plan_covers_defaults_then_store_menus() {
        let directory = |number: &str, language, menu: Vec<MenuOption>| Directory {
            store: store(number, language),
            version: DirectoryVersion(1),
            entries: vec![],
            menu,
        };
        let directories = [
            directory("2000", Language::Fr, vec![option('1', "la boulangerie")]),
            directory("1000", Language::En, vec![option('1', "the bakery")]),
            directory("3000", Language::En, vec![]),
        ];
        let planned = plan(&texts_dir(), &[Language::En, Language::Fr], &directories).unwrap();
        let files: Vec<String> = planned
            .iter()
            .map(|p| p.file.display().to_string())
            .collect();
        assert_eq!(files.len(), 2 * Prompt::ALL.len() + 2, "{files:?}");
        assert_eq!(files[0], "default/en/greeting.wav");
        assert_eq!(files[Prompt::ALL.len()], "default/fr/greeting.wav");
        assert_eq!(
            files[files.len() - 2..],
            ["stores/1000/menu.wav", "stores/2000/menu.wav"]
        );
        assert!(
            planned
                .last()
                .unwrap()
                .text
                .contains("Pour la boulangerie, tapez 1.")
        );
        assert_eq!(planned.last().unwrap().voice, "fr");
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
