//! `attendant`: a speech-driven auto-attendant (voice directory dialer).
//!
//! A caller dials a store's number, hears a greeting, says a name or presses keys,
//! and is transferred (SIP REFER) to the matching extension.
//!
//! Layout, one concern per module:
//! - [`flow`]: the call flow as a sans-IO state machine (no tokio, no sockets, no clock).
//! - [`sip`]: the only module that touches rsipstack: SIP user agent, dialogs, REFER.
//! - [`media`]: SDP offer/answer, RTP, G.711, DTMF (RFC 4733, SIP INFO, in-band), prompts.
//! - [`asr`]: speech recognition engines (Vosk, PocketSphinx) behind one trait.
//! - [`matching`]: recognised text or keypad digits -> directory entries (fst index).
//! - [`directory`]: stores, entries, menus; the only module that touches sqlx.
//! - [`speech`]: audio front end of the speech path: resampling, voice activity, endpointing.
//! - [`recording`]: call recordings for QA (WAV + JSON sidecar), owned by the runtime; [`replay`] reads them.
//! - [`replay`]: QA: recordings replayed offline or as real calls, scored and reported.
//! - [`runtime`]: the IO tasks that drive a call's flow (one task per call) and the server.
//! - [`admin`]: store administration: HTTP API and web console (the only module that touches axum).
//! - [`config`]: configuration file and command-line flags.
//! - [`ops`]: readiness and Prometheus metrics (served by [`admin::ops`]).

pub mod admin;
pub mod asr;
pub mod config;
pub mod directory;
pub mod flow;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod matching;
pub mod media;
pub mod ops;
pub mod recording;
pub mod replay;
pub mod runtime;
pub mod sip;
pub mod speech;
