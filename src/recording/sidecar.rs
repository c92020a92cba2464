//! The recording format: what a recorded call's JSON sidecar holds. Written by
//! [`super::live`], read by `crate::replay`; plain data, no IO.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::asr::{CompiledGrammar, EngineKind, Hypothesis};
use crate::directory::{Directory, DirectoryVersion, EntryId, StoreId, TransferTarget};
use crate::matching::{Decision, Thresholds};
use crate::speech::endpoint::EndpointSettings;
use crate::speech::understand::UnderstoodUtterance;

/// Version of the sidecar format written by this code.
/// 2 added where each recognition listened ([`Sidecar::listens`]) and the
/// exact samples of each utterance; replay reads format 1 too.
pub const SIDECAR_FORMAT: u32 = 2;

/// What a recording should lead to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "entries", rename_all = "snake_case")]
pub enum Expected {
    /// One of these entries (several for a name two entries share).
    Entry(BTreeSet<EntryId>),
    /// Nothing usable was said (silence, noise, a name outside the directory).
    Reject,
}

/// A decision in a form that can be written to JSON and compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "entries", rename_all = "snake_case")]
pub enum DecisionRecord {
    Transfer(EntryId),
    Confirm(EntryId),
    Disambiguate(Vec<EntryId>),
    NoMatch,
}

impl From<&Decision> for DecisionRecord {
    fn from(decision: &Decision) -> Self {
        match decision {
            Decision::Transfer(id) => DecisionRecord::Transfer(*id),
            Decision::Confirm(id) => DecisionRecord::Confirm(*id),
            Decision::Disambiguate(ids) => DecisionRecord::Disambiguate(ids.clone()),
            // Neither names an entry: for scoring, the request was not routed
            // to one (an out-of-directory request asking for the operator
            // is rightly not transferred to an entry).
            Decision::NoMatch | Decision::Operator | Decision::Help => DecisionRecord::NoMatch,
        }
    }
}

impl DecisionRecord {
    /// The entries this decision leads the caller towards (empty for no match).
    pub fn entries(&self) -> Vec<EntryId> {
        match self {
            DecisionRecord::Transfer(id) | DecisionRecord::Confirm(id) => vec![*id],
            DecisionRecord::Disambiguate(ids) => ids.clone(),
            DecisionRecord::NoMatch => vec![],
        }
    }

    /// Short text for tables: `transfer 3`, `confirm 3`, `menu 1,3`, `no match`.
    pub fn label(&self) -> String {
        let list = |ids: &[EntryId]| {
            ids.iter()
                .map(|i| i.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            DecisionRecord::Transfer(id) => format!("transfer {}", id.0),
            DecisionRecord::Confirm(id) => format!("confirm {}", id.0),
            DecisionRecord::Disambiguate(ids) => format!("menu {}", list(ids)),
            DecisionRecord::NoMatch => "no match".to_owned(),
        }
    }
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
    /// The utterance's audio in the recording: samples `start_sample..end_sample`
    /// (pre-roll and end-of-speech silence included), exactly what the
    /// endpointer cut and the engine was given (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<SampleRange>,
}

/// A span of a recording's audio, in 8 kHz samples from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SampleRange {
    pub start: u64,
    pub end: u64,
    /// Samples of end-of-speech silence at the end (the engine gets only a
    /// tail of it for some engines: `Engine::decoded_end_silence`).
    pub trailing_silence: u64,
}

/// One recognition of a recorded call: where its endpointer started listening
/// and how it ended. The recording holds only what recognitions heard, one
/// after the other; a recognition's audio runs to the next one's start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedListen {
    /// First sample of this recognition in the recording.
    pub from_sample: u64,
    /// The same instant on the call's audio clock (samples of caller audio
    /// received since the media started): endpointer frames fall on multiples
    /// of `speech::stream::FRAME` of it.
    pub call_sample: u64,
    pub end: ListenEnd,
}

/// How a recognition ended: which stage gave nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListenEnd {
    /// Still listening when the call ended or the recording was saved.
    Open,
    /// The endpointer cut an utterance and the engine answered (see the
    /// utterance; an empty N-best means the engine recognised nothing).
    Recognized,
    /// The endpointer cut an utterance but its decoding failed or was refused.
    DecodeFailed { reason: String },
    /// The flow stopped listening before any utterance ended (a key, the
    /// no-input timeout, the end of the call); `why` says what the endpointer
    /// had seen by then.
    Stopped { why: String },
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
            samples: None,
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
    /// Each recognition's start and end, in order (format 2; empty in format 1,
    /// whose audio replay endpoints as one stream).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listens: Vec<RecordedListen>,
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
