//! What replay reads of a call recording: the format and files written by
//! [`crate::recording`] (the runtime owns recording; replay only reads it).

pub use crate::recording::{
    CallRecorder, DecisionRecord, Expected, RecordError, RecordedUtterance, RecordingSettings,
    SIDECAR_FORMAT, SavedRecording, Sidecar, grammar_sha256, wav_spec, write_wav_file,
};
