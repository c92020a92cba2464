//! Calibration: replay a corpus once, keep what each engine recognised, then
//! decide again offline under many thresholds (the live decision code,
//! [`StoreSpeech::decide`], without decoding again), and pick the thresholds
//! that route most requests right within the error limits of issue 10.
//!
//! - [`CachingEngine`] wraps a real engine: the first time an utterance (its
//!   audio, under one grammar) is decoded, the recognition is kept; later runs
//!   get it back without decoding, through the very same replay path.
//! - [`Session`] replays items one by one and keeps, per item, the directory,
//!   the engine and the recognitions of its utterances: enough to re-decide it
//!   under any thresholds ([`Session::figures`]).
//! - [`sweep`] searches the thresholds (every numeric field of
//!   [`Thresholds`], coordinate by coordinate over a grid, so new fields are
//!   swept without changing this code); [`accept_curve`] draws right-routing
//!   against wrong transfers over the accept threshold, per engine.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::ProgressBar;

use crate::asr::sphinx::SphinxEngine;
use crate::asr::vosk::VoskEngine;
use crate::asr::{
    AsrError, CompiledGrammar, Engine, EngineKind, GrammarSpec, Recognition, Recognizer,
};
use crate::directory::{Directory, Language};
use crate::matching::Thresholds;
use crate::speech::understand::StoreSpeech;

use super::input::ReplayItem;
use super::run::{DirectorySource, ItemResult, ReplayConfig, ReplayError, ReplayReport, Replayer};
use super::score::{self, Category, Expected, IssueFigures, Scored};

type Key = (u64, u64);

/// An engine that decodes each (grammar, audio) once and answers from memory after.
pub struct CachingEngine {
    inner: Arc<dyn Engine>,
    grammars: Mutex<HashMap<u64, CompiledGrammar>>,
    recognitions: Arc<Mutex<HashMap<Key, Recognition>>>,
    /// Recognitions finished since the last [`CachingEngine::take_log`], in order.
    log: Arc<Mutex<Vec<Recognition>>>,
    decoded: Arc<AtomicUsize>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache only means another thread panicked: the data is intact.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CachingEngine {
    pub fn new(inner: Arc<dyn Engine>) -> Self {
        CachingEngine {
            inner,
            grammars: Mutex::default(),
            recognitions: Arc::default(),
            log: Arc::default(),
            decoded: Arc::default(),
        }
    }

    /// The recognitions finished since the last call, in order.
    pub fn take_log(&self) -> Vec<Recognition> {
        std::mem::take(&mut *lock(&self.log))
    }

    /// Utterances actually decoded by the inner engine (cache misses).
    pub fn decoded(&self) -> usize {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Adds the recognitions kept in `path` by [`CachingEngine::save`] (a
    /// missing file adds nothing). Keys are hashes of the grammar text and
    /// the audio, so only what this engine would decode the same is found; a
    /// file written by another engine set-up (the phone-loop pass on or off,
    /// another model) must be deleted by hand.
    pub fn load(&self, path: &std::path::Path) -> Result<usize, RecognitionCacheError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(RecognitionCacheError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        let kept: Vec<(u64, u64, Recognition)> =
            serde_json::from_str(&text).map_err(|source| RecognitionCacheError::Parse {
                path: path.into(),
                source,
            })?;
        let n = kept.len();
        lock(&self.recognitions).extend(kept.into_iter().map(|(g, a, r)| ((g, a), r)));
        Ok(n)
    }

    /// Writes every recognition kept so far to `path` (replaced whole).
    pub fn save(&self, path: &std::path::Path) -> Result<(), RecognitionCacheError> {
        let mut kept: Vec<(u64, u64, Recognition)> = lock(&self.recognitions)
            .iter()
            .map(|((g, a), r)| (*g, *a, r.clone()))
            .collect();
        kept.sort_by_key(|(g, a, _)| (*g, *a));
        let text = serde_json::to_string(&kept).map_err(|source| RecognitionCacheError::Parse {
            path: path.into(),
            source,
        })?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|source| RecognitionCacheError::Write {
                path: path.into(),
                source,
            })
    }
}

/// Why a recognition cache file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RecognitionCacheError {
    #[error("cannot read the recognition cache {path}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the recognition cache {path} is not a list of kept recognitions")]
    Parse {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the recognition cache {path}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

struct CachingRecognizer {
    inner_engine: Arc<dyn Engine>,
    grammar: CompiledGrammar,
    grammar_key: u64,
    blocks: Vec<Vec<i16>>,
    recognitions: Arc<Mutex<HashMap<Key, Recognition>>>,
    log: Arc<Mutex<Vec<Recognition>>>,
    decoded: Arc<AtomicUsize>,
}

fn hash_of(x: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

impl Engine for CachingEngine {
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
        let key = hash_of(format!("{spec:?}"));
        if let Some(g) = lock(&self.grammars).get(&key) {
            return Ok(g.clone());
        }
        let g = self.inner.compile_grammar(spec)?;
        lock(&self.grammars).insert(key, g.clone());
        Ok(g)
    }
    fn decoded_end_silence(&self) -> Option<std::time::Duration> {
        self.inner.decoded_end_silence()
    }
    fn recognizer(&self, grammar: &CompiledGrammar) -> Result<Box<dyn Recognizer>, AsrError> {
        Ok(Box::new(CachingRecognizer {
            inner_engine: self.inner.clone(),
            grammar: grammar.clone(),
            grammar_key: hash_of(grammar.source_text()),
            blocks: Vec::new(),
            recognitions: self.recognitions.clone(),
            log: self.log.clone(),
            decoded: self.decoded.clone(),
        }))
    }
}

impl Recognizer for CachingRecognizer {
    fn push_audio(&mut self, samples: &[i16]) -> Result<(), AsrError> {
        self.blocks.push(samples.to_vec());
        Ok(())
    }
    fn partial(&mut self) -> Option<String> {
        None
    }
    fn finish(self: Box<Self>) -> Result<Recognition, AsrError> {
        let key = (self.grammar_key, hash_of(&self.blocks));
        let cached = lock(&self.recognitions).get(&key).cloned();
        let recognition = match cached {
            Some(r) => r,
            None => {
                // The same blocks in the same order as live: the same result.
                let mut inner = self.inner_engine.recognizer(&self.grammar)?;
                for b in &self.blocks {
                    inner.push_audio(b)?;
                }
                let r = inner.finish()?;
                self.decoded.fetch_add(1, Ordering::Relaxed);
                lock(&self.recognitions).insert(key, r.clone());
                r
            }
        };
        lock(&self.log).push(recognition.clone());
        Ok(recognition)
    }
}

/// What was kept of one replayed item to decide it again.
struct Kept {
    directory: Arc<Directory>,
    engine: EngineKind,
    expected: Expected,
    category: Category,
    store: String,
    expected_label: String,
    recognitions: Vec<Recognition>,
}

/// A corpus replayed once, ready to be decided again under other thresholds.
pub struct Session {
    engines: HashMap<(EngineKind, Language), Arc<CachingEngine>>,
    replayer: Replayer,
    kept: Vec<Kept>,
    /// Store speech per (engine, directory address, thresholds).
    speech: Vec<((EngineKind, usize, Thresholds), Arc<StoreSpeech>)>,
}

/// Why calibration could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("cannot load an engine")]
    Engine(#[from] ReplayError),
    #[error("cannot build the speech set-up of store {store}")]
    Speech {
        store: String,
        source: Box<crate::speech::understand::SpeechSetupError>,
    },
    #[error("recognition cache")]
    Cache(#[from] RecognitionCacheError),
    #[error("no {engine:?} engine was loaded for {language:?}")]
    NoEngine {
        engine: EngineKind,
        language: Language,
    },
}

fn load_engine(kind: EngineKind, language: Language) -> Result<Arc<dyn Engine>, ReplayError> {
    let loaded: Result<Arc<dyn Engine>, AsrError> = match kind {
        EngineKind::Vosk => VoskEngine::from_manifest(language).map(|e| Arc::new(e) as _),
        EngineKind::Sphinx => SphinxEngine::from_manifest().map(|e| Arc::new(e) as _),
    };
    loaded.map_err(|source| ReplayError::Engine {
        engine: kind,
        language,
        source,
    })
}

fn item_directory(item: &ReplayItem, source: &DirectorySource) -> Option<Arc<Directory>> {
    match source {
        DirectorySource::Recorded => item.directory.clone(),
        DirectorySource::Fixed(d) => Some(d.clone()),
        DirectorySource::Current(by_store) => item
            .directory
            .as_ref()
            .and_then(|d| by_store.get(&d.store.id).cloned()),
    }
}

fn item_engine(item: &ReplayItem, config: &ReplayConfig) -> Option<EngineKind> {
    config
        .engine
        .or(item.engine)
        .or(item.sidecar.as_deref().map(|s| s.engine))
}

impl Session {
    /// Replays `items` under `config` (one decode per utterance), keeping what
    /// is needed to decide them again. Engines are loaded for the (engine,
    /// language) pairs the items need.
    /// `calibration`: the thresholds of items whose run and recording give none.
    pub fn replay(
        items: &[ReplayItem],
        config: &ReplayConfig,
        progress: &ProgressBar,
        calibration: crate::matching::calibration::Calibration,
        cache_dir: Option<&std::path::Path>,
    ) -> Result<(Session, ReplayReport), CalibrateError> {
        let cache_file = |kind: EngineKind, language: Language| {
            cache_dir.map(|d| d.join(format!("{kind:?}-{language:?}.json").to_lowercase()))
        };
        let mut engines: HashMap<(EngineKind, Language), Arc<CachingEngine>> = HashMap::new();
        for item in items {
            let (Some(kind), Some(dir)) = (
                item_engine(item, config),
                item_directory(item, &config.directory),
            ) else {
                continue;
            };
            let language = dir.store.language;
            if let std::collections::hash_map::Entry::Vacant(v) = engines.entry((kind, language)) {
                let caching = CachingEngine::new(load_engine(kind, language)?);
                if let Some(path) = cache_file(kind, language) {
                    caching.load(&path)?;
                }
                v.insert(Arc::new(caching));
            }
        }
        let mut replayer = Replayer::with_engines(
            engines
                .values()
                .map(|e| e.clone() as Arc<dyn Engine>)
                .collect::<Vec<_>>(),
        )
        .with_calibration(calibration);
        let mut kept = Vec::new();
        let mut results: Vec<ItemResult> = Vec::with_capacity(items.len());
        for item in items {
            let mut one = replayer.run(std::slice::from_ref(item), config, progress);
            let result = one.items.remove(0);
            let kind = item_engine(item, config);
            let directory = item_directory(item, &config.directory);
            let recognitions = kind
                .zip(directory.as_ref())
                .and_then(|(k, d)| engines.get(&(k, d.store.language)))
                .map(|e| e.take_log())
                .unwrap_or_default();
            if let (Some(engine), Some(directory), Some(expected), None) =
                (kind, directory, result.expected.clone(), &result.error)
            {
                kept.push(Kept {
                    category: result
                        .category
                        .unwrap_or_else(|| score::category(&expected, &directory)),
                    directory,
                    engine,
                    expected,
                    store: result.store.clone(),
                    expected_label: result.expected_label.clone(),
                    recognitions,
                });
            }
            results.push(result);
        }
        if let Some(dir) = cache_dir {
            std::fs::create_dir_all(dir).map_err(|source| RecognitionCacheError::Write {
                path: dir.into(),
                source,
            })?;
            for ((kind, language), engine) in &engines {
                if let Some(path) = cache_file(*kind, *language) {
                    engine.save(&path)?;
                }
            }
        }
        let summary = score::summarize(&super::run::scored(&results));
        let report = ReplayReport {
            config: config.name.clone(),
            summary,
            items: results,
        };
        Ok((
            Session {
                engines,
                replayer,
                kept,
                speech: Vec::new(),
            },
            report,
        ))
    }

    /// Utterances decoded by the engines so far (not answered from memory).
    pub fn decoded(&self) -> usize {
        self.engines.values().map(|e| e.decoded()).sum()
    }

    /// The replayer, with the caching engines (a later run under other
    /// settings decodes only what it has not heard).
    pub fn replayer(&mut self) -> &mut Replayer {
        &mut self.replayer
    }

    /// The engines of the kept items, in a stable order.
    pub fn engine_kinds(&self) -> Vec<EngineKind> {
        let mut kinds: Vec<EngineKind> = self.kept.iter().map(|k| k.engine).collect();
        kinds.sort_by_key(|k| format!("{k:?}"));
        kinds.dedup();
        kinds
    }

    fn speech_for(
        &mut self,
        engine: EngineKind,
        directory: &Arc<Directory>,
        thresholds: Thresholds,
    ) -> Result<Arc<StoreSpeech>, CalibrateError> {
        let key = (engine, Arc::as_ptr(directory) as usize, thresholds);
        if let Some((_, s)) = self.speech.iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let caching = self
            .engines
            .get(&(engine, directory.store.language))
            .ok_or(CalibrateError::NoEngine {
                engine,
                language: directory.store.language,
            })?
            .clone();
        let speech = Arc::new(
            StoreSpeech::build(directory.clone(), caching as Arc<dyn Engine>, thresholds).map_err(
                |source| CalibrateError::Speech {
                    store: directory.store.number.clone(),
                    source: Box::new(source),
                },
            )?,
        );
        // One sweep visits many thresholds: keep the set-ups of the last few only.
        if self.speech.len() > 64 {
            self.speech.remove(0);
        }
        self.speech.push((key, speech.clone()));
        Ok(speech)
    }

    /// Decides every kept item again under `thresholds` (only items of
    /// `engine`, when given) and scores them.
    pub fn rescore(
        &mut self,
        thresholds: Thresholds,
        engine: Option<EngineKind>,
    ) -> Result<Vec<Scored>, CalibrateError> {
        let mut out = Vec::with_capacity(self.kept.len());
        for i in 0..self.kept.len() {
            let (kind, directory) = (self.kept[i].engine, self.kept[i].directory.clone());
            if engine.is_some_and(|e| e != kind) {
                continue;
            }
            let speech = self.speech_for(kind, &directory, thresholds)?;
            let k = &self.kept[i];
            let decisions: Vec<score::DecisionRecord> = k
                .recognitions
                .iter()
                .map(|r| score::DecisionRecord::from(&speech.decide(r)))
                .collect();
            let decision = score::call_decision(&decisions);
            out.push(Scored {
                store: k.store.clone(),
                expected_label: k.expected_label.clone(),
                decided_label: decision.label(),
                expected: k.expected.clone(),
                decision,
                decode_ms: vec![],
                category: k.category,
                turns: score::turns(&decisions),
            });
        }
        Ok(out)
    }

    /// Issue 10's figures under `thresholds`.
    pub fn figures(
        &mut self,
        thresholds: Thresholds,
        engine: Option<EngineKind>,
    ) -> Result<IssueFigures, CalibrateError> {
        Ok(IssueFigures::of(&self.rescore(thresholds, engine)?))
    }
}

/// The limits calibration must keep (issue 10's goals).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Most name requests transferred or confirmed to the wrong person (share).
    pub max_wrong: f64,
    /// Fewest out-of-directory requests rejected (share).
    pub min_rejected: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_wrong: 0.02,
            min_rejected: 0.90,
        }
    }
}

/// How far figures are from the limits (0 when within them).
pub fn violation(f: &IssueFigures, limits: &Limits) -> f64 {
    let wrong = f.names.wrong_rate();
    let rejected = if f.out_of_directory.total == 0 {
        1.0
    } else {
        f.out_of_directory.right_rate()
    };
    (wrong - limits.max_wrong).max(0.0) + (limits.min_rejected - rejected).max(0.0)
}

/// Requests routed right: names (a menu of up to three counts) and departments at once.
pub fn routed_right(f: &IssueFigures) -> usize {
    f.names.right + f.departments.right
}

/// Whether `a` is a better choice than `b`: within the limits first (or
/// nearer to them), then more requests routed right, then fewer wrong, then
/// more rejected out-of-directory requests.
pub fn better(a: &IssueFigures, b: &IssueFigures, limits: &Limits) -> bool {
    let (va, vb) = (violation(a, limits), violation(b, limits));
    if (va - vb).abs() > 1e-12 {
        return va < vb;
    }
    let key = |f: &IssueFigures| {
        (
            routed_right(f) as i64,
            -(f.names.wrong as i64) - f.out_of_directory.wrong as i64,
            f.out_of_directory.right as i64,
        )
    };
    key(a) > key(b)
}

/// One evaluated set of thresholds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trial {
    pub thresholds: Thresholds,
    pub figures: IssueFigures,
    pub within_limits: bool,
}

/// The numeric fields of `thresholds` (serde names), in order.
pub fn numeric_fields(thresholds: &Thresholds) -> Vec<String> {
    match serde_json::to_value(thresholds) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| v.is_number())
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// `thresholds` with one field set to `value`; `None` when that makes them
/// invalid (out of order, out of range).
pub fn with_field(thresholds: &Thresholds, field: &str, value: f64) -> Option<Thresholds> {
    let mut json = serde_json::to_value(thresholds).ok()?;
    *json.get_mut(field)? = serde_json::json!(value);
    let t: Thresholds = serde_json::from_value(json).ok()?;
    t.validate().ok().map(|()| t)
}

/// Searches the thresholds for one engine: from `start`, each numeric field in
/// turn over `grid` (values 0..=1), keeping the best ([`better`]); repeated
/// until a round changes nothing (at most `rounds`). Returns the best trial and
/// every trial made.
pub fn sweep(
    session: &mut Session,
    engine: EngineKind,
    start: Thresholds,
    grid: &[f64],
    limits: &Limits,
    rounds: usize,
) -> Result<(Trial, Vec<Trial>), CalibrateError> {
    let mut trials = Vec::new();
    let mut evaluate = |s: &mut Session, t: Thresholds| -> Result<Trial, CalibrateError> {
        let figures = s.figures(t, Some(engine))?;
        let trial = Trial {
            thresholds: t,
            within_limits: violation(&figures, limits) == 0.0,
            figures,
        };
        trials.push(trial.clone());
        Ok(trial)
    };
    let mut best = evaluate(session, start)?;
    for _ in 0..rounds {
        let before = best.thresholds;
        for field in numeric_fields(&best.thresholds) {
            for &value in grid {
                let Some(t) = with_field(&best.thresholds, &field, value) else {
                    continue;
                };
                if t == best.thresholds {
                    continue;
                }
                let trial = evaluate(session, t)?;
                if better(&trial.figures, &best.figures, limits) {
                    best = trial;
                }
            }
        }
        if best.thresholds == before {
            break;
        }
    }
    Ok((best, trials))
}

/// One point of an accept-threshold curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    pub accept: f64,
    /// Name requests routed right (share).
    pub right: f64,
    /// Name requests transferred or confirmed to the wrong person (share).
    pub wrong: f64,
    /// Out-of-directory requests rejected (share).
    pub rejected: f64,
}

/// Right-routing against wrong transfers over the accept threshold, for one engine.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineCurve {
    pub engine: EngineKind,
    /// The thresholds the run used (its point is marked on the curve).
    pub at: Thresholds,
    pub points: Vec<CurvePoint>,
}

/// The curve of each engine: its `base` thresholds with `accept` (and
/// `confirm`, kept at or below it) moved over 0..=1 in `steps` steps.
pub fn accept_curve(
    session: &mut Session,
    base: impl Fn(EngineKind) -> Thresholds,
    steps: usize,
) -> Result<Vec<EngineCurve>, CalibrateError> {
    let mut curves = Vec::new();
    for engine in session.engine_kinds() {
        let base = base(engine);
        let mut points = Vec::new();
        for i in 0..=steps {
            let accept = i as f64 / steps as f64;
            let t = with_field(&base, "accept", accept).or_else(|| {
                let lowered = with_field(&base, "confirm", accept)?;
                with_field(&lowered, "accept", accept)
            });
            let Some(t) = t else { continue };
            let f = session.figures(t, Some(engine))?;
            points.push(CurvePoint {
                accept,
                right: f.names.right_rate(),
                wrong: f.names.wrong_rate(),
                rejected: if f.out_of_directory.total == 0 {
                    1.0
                } else {
                    f.out_of_directory.right_rate()
                },
            });
        }
        curves.push(EngineCurve {
            engine,
            at: base,
            points,
        });
    }
    Ok(curves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::score::CategoryCounts;

    fn figures(right: usize, wrong: usize, ood_right: usize) -> IssueFigures {
        IssueFigures {
            names: CategoryCounts {
                total: 100,
                right,
                wrong,
                ..Default::default()
            },
            out_of_directory: CategoryCounts {
                total: 10,
                right: ood_right,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn within_the_limits_beats_more_right() {
        let limits = Limits::default();
        // 90 right with 5 % wrong breaks the 2 % limit; 80 right with 2 % keeps it.
        assert!(better(&figures(80, 2, 9), &figures(90, 5, 9), &limits));
        // Both within: more right wins.
        assert!(better(&figures(85, 2, 9), &figures(80, 1, 10), &limits));
        // Rejection under 90 % is a violation too.
        assert!(better(&figures(70, 0, 9), &figures(85, 0, 8), &limits));
        // Both outside: the nearer wins.
        assert!(better(&figures(60, 3, 9), &figures(90, 9, 9), &limits));
        assert_eq!(violation(&figures(50, 2, 9), &limits), 0.0);
    }

    #[test]
    fn every_numeric_field_is_swept_and_invalid_ones_are_skipped() {
        let t = Thresholds::default();
        let fields = numeric_fields(&t);
        for f in ["accept", "confirm", "margin"] {
            assert!(fields.iter().any(|x| x == f), "{fields:?}");
        }
        // accept below confirm is refused; a valid change keeps the others.
        assert!(with_field(&t, "accept", 0.1).is_none());
        let moved = with_field(&t, "accept", 0.9).unwrap();
        assert_eq!((moved.accept, moved.confirm), (0.9, t.confirm));
        assert!(with_field(&t, "no_such_field", 0.5).is_none());
    }
}
