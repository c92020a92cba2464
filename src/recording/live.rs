//! One live call's recording, fed by the runtime's call task.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::asr::EngineKind;
use crate::asr::models::{self, ModelManifest};
use crate::directory::{Language, TransferTarget};
use crate::flow::RecordingSettings;
use crate::matching::Thresholds;
use crate::speech::endpoint::EndpointSettings;
use crate::speech::understand::StoreSpeech;

use super::sidecar::{
    DecisionRecord, ListenEnd, RecordedListen, RecordedUtterance, SIDECAR_FORMAT, SampleRange,
    Sidecar, grammar_sha256,
};
use super::store::{CallRecorder, RecordError, SavedRecording};
use crate::speech::endpoint::Utterance;

/// The model name of an engine (the `models/*.toml` item), for sidecars and reports.
pub fn model_name(kind: EngineKind, language: Language) -> Option<String> {
    ModelManifest::find(&models::default_manifest_dir(), kind, language)
        .ok()
        .map(|m| m.name)
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
    /// The utterance being decoded: its samples in the recording, truncated.
    pending: Option<(SampleRange, bool)>,
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
            model: model_name(engine, directory.store.language).unwrap_or_default(),
            grammar_sha256: grammar_sha256(speech.grammar()),
            thresholds,
            endpoint,
            started_at_unix_ms: started
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as u64,
            audio_ms: 0,
            utterances: vec![],
            listens: vec![],
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

    /// A recognition starts listening, at `call_sample` of the call's audio
    /// clock; the audio that follows is its own. An earlier one still open
    /// was stopped.
    pub fn listening(&mut self, call_sample: u64) {
        self.listen_ended(ListenEnd::Stopped {
            why: "a new recognition started".into(),
        });
        self.sidecar.listens.push(RecordedListen {
            from_sample: self.pcm.len() as u64,
            call_sample,
            end: ListenEnd::Open,
        });
    }

    /// How the current recognition ended (nothing if it has ended already).
    pub fn listen_ended(&mut self, end: ListenEnd) {
        if let Some(listen) = self.sidecar.listens.last_mut()
            && listen.end == ListenEnd::Open
        {
            listen.end = end;
        }
    }

    /// Caller audio heard while listening (8 kHz), exactly as the endpointer got it.
    pub fn audio(&mut self, frame: &[i16]) {
        self.pcm.extend_from_slice(frame);
    }

    /// The endpointer cut `utterance` (its clock starts at the current
    /// recognition's start); it is being decoded.
    pub fn utterance_ended(&mut self, utterance: &Utterance) {
        let from = self.sidecar.listens.last().map_or(0, |l| l.from_sample);
        let end = from + utterance.ended_at_sample;
        let range = SampleRange {
            start: end.saturating_sub(utterance.pcm.len() as u64),
            end,
            trailing_silence: utterance.trailing_silence as u64,
        };
        self.pending = Some((range, utterance.truncated));
    }

    /// The recognition of the last utterance, and how long it took.
    pub fn recognized(&mut self, recognition: &crate::asr::Recognition, decode_ms: Option<f64>) {
        let (range, truncated) = match self.pending.take() {
            Some((range, truncated)) => (Some(range), truncated),
            None => (None, false),
        };
        self.sidecar.utterances.push(RecordedUtterance {
            ended_at_ms: range.map_or(self.pcm.len() as u64, |r| r.end) / 8,
            duration_ms: range.map_or(0, |r| r.end - r.start) / 8,
            truncated,
            nbest: recognition.alternatives.clone(),
            in_grammar: recognition.in_grammar,
            decision: DecisionRecord::from(&self.speech.decide(recognition)),
            decode_ms,
            samples: range,
        });
        self.listen_ended(ListenEnd::Recognized);
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
