//! Per-engine decision thresholds written by calibration:
//! `config/calibration/<engine>.toml` (`sphinx.toml`, `vosk.toml`), loaded at
//! start. Engines calibrate confidence differently, so each has its own
//! [`Thresholds`]; a file missing means the built-in defaults.
//!
//! The file's shape (keys documented in docs/recognition.md):
//!
//! ```toml
//! # Written by `attendant calibrate` on <corpus>, <date>.
//! [thresholds]
//! accept = 0.80
//! confirm = 0.45
//! margin = 0.10
//! reject = 0.30
//! trust = 0.55
//!
//! [provenance]          # optional, free text for people; not read
//! corpus = "fixtures/audio/dev/en"
//! date = "2026-12-03"
//! command = "attendant calibrate …"
//! ```
//!
//! Which thresholds a store gets, first found: the store's own settings
//! (`thresholds`), the fleet's `[flow.thresholds]`, this file for the store's
//! engine, the built-in [`Thresholds::default`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::asr::EngineKind;

use super::Thresholds;

/// Folder of the calibration files in the source tree (the default of
/// `[asr] calibration_dir`).
pub fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/calibration")
}

/// The file of `engine` under `dir`: `<dir>/<engine>.toml`.
pub fn file_path(dir: &Path, engine: EngineKind) -> PathBuf {
    dir.join(format!("{}.toml", engine_name(engine)))
}

/// The engine's name in file names and configuration (`sphinx`, `vosk`).
pub fn engine_name(engine: EngineKind) -> &'static str {
    match engine {
        EngineKind::Sphinx => "sphinx",
        EngineKind::Vosk => "vosk",
    }
}

/// One calibration file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationFile {
    /// The thresholds chosen (keys left out: defaults).
    pub thresholds: Thresholds,
    /// Where they come from (corpus, date, command, figures), for people.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub provenance: toml::Table,
}

/// Why a calibration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("cannot read calibration file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid calibration file {path}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("calibration file {path} holds thresholds out of order")]
    Invalid {
        path: PathBuf,
        source: super::MatchError,
    },
    #[error("cannot write calibration file {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The calibrated thresholds of each engine that has a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibration {
    by_engine: BTreeMap<&'static str, Thresholds>,
}

impl Calibration {
    /// Reads `<dir>/sphinx.toml` and `<dir>/vosk.toml`; a missing file (or
    /// folder) leaves that engine on the defaults, a bad one is an error.
    pub fn load(dir: &Path) -> Result<Calibration, CalibrationError> {
        let mut by_engine = BTreeMap::new();
        for engine in [EngineKind::Sphinx, EngineKind::Vosk] {
            if let Some(file) = read(&file_path(dir, engine))? {
                by_engine.insert(engine_name(engine), file.thresholds);
            }
        }
        Ok(Calibration { by_engine })
    }

    /// Sets an engine's thresholds (tests, and the calibration command).
    pub fn with(mut self, engine: EngineKind, thresholds: Thresholds) -> Calibration {
        self.by_engine.insert(engine_name(engine), thresholds);
        self
    }

    /// The thresholds of `engine`: calibrated, else the defaults.
    pub fn thresholds(&self, engine: EngineKind) -> Thresholds {
        self.by_engine
            .get(engine_name(engine))
            .copied()
            .unwrap_or_default()
    }

    /// The thresholds a store gets: its own (or the fleet's) when set, else
    /// the engine's calibrated ones.
    pub fn resolve(&self, configured: Option<Thresholds>, engine: EngineKind) -> Thresholds {
        configured.unwrap_or_else(|| self.thresholds(engine))
    }
}

/// Reads one calibration file; `None` when it does not exist.
pub fn read(path: &Path) -> Result<Option<CalibrationFile>, CalibrationError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CalibrationError::Read {
                path: path.into(),
                source,
            });
        }
    };
    let file: CalibrationFile = toml::from_str(&text).map_err(|source| CalibrationError::Parse {
        path: path.into(),
        source,
    })?;
    file.thresholds
        .validate()
        .map_err(|source| CalibrationError::Invalid {
            path: path.into(),
            source,
        })?;
    Ok(Some(file))
}

/// Writes `file` to `path` (the calibration command's output), after checking
/// its thresholds; `header` lines become `#` comments on top.
pub fn write(path: &Path, file: &CalibrationFile, header: &str) -> Result<(), CalibrationError> {
    file.thresholds
        .validate()
        .map_err(|source| CalibrationError::Invalid {
            path: path.into(),
            source,
        })?;
    // Serialising plain floats and tables cannot fail.
    let body = toml::to_string(file).expect("thresholds serialise to TOML");
    let comments: String = header.lines().map(|line| format!("# {line}\n")).collect();
    std::fs::write(path, format!("{comments}{body}")).map_err(|source| CalibrationError::Write {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_mean_defaults_and_files_are_read_per_engine() {
        let dir = tempfile::tempdir().unwrap();
        let none = Calibration::load(&dir.path().join("absent")).unwrap();
        assert_eq!(none.thresholds(EngineKind::Sphinx), Thresholds::default());
        std::fs::write(
            dir.path().join("sphinx.toml"),
            "# comment\n[thresholds]\naccept = 0.7\nreject = 0.2\ntrust = 0.4\n\n[provenance]\ncorpus = \"x\"\n",
        )
        .unwrap();
        let loaded = Calibration::load(dir.path()).unwrap();
        let sphinx = loaded.thresholds(EngineKind::Sphinx);
        assert_eq!((sphinx.accept, sphinx.reject, sphinx.trust), (0.7, 0.2, 0.4));
        assert_eq!(sphinx.confirm, Thresholds::default().confirm, "left out: default");
        assert_eq!(loaded.thresholds(EngineKind::Vosk), Thresholds::default());
        let store = Thresholds {
            accept: 0.9,
            ..Thresholds::default()
        };
        assert_eq!(loaded.resolve(Some(store), EngineKind::Sphinx), store);
        assert_eq!(loaded.resolve(None, EngineKind::Sphinx), sphinx);
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vosk.toml");
        for text in [
            "[thresholds]\nacept = 0.7\n",
            "accept = 0.7\n",
            "[thresholds]\naccept = 0.3\nconfirm = 0.5\n",
            "[thresholds]\nreject = 0.6\ntrust = 0.5\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let error = Calibration::load(dir.path()).unwrap_err();
            assert!(error.to_string().contains("vosk.toml"), "{text}: {error}");
        }
    }

    #[test]
    fn written_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path(), EngineKind::Vosk);
        let mut provenance = toml::Table::new();
        provenance.insert("corpus".into(), "dev/ko".into());
        let file = CalibrationFile {
            thresholds: Thresholds {
                accept: 0.75,
                confirm: 0.4,
                margin: 0.12,
                reject: 0.3,
                trust: 0.6,
            },
            provenance,
        };
        write(&path, &file, "Written by a test.\nSecond line.").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Written by a test.\n# Second line.\n"), "{text}");
        assert_eq!(read(&path).unwrap(), Some(file));
        let bad = CalibrationFile {
            thresholds: Thresholds {
                reject: 0.9,
                trust: 0.1,
                ..Thresholds::default()
            },
            provenance: toml::Table::new(),
        };
        assert!(write(&path, &bad, "").is_err());
        assert!(read(&path).unwrap().is_some(), "a refused write changes nothing");
    }
}
