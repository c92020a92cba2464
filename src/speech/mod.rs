//! The audio front end of the speech path, between RTP and an ASR engine.
//!
//! Telephone audio arrives as 8 kHz PCM (decoded G.711). [`endpoint::Endpointer`]
//! finds where the caller starts and stops speaking (voice activity detection with
//! the `earshot` network, which wants 16 kHz, hence [`resample`]): the segmenting
//! is ours, because FIELD-NOTES found that engines' own segmentation loses short
//! names. [`stream`] hands each utterance to the recognizer block by block while
//! the caller speaks, and [`decode`] runs every call's recognizer on a bounded
//! set of worker threads, so that at the end of speech only the engine's
//! finalisation is left. [`offline`] runs the same path over recordings, as
//! a call runs it (QA replay).
//!
//! Sans-IO like [`crate::flow`] (all but [`decode`] and [`registry`]): time is
//! counted in samples pushed, never read from a clock.
//!
//! Uses `asr`, `matching`, `directory`, `flow` (traits, settings) and `media`
//! (prompt audio); must not import rsipstack, sqlx, axum, `sip`, `runtime`,
//! `admin` or `replay` (replay uses speech, not the reverse).

pub mod decode;
pub mod endpoint;
pub mod offline;
pub mod registry;
pub mod understand;
pub mod resample;
pub mod stream;

/// Sample rate of telephone audio (G.711).
pub const TELEPHONE_RATE: u32 = 8_000;
