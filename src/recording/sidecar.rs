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
pub const SIDECAR_FORMAT: u32 = 1;

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
            Decision::NoMatch => DecisionRecord::NoMatch,
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
