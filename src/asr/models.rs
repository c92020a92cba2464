//! Model manifests (`models/*.toml`) and where their files are installed.
//!
//! The same manifests drive `scripts/fetch-models.sh` (what to download, check and
//! extract) and the engines (where a model lives): one source of truth.

use std::path::{Path, PathBuf};

use super::{AsrError, EngineKind};
use crate::directory::Language;

/// The `.deps` directory the crate was built against (build.rs; `ATTENDANT_DEPS`
/// overrides it there and here at run time).
pub fn default_deps_dir() -> PathBuf {
    std::env::var_os("ATTENDANT_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("ATTENDANT_BUILD_DEPS_DIR")))
}

/// The manifests shipped with the source tree (`<crate>/models`).
pub fn default_manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The fields of a manifest the engines need (the script reads the rest).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ModelManifest {
    /// Item name (`fetch-models.sh NAME`).
    pub name: String,
    /// Engine the item belongs to.
    pub engine: EngineKind,
    /// `model` or `library`.
    pub kind: String,
    /// Absent for libraries.
    pub language: Option<Language>,
    /// Install directory relative to the deps directory.
    pub install_dir: PathBuf,
    /// Whether setup fails without it.
    #[serde(default = "default_required")]
    pub required: bool,
    /// PocketSphinx file names inside the model directory.
    pub sphinx: Option<SphinxFiles>,
}

fn default_required() -> bool {
    true
}

/// Where PocketSphinx's acoustic model and dictionary are inside its model directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SphinxFiles {
    /// Acoustic model directory (`-hmm`).
    pub hmm: PathBuf,
    /// Pronunciation dictionary (`-dict`).
    pub dict: PathBuf,
}

impl ModelManifest {
    /// Reads one manifest file.
    pub fn read(path: &Path) -> Result<Self, AsrError> {
        let text = std::fs::read_to_string(path).map_err(|source| AsrError::ManifestRead {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| AsrError::ManifestParse {
            path: path.into(),
            source,
        })
    }

    /// The model manifest of `engine` for `language` in `dir`.
    pub fn find(dir: &Path, engine: EngineKind, language: Language) -> Result<Self, AsrError> {
        let entries = std::fs::read_dir(dir).map_err(|source| AsrError::ManifestRead {
            path: dir.into(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let manifest = Self::read(&path)?;
            if manifest.engine == engine
                && manifest.kind == "model"
                && manifest.language == Some(language)
            {
                return Ok(manifest);
            }
        }
        Err(AsrError::NoManifest {
            dir: dir.into(),
            engine,
            language,
        })
    }

    /// The installed directory under `deps`, if the install is complete: the fetch
    /// script writes its stamp last (Debian models are links to the system's files).
    pub fn installed_dir(&self, deps: &Path) -> Result<PathBuf, AsrError> {
        let dir = deps.join(&self.install_dir);
        let complete = if dir.is_symlink() {
            dir.is_dir()
        } else {
            dir.join(".installed").is_file()
        };
        if complete {
            Ok(dir)
        } else {
            Err(AsrError::ModelMissing {
                name: self.name.clone(),
                path: dir,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    //! The shipped manifests parse and name one model per engine and language.
    use super::*;

    #[test]
    fn shipped_manifests_are_found() {
        let dir = default_manifest_dir();
        let cases = [
            (EngineKind::Vosk, Language::Ko, "vosk-ko", "models/vosk-ko"),
            (
                EngineKind::Vosk,
                Language::Fr,
                "vosk-small-fr",
                "models/vosk-small-fr",
            ),
            (
                EngineKind::Sphinx,
                Language::En,
                "sphinx-en-us",
                "models/sphinx-en-us",
            ),
        ];
        for (engine, language, name, install_dir) in cases {
            let m = ModelManifest::find(&dir, engine, language).expect("manifest");
            assert_eq!(m.name, name);
            assert_eq!(m.install_dir, PathBuf::from(install_dir));
        }
        assert!(matches!(
            ModelManifest::find(&dir, EngineKind::Sphinx, Language::Ko),
            Err(AsrError::NoManifest { .. })
        ));
        let sphinx = ModelManifest::find(&dir, EngineKind::Sphinx, Language::En).expect("manifest");
        assert_eq!(
            sphinx.sphinx,
            Some(SphinxFiles {
                hmm: "en-us".into(),
                dict: "cmudict-en-us.dict".into()
            })
        );
    }

    #[test]
    fn missing_install_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m =
            ModelManifest::read(&default_manifest_dir().join("vosk-ko.toml")).expect("manifest");
        match m.installed_dir(dir.path()) {
            Err(AsrError::ModelMissing { name, path }) => {
                assert_eq!(name, "vosk-ko");
                assert_eq!(path, dir.path().join("models/vosk-ko"));
            }
            other => panic!("expected ModelMissing, got {other:?}"),
        }
    }
}
