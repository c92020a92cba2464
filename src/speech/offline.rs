//! The live call's audio path, run offline, so that replay gives the engine
//! what a call gives it: the same samples, cut the same way.
//!
//! What a live call does to a caller's voice, and how replay matches it:
//! - **G.711**: the voice reaches the endpointer and the engine µ-law encoded
//!   and decoded. [`as_heard`] does the same round trip (idempotent for audio
//!   that went through it already, such as call recordings).
//! - **The start of listening**: a call listens from the greeting on, over a
//!   line that is silent until the caller speaks; the endpointer's noise floor
//!   and its voice detector's context come from that silence. [`as_heard`] puts
//!   [`CALL_LEAD`] of silence before the voice, and `attendant replay-sip`
//!   places its calls with the same lead.
//! - **Frames**: the endpointer scores 16 ms frames; where they fall moves its
//!   cuts by up to a frame. Live recognitions align their frames on the call's
//!   audio clock (`stream::frame_alignment`), replay starts at sample 0 of the
//!   call: the same grid. [`CALL_LEAD`] is a whole number of frames.
//! - **Each recognition's own endpointer**: a call starts a fresh endpointer
//!   for each question, at a moment offline replay cannot know (decode time,
//!   the flow). A call recording says where each started (its listens);
//!   [`understand_listens`] starts a fresh endpointer at each, and where the
//!   recording holds the exact cut the live endpointer made and the
//!   endpointer settings are those of the call, decodes that cut.
//! - **Engine state**: each utterance gets a fresh recognizer; PocketSphinx
//!   decoders start a stream per utterance (nothing carried between calls).
//!
//! Sans-IO: samples in, utterances out.

use std::time::Duration;

use crate::media::g711::Codec;

use super::endpoint::{EndpointEvent, EndpointSettings, Endpointer, Utterance};
use super::stream::{FRAME, decoded_part};
use super::understand::{StoreSpeech, UnderstandError};
use crate::asr::Recognition;
use crate::matching::Decision;

/// Silence before the caller's voice in a call made of a recording: the
/// greeting, during which the line is quiet (1.536 s: 96 endpointer frames).
pub const CALL_LEAD: Duration = Duration::from_millis(1536);

/// [`CALL_LEAD`] in 8 kHz samples.
pub const CALL_LEAD_SAMPLES: usize = 12_288;

const _: () = assert!(
    CALL_LEAD_SAMPLES % FRAME == 0 && CALL_LEAD_SAMPLES == CALL_LEAD.as_millis() as usize * 8
);

/// The codec of replayed calls (`attendant replay-sip` offers only it).
pub const CALL_CODEC: Codec = Codec::Pcmu;

/// What a call placed with `voice` (8 kHz) as the caller's microphone hears:
/// [`CALL_LEAD`] of silence, then the voice, through [`CALL_CODEC`].
pub fn as_heard(voice: &[i16]) -> Vec<i16> {
    let mut line = vec![0i16; CALL_LEAD_SAMPLES];
    line.extend_from_slice(voice);
    CALL_CODEC.decode(&CALL_CODEC.encode(&line))
}

/// One utterance of a call recording, as replay understood it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeardUtterance {
    /// Which recognition (listen) it belongs to.
    pub listen: usize,
    /// Its audio in the recording: samples `start..end`.
    pub start: u64,
    pub end: u64,
    pub trailing_silence: u64,
    pub truncated: bool,
    /// Where the cut came from.
    pub cut: Cut,
    pub recognition: Recognition,
    pub decision: Decision,
}

/// Where an utterance's boundaries came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// Replay's endpointer found the cut the live one made.
    Same,
    /// Replay's endpointer cut elsewhere (other settings, or a recording of an
    /// older format); its cut was decoded.
    Endpointer,
    /// Replay's endpointer cut elsewhere under the call's own settings; the
    /// live cut, recorded, was decoded.
    Recorded,
}

/// One recognition of a call recording: where it starts in the audio, and the
/// cut the live endpointer made in it, if it made one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    pub from: u64,
    /// (start, end, trailing silence) of the live utterance, in the recording.
    pub live_cut: Option<(u64, u64, u64)>,
}

/// Replays a call recording recognition by recognition: each listen gets a
/// fresh endpointer over its own audio (up to the next listen), as the call
/// did; the first utterance it cuts is decoded. `live_settings` says whether
/// `settings` are the call's own (then a live cut that replay does not find
/// is decoded as recorded, and said so).
pub fn understand_listens(
    speech: &StoreSpeech,
    settings: &EndpointSettings,
    live_settings: bool,
    pcm: &[i16],
    listens: &[Listen],
) -> Result<Vec<HeardUtterance>, UnderstandError> {
    let mut out = Vec::new();
    for (index, listen) in listens.iter().enumerate() {
        let from = (listen.from as usize).min(pcm.len());
        let to = listens.get(index + 1).map_or(pcm.len(), |next| {
            (next.from as usize).clamp(from, pcm.len())
        });
        let found = first_utterance(settings, &pcm[from..to])?;
        let found_cut = found.as_ref().map(|u| {
            let end = from as u64 + u.ended_at_sample;
            (end - u.pcm.len() as u64, end, u.trailing_silence as u64)
        });
        let (utterance, cut) = match (found, listen.live_cut) {
            (found, Some(live)) if live_settings && found_cut != Some(live) => {
                let (start, end, trailing) = live;
                let pcm =
                    pcm[(start as usize).min(pcm.len())..(end as usize).min(pcm.len())].to_vec();
                let truncated = found.is_some_and(|u| u.truncated);
                let utterance = Utterance {
                    pcm,
                    truncated,
                    ended_at_sample: end - from as u64,
                    trailing_silence: trailing as usize,
                };
                (utterance, Cut::Recorded)
            }
            // The call heard no utterance in this recognition: neither does its replay.
            (_, None) if live_settings => continue,
            (Some(found), live) => {
                let cut = if live.is_none() || found_cut != live {
                    Cut::Endpointer
                } else {
                    Cut::Same
                };
                (found, cut)
            }
            (None, _) => continue,
        };
        let recognition =
            speech.recognize(decoded_part(&utterance, speech.decoded_end_silence()))?;
        let decision = speech.decide(&recognition);
        let end = from as u64 + utterance.ended_at_sample;
        out.push(HeardUtterance {
            listen: index,
            start: end - utterance.pcm.len() as u64,
            end,
            trailing_silence: utterance.trailing_silence as u64,
            truncated: utterance.truncated,
            cut,
            recognition,
            decision,
        });
    }
    Ok(out)
}

/// Replays the audio of a call made of a recording ([`as_heard`]): one
/// endpointer over the whole call, listening again after each utterance; each
/// utterance found is decoded. Positions are on the call's audio clock (the
/// lead included). Speech that never ended is closed with silence.
pub fn understand_call_audio(
    speech: &StoreSpeech,
    settings: &EndpointSettings,
    heard: &[i16],
) -> Result<Vec<HeardUtterance>, UnderstandError> {
    let mut endpointer = Endpointer::new(settings.clone())?;
    let mut out = Vec::new();
    let close = vec![0i16; (settings.end_of_speech_silence.as_millis() as usize + 100) * 8];
    for piece in heard.chunks(160).chain(close.chunks(160)) {
        for event in endpointer.push(piece)? {
            if let EndpointEvent::Utterance(u) = event {
                let recognition =
                    speech.recognize(decoded_part(&u, speech.decoded_end_silence()))?;
                let decision = speech.decide(&recognition);
                out.push(HeardUtterance {
                    listen: out.len(),
                    start: u.ended_at_sample - u.pcm.len() as u64,
                    end: u.ended_at_sample,
                    trailing_silence: u.trailing_silence as u64,
                    truncated: u.truncated,
                    cut: Cut::Endpointer,
                    recognition,
                    decision,
                });
                endpointer.reset();
            }
        }
    }
    Ok(out)
}

/// The first utterance a fresh endpointer cuts in `pcm`, pushed in 20 ms
/// pieces as RTP delivers it (the cut does not depend on the pieces).
fn first_utterance(
    settings: &EndpointSettings,
    pcm: &[i16],
) -> Result<Option<Utterance>, UnderstandError> {
    let mut endpointer = Endpointer::new(settings.clone())?;
    for piece in pcm.chunks(160) {
        for event in endpointer.push(piece)? {
            if let EndpointEvent::Utterance(u) = event {
                return Ok(Some(u));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    //! The call's line as replay models it.
    use super::*;

    #[test]
    fn a_call_hears_the_lead_then_the_voice_through_the_codec() {
        let voice: Vec<i16> = (0..800)
            .map(|i| ((i * 97) % 20_000) as i16 - 10_000)
            .collect();
        let heard = as_heard(&voice);
        assert_eq!(heard.len(), CALL_LEAD_SAMPLES + voice.len());
        assert!(heard[..CALL_LEAD_SAMPLES].iter().all(|&s| s == 0));
        assert_eq!(
            &heard[CALL_LEAD_SAMPLES..],
            CALL_CODEC.decode(&CALL_CODEC.encode(&voice)).as_slice()
        );
        assert_ne!(
            &heard[CALL_LEAD_SAMPLES..],
            voice.as_slice(),
            "the codec changes the samples"
        );
        // Heard twice is heard once: a recording of a call replays as it was.
        assert_eq!(CALL_CODEC.decode(&CALL_CODEC.encode(&heard)), heard);
    }
}
