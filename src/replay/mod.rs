//! QA: record calls, replay recordings through the live speech path, and score
//! recognition.
//!
//! - [`record`]: the call recordings [`crate::recording`] writes (8 kHz WAV and
//!   a JSON sidecar), as replay reads them.
//! - [`input`]: what replay reads (a folder of recordings, or a manifest).
//! - [`run`]: each recording through [`crate::speech::understand::understand_recording`],
//!   the very code live calls run, under a configuration (engine, thresholds,
//!   endpoint settings, directory version); two configurations compared.
//! - [`score`]: accuracy, false accepts and rejects, confirmation rate, confused
//!   pairs, latency percentiles.
//! - [`report`]: one self-contained HTML page with inline SVG charts.
//! - [`sip`]: the same recordings as real calls through baresip, several at once.
//! - [`fidelity`]: live (SIP) against offline decisions, differences explained.
//! - [`calibrate`]: one replay kept, decided again under many thresholds;
//!   the thresholds chosen per engine, and the accept-threshold curves.
//!
//! May import everything below the runtime (`speech`, `asr`, `matching`,
//! `directory`, `recording`, `flow`). Must not be imported by `flow`,
//! `speech`, `recording` or `runtime`: live calls never depend on the QA tool.

pub mod calibrate;
pub mod cli;
pub mod fidelity;
pub mod input;
pub mod record;
pub mod report;
pub mod run;
pub mod score;
pub mod sip;
