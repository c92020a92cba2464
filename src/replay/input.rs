//! What replay reads: a folder of recordings (WAV + [`Sidecar`]), or a manifest
//! (JSON array) of WAV files with their expected outcome. The manifest format of
//! `fixtures/audio/names` works as is; the QA corpus adds a directory snapshot
//! per line and expected entry ids.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::asr::grammar::{self, GrammarSpec};
use crate::asr::{EngineKind, Meaning};
use crate::directory::{Directory, EntryId};

use super::record::{RecordedUtterance, Sidecar};
use super::score::Expected;

/// Why the recordings could not be listed or read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid JSON in {path}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot read the WAV {path}")]
    Wav { path: PathBuf, source: hound::Error },
    #[error(
        "{path}: {rate} Hz, {channels} channel(s), {bits} bits; recordings are 8000 Hz mono 16-bit"
    )]
    WavFormat {
        path: PathBuf,
        rate: u32,
        channels: u16,
        bits: u16,
    },
    #[error("{path} holds no recordings (no sidecar .json next to a .wav)")]
    Empty { path: PathBuf },
}

/// What a recording should lead to, before a directory resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedSpec {
    /// Not labelled (a live recording nobody checked): replayed, not scored.
    Unknown,
    /// Resolved already (entry ids, or a rejection).
    Resolved(Expected),
    /// A spoken text ("sophie martin"): the entries it names in the directory used.
    Text(String),
}

/// One recording to replay.
#[derive(Debug, Clone)]
pub struct ReplayItem {
    /// How the recording is named in reports (path relative to the input).
    pub id: String,
    pub wav: PathBuf,
    /// Directory the recording was made with (sidecar), or given by the manifest.
    pub directory: Option<Arc<Directory>>,
    /// Engine the recording was made with or is meant for.
    pub engine: Option<EngineKind>,
    pub expected: ExpectedSpec,
    /// What was said, when known (for reports).
    pub spoken: Option<String>,
    /// The live call's record, for recordings made by [`super::record`].
    pub sidecar: Option<Box<Sidecar>>,
}

impl ReplayItem {
    /// The live call's utterances, when this is a call recording.
    pub fn recorded_utterances(&self) -> Option<&[RecordedUtterance]> {
        self.sidecar.as_deref().map(|s| s.utterances.as_slice())
    }
}

/// One line of a manifest. `expected` is the fixtures format (text, null for a
/// rejection); `expected_entries` (ids, empty for a rejection) wins when present.
#[derive(Debug, Clone, serde::Deserialize)]
struct ManifestLine {
    file: String,
    #[serde(default)]
    engine: Option<EngineKind>,
    #[serde(default)]
    spoken: Option<String>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    expected_entries: Option<Vec<i64>>,
    /// Directory snapshot JSON, relative to the manifest.
    #[serde(default)]
    directory: Option<String>,
}

/// Lists the recordings of `path`: a manifest file, a folder holding
/// `manifest.json`, or a folder of recordings (searched recursively).
pub fn load(path: &Path) -> Result<Vec<ReplayItem>, InputError> {
    if path.is_dir() && path.join("manifest.json").is_file() {
        return load_manifest(&path.join("manifest.json"));
    }
    if path.is_dir() {
        let mut items = Vec::new();
        collect_recordings(path, path, &mut items)?;
        if items.is_empty() {
            return Err(InputError::Empty {
                path: path.to_owned(),
            });
        }
        items.sort_by(|a, b| a.id.cmp(&b.id));
        return Ok(items);
    }
    load_manifest(path)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, InputError> {
    let text = std::fs::read(path).map_err(|source| InputError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| InputError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Reads a directory snapshot (a [`Directory`] as JSON).
pub fn load_directory(path: &Path) -> Result<Directory, InputError> {
    read_json(path)
}

fn load_manifest(path: &Path) -> Result<Vec<ReplayItem>, InputError> {
    let base = path.parent().unwrap_or(Path::new("."));
    let lines: Vec<ManifestLine> = read_json(path)?;
    // Many lines share a snapshot: read each once.
    let mut snapshots: Vec<(String, Arc<Directory>)> = Vec::new();
    let mut items = Vec::with_capacity(lines.len());
    for line in lines {
        let directory = match &line.directory {
            None => None,
            Some(rel) => match snapshots.iter().find(|(p, _)| p == rel) {
                Some((_, d)) => Some(d.clone()),
                None => {
                    let d = Arc::new(load_directory(&base.join(rel))?);
                    snapshots.push((rel.clone(), d.clone()));
                    Some(d)
                }
            },
        };
        let expected = match (line.expected_entries, line.expected) {
            (Some(ids), _) if ids.is_empty() => ExpectedSpec::Resolved(Expected::Reject),
            (Some(ids), _) => {
                ExpectedSpec::Resolved(Expected::Entry(ids.into_iter().map(EntryId).collect()))
            }
            (None, Some(text)) => ExpectedSpec::Text(text),
            (None, None) => ExpectedSpec::Resolved(Expected::Reject),
        };
        items.push(ReplayItem {
            id: line.file.clone(),
            wav: base.join(&line.file),
            directory,
            engine: line.engine,
            expected,
            spoken: line.spoken,
            sidecar: None,
        });
    }
    Ok(items)
}

fn collect_recordings(
    root: &Path,
    dir: &Path,
    out: &mut Vec<ReplayItem>,
) -> Result<(), InputError> {
    let listing = std::fs::read_dir(dir).map_err(|source| InputError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for item in listing {
        let item = item.map_err(|source| InputError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let path = item.path();
        if path.is_dir() {
            collect_recordings(root, &path, out)?;
            continue;
        }
        let is_sidecar = path.extension().is_some_and(|e| e == "json")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let wav = path.with_extension("wav");
        if !is_sidecar || !wav.is_file() {
            continue;
        }
        let sidecar: Sidecar = read_json(&path)?;
        let id = wav.strip_prefix(root).unwrap_or(&wav).display().to_string();
        out.push(ReplayItem {
            id,
            wav,
            directory: Some(Arc::new(sidecar.directory.clone())),
            engine: Some(sidecar.engine),
            expected: sidecar
                .expected
                .clone()
                .map_or(ExpectedSpec::Unknown, ExpectedSpec::Resolved),
            spoken: None,
            sidecar: Some(Box::new(sidecar)),
        });
    }
    Ok(())
}

/// The entries a spoken text names in `directory`: an entry's name or alias, or
/// every entry of a department (with or without a carrier phrase around it).
/// Nothing named: a rejection is expected.
pub fn resolve_text(text: &str, directory: &Directory) -> Expected {
    let spec = GrammarSpec::from_directory(directory);
    let normalized = grammar::normalize(text);
    let mut ids = BTreeSet::new();
    for meaning in grammar::meanings_of(&normalized, &spec.phrases, &spec.carriers) {
        match meaning {
            Meaning::Entry(id) => {
                ids.insert(*id);
            }
            Meaning::Department(d) => {
                ids.extend(
                    directory
                        .entries
                        .iter()
                        .filter(|e| {
                            e.enabled
                                && e.department.as_deref().map(grammar::normalize)
                                    == Some(d.clone())
                        })
                        .map(|e| e.id),
                );
            }
            Meaning::Yes | Meaning::No | Meaning::Carrier | Meaning::Operator | Meaning::Help => {}
        }
    }
    if ids.is_empty() {
        Expected::Reject
    } else {
        Expected::Entry(ids)
    }
}

/// Reads a recording: 8 kHz mono 16-bit WAV.
pub fn read_wav(path: &Path) -> Result<Vec<i16>, InputError> {
    let err = |source| InputError::Wav {
        path: path.to_owned(),
        source,
    };
    let mut reader = hound::WavReader::open(path).map_err(err)?;
    let spec = reader.spec();
    if (spec.sample_rate, spec.channels, spec.bits_per_sample) != (8000, 1, 16) {
        return Err(InputError::WavFormat {
            path: path.to_owned(),
            rate: spec.sample_rate,
            channels: spec.channels,
            bits: spec.bits_per_sample,
        });
    }
    reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(err)
}
