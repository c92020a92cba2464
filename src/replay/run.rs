//! Replaying recordings through the live speech path
//! ([`crate::speech::understand::understand_recording`]) under one configuration,
//! and comparing two configurations utterance by utterance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use indicatif::ProgressBar;

use crate::asr::models::{self, ModelManifest};
use crate::asr::sphinx::SphinxEngine;
use crate::asr::vosk::VoskEngine;
use crate::asr::{
    AsrError, CompiledGrammar, Engine, EngineKind, GrammarSpec, Recognition, Recognizer,
};
use crate::directory::{Directory, EntryId, Language, StoreId};
use crate::matching::Thresholds;
use crate::speech::endpoint::EndpointSettings;
use crate::speech::understand::{StoreSpeech, understand_recording};

use super::input::{self, ExpectedSpec, ReplayItem};
use crate::recording::sidecar::SampleRange;
use crate::speech::offline::{
    CALL_LEAD_SAMPLES, Cut, HeardUtterance, Listen, as_heard, understand_call_audio,
    understand_listens,
};

use super::record::RecordedUtterance;
use super::score::{self, Category, DecisionRecord, Expected, Scored, Summary, Verdict};

/// Which directory version a recording is replayed against.
#[derive(Debug, Clone, Default)]
pub enum DirectorySource {
    /// The one it was recorded with (sidecar or manifest).
    #[default]
    Recorded,
    /// Each store's current directory (read from the database by the caller).
    Current(HashMap<StoreId, Arc<Directory>>),
    /// One snapshot for every recording (for manifests that carry none).
    Fixed(Arc<Directory>),
}

/// One replay configuration. `None` fields take what the recording was made with
/// (its sidecar), else the defaults.
#[derive(Debug, Clone, Default)]
pub struct ReplayConfig {
    /// Name in reports ("A", "B", "current").
    pub name: String,
    pub engine: Option<EngineKind>,
    pub thresholds: Option<Thresholds>,
    pub endpoint: Option<EndpointSettings>,
    pub directory: DirectorySource,
}

/// The parts of a configuration that can be changed for a comparison (JSON).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigChange {
    pub engine: Option<EngineKind>,
    pub thresholds: Option<Thresholds>,
    pub endpoint: Option<EndpointSettings>,
    /// A directory snapshot file for every recording.
    pub directory: Option<std::path::PathBuf>,
}

/// Why a replay could not run at all (a recording that fails is reported, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot load the {engine:?} engine for {language:?}")]
    Engine {
        engine: EngineKind,
        language: Language,
        source: AsrError,
    },
}

/// Replay of one recording.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub spoken: Option<String>,
    /// Store label: number and name.
    pub store: String,
    pub engine: Option<EngineKind>,
    pub directory_version: Option<i64>,
    pub expected: Option<Expected>,
    pub expected_label: String,
    pub utterances: Vec<RecordedUtterance>,
    /// What the call would do: the first utterance that means something.
    pub decision: DecisionRecord,
    pub decided_label: String,
    /// `None` when the recording is not labelled or failed.
    pub verdict: Option<Verdict>,
    /// What the live call decided, for call recordings.
    pub live_decision: Option<DecisionRecord>,
    /// Why the recording could not be replayed (it is then left out of the figures).
    pub error: Option<String>,
    /// What the request asks for (issue 10's figures), when labelled.
    #[serde(default)]
    pub category: Option<Category>,
    /// Turns the call took to its decision ([`score::turns`]).
    #[serde(default)]
    pub turns: usize,
    /// Where replay could not give the engine what the call gave it, or found
    /// nothing to decode, and why (stage and cause).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplayReport {
    pub config: String,
    pub summary: Summary,
    pub items: Vec<ItemResult>,
}

/// Decoding times, measured around the engine calls (outside the sans-IO code):
/// the engine is wrapped, so the shared path stays exactly as live calls run it.
struct TimedEngine {
    inner: Arc<dyn Engine>,
    /// Milliseconds per finished utterance, in decoding order.
    decoded: Arc<Mutex<Vec<f64>>>,
}

struct TimedRecognizer {
    inner: Box<dyn Recognizer>,
    started: Instant,
    decoded: Arc<Mutex<Vec<f64>>>,
}

impl Engine for TimedEngine {
    fn kind(&self) -> EngineKind {
        self.inner.kind()
    }
    fn language(&self) -> Language {
        self.inner.language()
    }
    fn can_recognize(&self, word: &str) -> bool {
        self.inner.can_recognize(word)
    }
    fn compile_grammar(&self, spec: &GrammarSpec) -> Result<CompiledGrammar, AsrError> {
        self.inner.compile_grammar(spec)
    }
    fn decoded_end_silence(&self) -> Option<std::time::Duration> {
        self.inner.decoded_end_silence()
    }
    fn recognizer(&self, grammar: &CompiledGrammar) -> Result<Box<dyn Recognizer>, AsrError> {
        let started = Instant::now();
        let inner = self.inner.recognizer(grammar)?;
        Ok(Box::new(TimedRecognizer {
            inner,
            started,
            decoded: self.decoded.clone(),
        }))
    }
}

impl Recognizer for TimedRecognizer {
    fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError> {
        self.inner.push_audio(samples)
    }
    fn partial(&mut self) -> Option<String> {
        self.inner.partial()
    }
    fn finish(self: Box<Self>) -> Result<Recognition, AsrError> {
        let result = self.inner.finish();
        let ms = self.started.elapsed().as_secs_f64() * 1000.0;
        // A poisoned list only means another replay thread panicked: keep measuring.
        self.decoded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ms);
        result
    }
}

/// What a store's speech set-up depends on: engine, store, directory version,
/// thresholds, and which snapshot (its address).
type SpeechKey = (EngineKind, StoreId, i64, Thresholds, usize);

/// Loads engines once per (engine, language) and builds each store's speech
/// set-up once per directory version and thresholds.
pub struct Replayer {
    engines: HashMap<(EngineKind, Language), Arc<dyn Engine>>,
    speech: Vec<(SpeechKey, Arc<StoreSpeech>)>,
    decoded: Arc<Mutex<Vec<f64>>>,
    /// Thresholds of each engine when neither the run nor the recording
    /// gives any: the calibration files, as live calls use them.
    calibration: crate::matching::calibration::Calibration,
}

impl Default for Replayer {
    fn default() -> Self {
        Self::new()
    }
}

impl Replayer {
    /// A replayer loading the installed models (`models/*.toml`) on first use.
    pub fn new() -> Self {
        Replayer {
            engines: HashMap::new(),
            speech: Vec::new(),
            decoded: Arc::default(),
            calibration: crate::matching::calibration::Calibration::default(),
        }
    }

    /// Uses `calibration` for items whose thresholds neither the run nor
    /// their recording sets (`attendant replay` loads `config/calibration`).
    pub fn with_calibration(
        mut self,
        calibration: crate::matching::calibration::Calibration,
    ) -> Self {
        self.calibration = calibration;
        self
    }

    /// A replayer using the given engines (tests, or engines already loaded).
    pub fn with_engines(engines: impl IntoIterator<Item = Arc<dyn Engine>>) -> Self {
        let mut r = Self::new();
        for e in engines {
            r.engines.insert((e.kind(), e.language()), e);
        }
        r
    }

    fn engine(
        &mut self,
        kind: EngineKind,
        language: Language,
    ) -> Result<Arc<dyn Engine>, ReplayError> {
        if let Some(e) = self.engines.get(&(kind, language)) {
            return Ok(e.clone());
        }
        let loaded: Arc<dyn Engine> = match kind {
            EngineKind::Vosk => {
                VoskEngine::from_manifest(language).map(|e| Arc::new(e) as Arc<dyn Engine>)
            }
            EngineKind::Sphinx => {
                SphinxEngine::from_manifest().map(|e| Arc::new(e) as Arc<dyn Engine>)
            }
        }
        .map_err(|source| ReplayError::Engine {
            engine: kind,
            language,
            source,
        })?;
        self.engines.insert((kind, language), loaded.clone());
        Ok(loaded)
    }

    fn speech(
        &mut self,
        kind: EngineKind,
        directory: &Arc<Directory>,
        thresholds: Thresholds,
    ) -> Result<Arc<StoreSpeech>, String> {
        // The pointer tells snapshots with the same version apart (a test store
        // and a demo store may both be version 1).
        let key = (
            kind,
            directory.store.id,
            directory.version.0,
            thresholds,
            Arc::as_ptr(directory) as usize,
        );
        if let Some((_, s)) = self.speech.iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let engine = self
            .engine(kind, directory.store.language)
            .map_err(|e| anyhow_chain(&e))?;
        let timed: Arc<dyn Engine> = Arc::new(TimedEngine {
            inner: engine,
            decoded: self.decoded.clone(),
        });
        let speech = Arc::new(
            StoreSpeech::build(directory.clone(), timed, thresholds)
                .map_err(|e| anyhow_chain(&e))?,
        );
        self.speech.push((key, speech.clone()));
        Ok(speech)
    }

    /// Replays every item under `config`; `progress` advances by one per item.
    pub fn run(
        &mut self,
        items: &[ReplayItem],
        config: &ReplayConfig,
        progress: &ProgressBar,
    ) -> ReplayReport {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            results.push(self.replay_one(item, config));
            progress.inc(1);
        }
        let summary = score::summarize(&scored(&results));
        ReplayReport {
            config: config.name.clone(),
            summary,
            items: results,
        }
    }

    fn replay_one(&mut self, item: &ReplayItem, config: &ReplayConfig) -> ItemResult {
        let directory = match &config.directory {
            DirectorySource::Recorded => item.directory.clone(),
            DirectorySource::Fixed(d) => Some(d.clone()),
            DirectorySource::Current(by_store) => item
                .directory
                .as_ref()
                .and_then(|d| by_store.get(&d.store.id).cloned()),
        };
        let sidecar = item.sidecar.as_deref();
        let engine = config.engine.or(item.engine).or(sidecar.map(|s| s.engine));
        let thresholds = config.thresholds.or(sidecar.map(|s| s.thresholds));
        let endpoint = config
            .endpoint
            .clone()
            .or(sidecar.map(|s| s.endpoint.clone()))
            .unwrap_or_default();
        let expected = match (&item.expected, &directory) {
            (ExpectedSpec::Unknown, _) => None,
            (ExpectedSpec::Resolved(e), _) => Some(e.clone()),
            (ExpectedSpec::Text(t), Some(d)) => Some(input::resolve_text(t, d)),
            (ExpectedSpec::Text(_), None) => None,
        };
        let mut result = ItemResult {
            id: item.id.clone(),
            spoken: item.spoken.clone(),
            store: directory.as_ref().map_or_else(
                || "?".to_owned(),
                |d| format!("{} {}", d.store.number, d.store.name),
            ),
            engine,
            directory_version: directory.as_ref().map(|d| d.version.0),
            expected_label: expected_label(expected.as_ref(), directory.as_deref()),
            category: expected
                .as_ref()
                .zip(directory.as_deref())
                .map(|(e, d)| score::category(e, d)),
            turns: 0,
            expected,
            utterances: vec![],
            decision: DecisionRecord::NoMatch,
            decided_label: String::new(),
            verdict: None,
            live_decision: sidecar
                .map(|s| score::call_decision(s.utterances.iter().map(|u| &u.decision))),
            error: None,
            notes: vec![],
        };
        let mut notes = Vec::new();
        let outcome = (|| -> Result<Vec<RecordedUtterance>, String> {
            let directory = directory
                .as_ref()
                .ok_or("no directory: pass --directory FILE or --directory current")?;
            let engine = engine.ok_or("no engine recorded: pass --engine")?;
            let thresholds = thresholds.unwrap_or_else(|| self.calibration.thresholds(engine));
            let speech = self.speech(engine, directory, thresholds)?;
            let pcm = input::read_wav(&item.wav).map_err(|e| anyhow_chain(&e))?;
            self.decoded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            let utterances = match sidecar.filter(|s| !s.listens.is_empty()) {
                Some(recorded) => {
                    let heard = understand_listens(
                        &speech,
                        &endpoint,
                        endpoint == recorded.endpoint,
                        &pcm,
                        &listens_of(recorded),
                    )
                    .map_err(|e| anyhow_chain(&e))?;
                    notes.extend(cut_notes(&heard));
                    heard.iter().map(utterance_of_heard).collect::<Vec<_>>()
                }
                // A call recording of format 1 is the call's audio already.
                None if sidecar.is_some() => understand_recording(&speech, &endpoint, &pcm)
                    .map_err(|e| anyhow_chain(&e))?
                    .iter()
                    .map(|u| RecordedUtterance::from_understood(u, None))
                    .collect(),
                // Any other WAV is a caller's voice, heard as a call hears it;
                // positions stay on the call's clock, times from the voice.
                None => understand_call_audio(&speech, &endpoint, &as_heard(&pcm))
                    .map_err(|e| anyhow_chain(&e))?
                    .iter()
                    .map(|u| {
                        let mut r = utterance_of_heard(u);
                        r.ended_at_ms = u.end.saturating_sub(CALL_LEAD_SAMPLES as u64) / 8;
                        r
                    })
                    .collect(),
            };
            let times =
                std::mem::take(&mut *self.decoded.lock().unwrap_or_else(PoisonError::into_inner));
            Ok(utterances
                .into_iter()
                .enumerate()
                .map(|(i, mut u)| {
                    u.decode_ms = times.get(i).copied();
                    u
                })
                .collect())
        })();
        match outcome {
            Ok(utterances) => {
                result.decision = score::call_decision(utterances.iter().map(|u| &u.decision));
                result.turns = score::turns(utterances.iter().map(|u| &u.decision));
                result.utterances = utterances;
                result.verdict = result
                    .expected
                    .as_ref()
                    .map(|e| score::verdict(e, &result.decision));
            }
            Err(e) => result.error = Some(e),
        }
        if result.error.is_none() && result.utterances.is_empty() {
            notes.push("no utterance: the endpointer found no speech in the recording".to_owned());
        }
        for u in &result.utterances {
            if u.nbest.is_empty() {
                notes.push(format!(
                    "the engine recognised nothing in the utterance ending at {:.2} s ({} ms long)",
                    u.ended_at_ms as f64 / 1000.0,
                    u.duration_ms
                ));
            }
        }
        result.notes = notes;
        result.decided_label = decided_label(&result.decision, directory.as_deref());
        result
    }
}

/// The recognitions of a call recording, with the cut the live endpointer
/// made in each (the recorded utterance that lies in it).
fn listens_of(sidecar: &crate::recording::Sidecar) -> Vec<Listen> {
    let starts: Vec<u64> = sidecar.listens.iter().map(|l| l.from_sample).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &from)| {
            let to = starts.get(i + 1).copied().unwrap_or(u64::MAX);
            let live_cut = sidecar
                .utterances
                .iter()
                .filter_map(|u| u.samples)
                .find(|r| r.end > from && r.end <= to)
                .map(|r| (r.start, r.end, r.trailing_silence));
            Listen { from, live_cut }
        })
        .collect()
}

/// An utterance of a replayed call recording, in the sidecar's terms.
fn utterance_of_heard(u: &HeardUtterance) -> RecordedUtterance {
    RecordedUtterance {
        ended_at_ms: u.end / 8,
        duration_ms: (u.end - u.start) / 8,
        truncated: u.truncated,
        nbest: u.recognition.alternatives.clone(),
        in_grammar: u.recognition.in_grammar,
        decision: DecisionRecord::from(&u.decision),
        decode_ms: None,
        samples: Some(SampleRange {
            start: u.start,
            end: u.end,
            trailing_silence: u.trailing_silence,
        }),
    }
}

/// What replay says of the cuts it could not reproduce.
fn cut_notes(heard: &[HeardUtterance]) -> Vec<String> {
    let secs = |samples: u64| samples as f64 / 8000.0;
    heard
        .iter()
        .filter(|u| u.cut != Cut::Same)
        .map(|u| match u.cut {
            Cut::Recorded => format!(
                "recognition {}: replay's endpointer did not find the live cut {:.3}-{:.3} s; the recorded cut was decoded",
                u.listen + 1,
                secs(u.start),
                secs(u.end)
            ),
            _ => format!(
                "recognition {}: cut by replay's endpointer at {:.3}-{:.3} s (other settings than the call's, or no live cut recorded)",
                u.listen + 1,
                secs(u.start),
                secs(u.end)
            ),
        })
        .collect()
}

/// A whole error chain on one line (errors here end up in reports, not in `?`).
fn anyhow_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn name_of(id: EntryId, directory: Option<&Directory>) -> String {
    directory
        .and_then(|d| d.entries.iter().find(|e| e.id == id))
        .map_or_else(|| format!("entry {}", id.0), |e| e.display_name.clone())
}

fn expected_label(expected: Option<&Expected>, directory: Option<&Directory>) -> String {
    match expected {
        None => "unlabelled".to_owned(),
        Some(Expected::Reject) => "(reject)".to_owned(),
        Some(Expected::Entry(ids)) => ids
            .iter()
            .map(|i| name_of(*i, directory))
            .collect::<Vec<_>>()
            .join(" / "),
    }
}

pub(super) fn decided_label(decision: &DecisionRecord, directory: Option<&Directory>) -> String {
    match decision {
        DecisionRecord::NoMatch => "(no match)".to_owned(),
        DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id) => name_of(*id, directory),
        DecisionRecord::Disambiguate(ids) => format!(
            "menu: {}",
            ids.iter()
                .map(|i| name_of(*i, directory))
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    }
}

/// The labelled, replayed items in the scorer's terms (a recording that could
/// not be replayed is listed with its error, not scored).
pub fn scored(results: &[ItemResult]) -> Vec<Scored> {
    results
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| {
            Some(Scored {
                store: r.store.clone(),
                expected_label: r.expected_label.clone(),
                decided_label: r.decided_label.clone(),
                expected: r.expected.clone()?,
                decision: r.decision.clone(),
                decode_ms: r.utterances.iter().filter_map(|u| u.decode_ms).collect(),
                category: r.category.unwrap_or(match r.expected {
                    Some(Expected::Reject) => Category::OutOfDirectory,
                    _ => Category::Name,
                }),
                turns: r.turns.max(1),
            })
        })
        .collect()
}

/// The model name of an engine, for sidecars and reports.
pub fn model_name(kind: EngineKind, language: Language) -> Option<String> {
    ModelManifest::find(&models::default_manifest_dir(), kind, language)
        .ok()
        .map(|m| m.name)
}

/// One recording whose outcome differs between two configurations.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub id: String,
    pub expected_label: String,
    pub a: String,
    pub b: String,
    pub a_verdict: Option<Verdict>,
    pub b_verdict: Option<Verdict>,
    /// Wrong under A and right under B.
    pub fixed: bool,
    /// Right under A and wrong under B.
    pub broken: bool,
}

/// Two runs over the same recordings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub a: ReplayReport,
    pub b: ReplayReport,
    /// Recordings whose decision differs (a confirmation that became a transfer counts).
    pub changes: Vec<Change>,
    pub fixed: usize,
    pub broken: usize,
}

/// What changed between two runs over the same items (matched by id).
pub fn compare(a: ReplayReport, b: ReplayReport) -> Comparison {
    let mut changes = Vec::new();
    for (x, y) in a.items.iter().zip(&b.items) {
        debug_assert_eq!(x.id, y.id, "runs over the same items in the same order");
        if x.decision == y.decision && x.error == y.error {
            continue;
        }
        let right = |v: Option<Verdict>| v == Some(Verdict::Correct);
        changes.push(Change {
            id: x.id.clone(),
            expected_label: x.expected_label.clone(),
            a: format!("{} ({})", x.decided_label, x.decision.label()),
            b: format!("{} ({})", y.decided_label, y.decision.label()),
            a_verdict: x.verdict,
            b_verdict: y.verdict,
            fixed: !right(x.verdict) && right(y.verdict),
            broken: right(x.verdict) && !right(y.verdict),
        });
    }
    let fixed = changes.iter().filter(|c| c.fixed).count();
    let broken = changes.iter().filter(|c| c.broken).count();
    Comparison {
        a,
        b,
        changes,
        fixed,
        broken,
    }
}
