//! The audio front end of the speech path, between RTP and an ASR engine.
//!
//! Telephone audio arrives as 8 kHz PCM (decoded G.711). [`endpoint::Endpointer`]
//! finds where the caller starts and stops speaking (voice activity detection with
//! the `earshot` network, which wants 16 kHz, hence [`resample`]) and hands out
//! whole utterances: FIELD-NOTES found that engines decode whole utterances far
//! better than they segment a stream themselves.
//!
//! Sans-IO like [`crate::flow`]: time is counted in samples pushed, never read from a clock.

pub mod endpoint;
pub mod registry;
pub mod understand;
pub mod resample;

/// Sample rate of telephone audio (G.711).
pub const TELEPHONE_RATE: u32 = 8_000;
