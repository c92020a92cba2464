//! Recording a call's speech phase for QA: the caller's audio as 8 kHz WAV and a
//! JSON sidecar with everything needed to replay it (the directory snapshot, the
//! engine, the thresholds and endpoint settings) and to judge it (what was
//! recognised, decided, pressed and where the call went).
//!
//! Layout: `<data_dir>/recordings/<store id>/<start ms>-<call id>.{wav,json}`; a
//! store's recordings never share a folder with another store's, and retention
//! runs per store folder. Both files are written under a temporary name and
//! renamed, the sidecar last: a sidecar present means a complete recording.
//! Time is passed in (`now`), never read here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::asr::{CompiledGrammar, EngineKind, Hypothesis};
use crate::directory::{Directory, DirectoryVersion, StoreId, TransferTarget};
use crate::matching::Thresholds;
use crate::speech::endpoint::EndpointSettings;
use crate::speech::understand::{StoreSpeech, UnderstoodUtterance};

use super::score::{DecisionRecord, Expected};

/// Version of the sidecar format written by this code.
pub const SIDECAR_FORMAT: u32 = 1;

/// A store's recording policy (off by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingSettings {
    /// Record this store's calls.
    pub enabled: bool,
    /// Keep at most this many recordings (the newest).
    pub max_recordings: Option<usize>,
    /// Delete recordings older than this many days.
    pub max_age_days: Option<u32>,
}

/// One utterance of a recorded call, as the live path understood it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecordedUtterance {
    /// Where the endpointer ended it, in milliseconds from the start of the recording.
    pub ended_at_ms: u64,
    /// Length of the utterance audio, in milliseconds.
    pub duration_ms: u64,
    pub truncated: bool,
    /// N-best, best first, with the engine's confidences.
    pub nbest: Vec<Hypothesis>,
    /// The engine's in-grammar confidence ([`crate::asr::Recognition::in_grammar`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_grammar: Option<f32>,
    pub decision: DecisionRecord,
    /// Time spent decoding it, when measured.
    pub decode_ms: Option<f64>,
}

impl RecordedUtterance {
    /// The record of an utterance understood by [`crate::speech::understand`].
    pub fn from_understood(u: &UnderstoodUtterance, decode_ms: Option<f64>) -> Self {
        RecordedUtterance {
            ended_at_ms: u.ended_at_sample / 8,
            duration_ms: u.samples as u64 / 8,
            truncated: u.truncated,
            nbest: u.recognition.alternatives.clone(),
            in_grammar: u.recognition.in_grammar,
            decision: DecisionRecord::from(&u.decision),
            decode_ms,
        }
    }
}

/// The JSON sidecar of a recording.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sidecar {
    /// [`SIDECAR_FORMAT`].
    pub format: u32,
    pub call_id: String,
    pub store: StoreId,
    pub directory_version: DirectoryVersion,
    /// The directory the call ran against, so that replay can use the same version.
    pub directory: Directory,
    pub engine: EngineKind,
    /// Model name (the `models/*.toml` item).
    pub model: String,
    /// SHA-256 of the engine's grammar text (JSGF or Vosk phrase list).
    pub grammar_sha256: String,
    pub thresholds: Thresholds,
    pub endpoint: EndpointSettings,
    /// Start of the recording, milliseconds since the Unix epoch.
    pub started_at_unix_ms: u64,
    /// Length of the recorded audio, in milliseconds.
    pub audio_ms: u64,
    pub utterances: Vec<RecordedUtterance>,
    /// Keys the caller pressed, in order.
    pub dtmf: String,
    /// Where the call was transferred, if it was.
    pub transfer_target: Option<TransferTarget>,
    /// What the right outcome was, when QA labelled the recording (never set live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
}

/// The hash stored in [`Sidecar::grammar_sha256`].
pub fn grammar_sha256(grammar: &CompiledGrammar) -> String {
    let digest = Sha256::digest(grammar.source_text().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a recording could not be written or pruned.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot create {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    WriteWav { path: PathBuf, source: hound::Error },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the sidecar of call {call_id}")]
    Encode {
        call_id: String,
        source: serde_json::Error,
    },
    #[error("cannot rename {from} to {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list {path}")]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes recordings under `<data_dir>/recordings`, one folder per store.
#[derive(Debug, Clone)]
pub struct CallRecorder {
    root: PathBuf,
}

/// The files of one saved recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRecording {
    pub wav: PathBuf,
    pub sidecar: PathBuf,
}

impl CallRecorder {
    /// A recorder writing under `<data_dir>/recordings`.
    pub fn new(data_dir: &Path) -> Self {
        CallRecorder {
            root: data_dir.join("recordings"),
        }
    }

    /// The folder of one store's recordings.
    pub fn store_dir(&self, store: StoreId) -> PathBuf {
        self.root.join(store.0.to_string())
    }

    /// Saves one call (8 kHz mono audio and its sidecar) into its store's folder,
    /// then applies the store's retention limits at `now`. Blocking file IO.
    pub fn save(
        &self,
        sidecar: &Sidecar,
        pcm_8k: &[i16],
        settings: &RecordingSettings,
        now: SystemTime,
    ) -> Result<SavedRecording, RecordError> {
        let dir = self.store_dir(sidecar.store);
        std::fs::create_dir_all(&dir).map_err(|source| RecordError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let stem = format!(
            "{:013}-{}",
            sidecar.started_at_unix_ms,
            safe_name(&sidecar.call_id)
        );
        let wav = dir.join(format!("{stem}.wav"));
        let json = dir.join(format!("{stem}.json"));

        let wav_tmp = dir.join(format!(".{stem}.wav.tmp"));
        write_wav(&wav_tmp, pcm_8k)?;
        rename(&wav_tmp, &wav)?;

        let text = serde_json::to_vec_pretty(sidecar).map_err(|source| RecordError::Encode {
            call_id: sidecar.call_id.clone(),
            source,
        })?;
        let json_tmp = dir.join(format!(".{stem}.json.tmp"));
        std::fs::write(&json_tmp, text).map_err(|source| RecordError::Write {
            path: json_tmp.clone(),
            source,
        })?;
        rename(&json_tmp, &json)?;

        self.prune(sidecar.store, settings, now)?;
        Ok(SavedRecording { wav, sidecar: json })
    }

    /// Deletes a store's recordings beyond its count limit (oldest first) and
    /// older than its age limit. Ages come from the start time in the file
    /// names, not from file times (a copied folder keeps its ages).
    pub fn prune(
        &self,
        store: StoreId,
        settings: &RecordingSettings,
        now: SystemTime,
    ) -> Result<(), RecordError> {
        let dir = self.store_dir(store);
        let mut stems: Vec<(u64, String)> = Vec::new();
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(RecordError::List { path: dir, source }),
        };
        for item in listing {
            let item = item.map_err(|source| RecordError::List {
                path: dir.clone(),
                source,
            })?;
            let name = item.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".wav") else {
                continue;
            };
            if let Some(Ok(ms)) = stem.split('-').next().map(str::parse::<u64>) {
                stems.push((ms, stem.to_owned()));
            }
        }
        stems.sort();
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64;
        let oldest_kept = settings
            .max_age_days
            .map(|days| now_ms.saturating_sub(u64::from(days) * 86_400_000));
        let over_count = settings
            .max_recordings
            .map_or(0, |max| stems.len().saturating_sub(max));
        for (i, (ms, stem)) in stems.iter().enumerate() {
            if i < over_count || oldest_kept.is_some_and(|limit| *ms < limit) {
                // The sidecar first: without it the recording is no longer listed.
                for ext in ["json", "wav"] {
                    let path = dir.join(format!("{stem}.{ext}"));
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => return Err(RecordError::Remove { path, source }),
                    }
                }
            }
        }
        Ok(())
    }
}

/// Call ids come from the network: keep file names to a safe alphabet.
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

fn rename(from: &Path, to: &Path) -> Result<(), RecordError> {
    std::fs::rename(from, to).map_err(|source| RecordError::Rename {
        from: from.to_owned(),
        to: to.to_owned(),
        source,
    })
}

/// The WAV format of recordings: 8 kHz mono 16-bit PCM.
pub fn wav_spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// Writes 8 kHz mono 16-bit PCM as a WAV file.
pub fn write_wav_file(path: &Path, pcm: &[i16]) -> Result<(), RecordError> {
    write_wav(path, pcm)
}

fn write_wav(path: &Path, pcm: &[i16]) -> Result<(), RecordError> {
    let err = |source| RecordError::WriteWav {
        path: path.to_owned(),
        source,
    };
    let mut writer = hound::WavWriter::create(path, wav_spec()).map_err(err)?;
    for s in pcm {
        writer.write_sample(*s).map_err(err)?;
    }
    writer.finalize().map_err(err)
}

/// One live call's recording in progress: the runtime's call task feeds it what
/// it hears and does, and saves it when the call ends. Decisions are taken with
/// the call's own [`StoreSpeech`] (the flow's interpreter), so the sidecar says
/// what the call decided.
pub struct LiveRecording {
    recorder: CallRecorder,
    settings: RecordingSettings,
    speech: Arc<StoreSpeech>,
    sidecar: Sidecar,
    pcm: Vec<i16>,
    /// (end in samples, length in samples, truncated) of the utterance being decoded.
    pending: Option<(usize, usize, bool)>,
}

impl std::fmt::Debug for LiveRecording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRecording")
            .field("call_id", &self.sidecar.call_id)
            .field("samples", &self.pcm.len())
            .finish()
    }
}

impl LiveRecording {
    /// Starts recording a call of `speech`'s store, if `settings` enable it.
    #[allow(clippy::too_many_arguments)] // the sidecar's fixed facts, each named
    pub fn start(
        recorder: &CallRecorder,
        settings: &RecordingSettings,
        speech: Arc<StoreSpeech>,
        thresholds: Thresholds,
        endpoint: EndpointSettings,
        call_id: &str,
        started: SystemTime,
    ) -> Option<LiveRecording> {
        if !settings.enabled {
            return None;
        }
        let directory = speech.directory().clone();
        let engine = speech.engine().kind();
        let sidecar = Sidecar {
            format: SIDECAR_FORMAT,
            call_id: call_id.to_owned(),
            store: directory.store.id,
            directory_version: directory.version,
            directory: (*directory).clone(),
            engine,
            model: super::run::model_name(engine, directory.store.language).unwrap_or_default(),
            grammar_sha256: grammar_sha256(speech.grammar()),
            thresholds,
            endpoint,
            started_at_unix_ms: started
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as u64,
            audio_ms: 0,
            utterances: vec![],
            dtmf: String::new(),
            transfer_target: None,
            expected: None,
        };
        Some(LiveRecording {
            recorder: recorder.clone(),
            settings: settings.clone(),
            speech,
            sidecar,
            pcm: Vec::new(),
            pending: None,
        })
    }

    /// Caller audio heard while listening (8 kHz).
    pub fn audio(&mut self, frame: &[i16]) {
        self.pcm.extend_from_slice(frame);
    }

    /// The endpointer ended an utterance of `samples` samples; it is being decoded.
    pub fn utterance_ended(&mut self, samples: usize, truncated: bool) {
        self.pending = Some((self.pcm.len(), samples, truncated));
    }

    /// The recognition of the last utterance, and how long it took.
    pub fn recognized(&mut self, recognition: &crate::asr::Recognition, decode_ms: Option<f64>) {
        let (end, samples, truncated) = self.pending.take().unwrap_or((self.pcm.len(), 0, false));
        self.sidecar.utterances.push(RecordedUtterance {
            ended_at_ms: end as u64 / 8,
            duration_ms: samples as u64 / 8,
            truncated,
            nbest: recognition.alternatives.clone(),
            in_grammar: recognition.in_grammar,
            decision: DecisionRecord::from(&self.speech.decide(recognition)),
            decode_ms,
        });
    }

    /// A key the caller pressed.
    pub fn digit(&mut self, digit: char) {
        self.sidecar.dtmf.push(digit);
    }

    /// Where the call was transferred.
    pub fn transferred(&mut self, target: &TransferTarget) {
        self.sidecar.transfer_target = Some(target.clone());
    }

    /// Writes the recording (blocking file IO: off the async threads). A call
    /// during which the caller was never listened to leaves nothing.
    pub fn save(mut self, now: SystemTime) -> Result<Option<SavedRecording>, RecordError> {
        if self.pcm.is_empty() {
            return Ok(None);
        }
        self.sidecar.audio_ms = self.pcm.len() as u64 / 8;
        self.recorder
            .save(&self.sidecar, &self.pcm, &self.settings, now)
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    //! Recordings land in their store's folder, complete, and retention keeps the newest.
    use super::*;
    use crate::directory::{Language, Store};

    fn sidecar(store: i64, call: &str, started_ms: u64) -> Sidecar {
        Sidecar {
            format: SIDECAR_FORMAT,
            call_id: call.into(),
            store: StoreId(store),
            directory_version: DirectoryVersion(3),
            directory: Directory {
                store: Store {
                    id: StoreId(store),
                    name: "s".into(),
                    number: "1000".into(),
                    language: Language::En,
                    operator: TransferTarget::Extension("100".into()),
                },
                version: DirectoryVersion(3),
                entries: vec![],
                menu: vec![],
            },
            engine: EngineKind::Sphinx,
            model: "m".into(),
            grammar_sha256: "00".into(),
            thresholds: Thresholds::default(),
            endpoint: EndpointSettings::default(),
            started_at_unix_ms: started_ms,
            audio_ms: 1,
            utterances: vec![],
            dtmf: "1#".into(),
            transfer_target: Some(TransferTarget::Extension("201".into())),
            expected: None,
        }
    }

    fn stems(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_wav_and_sidecar_per_store_without_temporaries() {
        let tmp = tempfile::tempdir().unwrap();
        let recorder = CallRecorder::new(tmp.path());
        let keep = RecordingSettings {
            enabled: true,
            ..Default::default()
        };
        let now = UNIX_EPOCH + Duration::from_secs(2_000_000);
        let a = recorder
            .save(&sidecar(1, "abc@host/x", 1_000), &[1, -2, 3], &keep, now)
            .unwrap();
        recorder
            .save(&sidecar(2, "def", 2_000), &[4], &keep, now)
            .unwrap();
        assert_eq!(
            stems(&recorder.store_dir(StoreId(1))),
            vec![
                "0000000001000-abc_host_x.json",
                "0000000001000-abc_host_x.wav"
            ]
        );
        assert_eq!(
            stems(&recorder.store_dir(StoreId(2))),
            vec!["0000000002000-def.json", "0000000002000-def.wav"]
        );
        let mut reader = hound::WavReader::open(&a.wav).unwrap();
        assert_eq!(reader.spec(), wav_spec());
        assert_eq!(
            reader
                .samples::<i16>()
                .map(Result::unwrap)
                .collect::<Vec<_>>(),
            vec![1, -2, 3]
        );
        let back: Sidecar = serde_json::from_slice(&std::fs::read(&a.sidecar).unwrap()).unwrap();
        assert_eq!(back, sidecar(1, "abc@host/x", 1_000));
    }

    #[test]
    fn retention_by_count_and_age_per_store() {
        let day = 86_400_000u64;
        // (limits, start days of the recordings of store 1, days kept); store 2 always keeps its one.
        let cases: [(RecordingSettings, &[u64], &[u64]); 4] = [
            (
                RecordingSettings {
                    enabled: true,
                    max_recordings: None,
                    max_age_days: None,
                },
                &[1, 2, 3],
                &[1, 2, 3],
            ),
            (
                RecordingSettings {
                    enabled: true,
                    max_recordings: Some(2),
                    max_age_days: None,
                },
                &[1, 2, 3],
                &[2, 3],
            ),
            (
                RecordingSettings {
                    enabled: true,
                    max_recordings: None,
                    max_age_days: Some(5),
                },
                &[1, 6, 8],
                &[6, 8],
            ),
            (
                RecordingSettings {
                    enabled: true,
                    max_recordings: Some(1),
                    max_age_days: Some(1),
                },
                &[1, 2, 3],
                &[],
            ),
        ];
        for (settings, days, kept) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let recorder = CallRecorder::new(tmp.path());
            let now = UNIX_EPOCH + Duration::from_millis(10 * day);
            recorder
                .save(&sidecar(2, "other", day), &[0], &settings, now)
                .unwrap();
            for d in days {
                recorder
                    .save(&sidecar(1, "c", d * day), &[0], &settings, now)
                    .unwrap();
            }
            let want: Vec<String> = kept
                .iter()
                .flat_map(|d| ["json", "wav"].map(|e| format!("{:013}-c.{e}", d * day)))
                .collect();
            assert_eq!(stems(&recorder.store_dir(StoreId(1))), want, "{settings:?}");
            let other = stems(&recorder.store_dir(StoreId(2)));
            // Store 2 is pruned only by its own saves: its day-1 recording stays
            // unless its own limits (applied when it was saved, at day 10) removed it.
            let other_kept = settings.max_age_days.is_none_or(|d| u64::from(d) >= 9);
            assert_eq!(
                other.len(),
                if other_kept { 2 } else { 0 },
                "{settings:?}: {other:?}"
            );
        }
    }
}
