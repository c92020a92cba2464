//! Call recording for QA, owned by the runtime: a live call's caller audio as
//! 8 kHz WAV and a JSON sidecar with everything needed to replay it (directory
//! snapshot, engine, thresholds, endpoint settings, where each recognition
//! listened and where each utterance was cut) and to judge it (N-best,
//! decisions, keys, where the call went).
//!
//! - [`sidecar`]: the format (plain data), read back by `crate::replay`.
//! - [`store`]: the files on disk, per store, with retention.
//! - [`live`]: [`LiveRecording`], fed by the runtime's call task.
//!
//! May import `flow` (its settings), `speech`, `asr`, `matching`, `directory`.
//! Must not import `replay` (the QA tool reads what this writes, not the
//! reverse), `runtime`, `sip`, `media` or `admin`.

pub mod live;
pub mod sidecar;
pub mod store;

pub use crate::flow::RecordingSettings;
pub use live::{LiveRecording, model_name};
pub use sidecar::{
    DecisionRecord, Expected, RecordedUtterance, SIDECAR_FORMAT, Sidecar, grammar_sha256,
};
pub use store::{CallRecorder, RecordError, SavedRecording, wav_spec, write_wav_file};
