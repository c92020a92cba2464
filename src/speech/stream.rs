//! Streaming an utterance to the recognizer while the caller speaks.
//!
//! Decoding a whole utterance after the endpointer declares its end leaves all of
//! the decoding to do at the moment the caller waits for an answer, and makes the
//! utterances of concurrent calls queue behind each other. [`SpeechStream`] wraps
//! a call's [`Endpointer`] and hands out the utterance's audio from speech onset
//! (pre-roll included) in fixed blocks of [`DECODE_BLOCK`] samples as it arrives,
//! so that at the end of speech only the last block and the engine's finalisation
//! remain.
//!
//! The end-of-speech silence need not be decoded whole: it is only silence, and
//! decoding it cost about 40 % of an utterance's decoding (Vosk). A stream
//! given a tail (the engine's `decoded_end_silence`) holds back unvoiced audio,
//! hands it out if the caller speaks again, and at the end hands out only the
//! tail of it ([`decoded_part`]): enough for the engine to close the last word.
//!
//! Blocks start at the utterance's first sample and are cut every
//! [`DECODE_BLOCK`] samples, whatever the size of the pieces pushed (RTP
//! packetisation varies): a recognizer fed the blocks of a live call sees exactly
//! the `push_audio` calls that [`decode_blocks`] of the finished utterance gives,
//! which is what QA replay feeds (`StoreSpeech::recognize`). Same input, same
//! decision.
//!
//! Sans-IO: no clock, no threads; time is samples pushed.

use std::time::Duration;

use super::endpoint::{EndpointEvent, EndpointSettings, Endpointer, Utterance};
use super::resample::ResampleError;

/// Samples per block handed to a recognizer: 100 ms at 8 kHz. Small enough that
/// little is left to decode at the end of speech, large enough that 50 calls
/// make only 500 decode jobs a second.
pub const DECODE_BLOCK: usize = 800;

/// Samples per endpointer frame (16 ms at 8 kHz): the voice detector scores
/// the audio frame by frame, so where the frames fall decides, to a frame,
/// where speech starts and ends.
pub const FRAME: usize = super::resample::CHUNK_8K;

/// Samples a recognition starting at `call_sample` of the call's audio clock
/// (caller samples received since the media started) leaves out, so that its
/// endpointer frames fall on multiples of [`FRAME`] of that clock, wherever
/// it starts. Offline replay of a call's audio starts at sample 0, on the
/// same grid: the same audio is cut the same way live and offline. What is
/// left out is less than one frame of the start, during the prompt.
pub fn frame_alignment(call_sample: u64) -> usize {
    (FRAME - (call_sample % FRAME as u64) as usize) % FRAME
}


/// The blocks a recognizer is fed for a whole utterance, in order: the same
/// cuts a [`SpeechStream`] makes while the utterance is spoken.
pub fn decode_blocks(pcm: &[i16]) -> impl Iterator<Item = &[i16]> {
    pcm.chunks(DECODE_BLOCK)
}

/// Samples of end-of-speech silence decoded: `tail` of it (8 kHz), or all of
/// it (`None`).
fn tail_samples(tail: Option<Duration>) -> usize {
    tail.map_or(usize::MAX, |tail| (tail.as_millis() as usize).saturating_mul(8))
}

/// The part of an utterance that is decoded: all of it but the end-of-speech
/// silence past `tail` (`None`: all of it).
pub fn decoded_part(utterance: &Utterance, tail: Option<Duration>) -> &[i16] {
    let cut = utterance.trailing_silence.saturating_sub(tail_samples(tail));
    &utterance.pcm[..utterance.pcm.len().saturating_sub(cut)]
}

/// Samples of an utterance in progress that can be decoded now: `len` so far,
/// minus the unvoiced end past `tail` samples (decoded only if the caller
/// speaks again).
fn decodable(len: usize, trailing_silence: usize, tail: usize) -> usize {
    len.saturating_sub(trailing_silence.saturating_sub(tail))
}

/// What the caller's audio means for the recognizer, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Speech started: start a recognizer (and stop the prompt: barge-in).
    SpeechStarted,
    /// The next block of the utterance in progress: feed it to the recognizer.
    Audio(Vec<i16>),
    /// The speech was a short burst: drop the recognizer, listening goes on.
    NoiseDiscarded,
    /// The utterance ended (every block of it has been handed out before this
    /// event): finish the recognizer. Carries the whole utterance for logs and
    /// call recordings.
    Ended(Utterance),
}

/// A call's endpointer, with the utterance in progress handed out in blocks.
#[derive(Debug)]
pub struct SpeechStream {
    endpointer: Endpointer,
    /// Samples of the utterance in progress already handed out (a multiple of
    /// [`DECODE_BLOCK`]).
    fed: usize,
    /// End-of-speech silence decoded (`None`: all of it).
    tail: Option<Duration>,
}

impl SpeechStream {
    /// A stream waiting for speech, handing out `tail` of the end-of-speech
    /// silence (`None`: all of it; see `Engine::decoded_end_silence`).
    pub fn new(settings: EndpointSettings, tail: Option<Duration>) -> Result<SpeechStream, ResampleError> {
        Ok(SpeechStream { endpointer: Endpointer::new(settings)?, fed: 0, tail })
    }

    /// Pushes 8 kHz audio (any length); returns what happened, in order.
    pub fn push(&mut self, pcm_8k: &[i16]) -> Result<Vec<StreamEvent>, ResampleError> {
        let mut out = Vec::new();
        for event in self.endpointer.push(pcm_8k)? {
            match event {
                EndpointEvent::SpeechStarted => {
                    self.fed = 0;
                    out.push(StreamEvent::SpeechStarted);
                }
                EndpointEvent::NoiseDiscarded => {
                    self.fed = 0;
                    out.push(StreamEvent::NoiseDiscarded);
                }
                EndpointEvent::Utterance(utterance) => {
                    // The rest of its decoded part, cut where `decode_blocks` cuts it.
                    let decoded = decoded_part(&utterance, self.tail);
                    let rest = &decoded[self.fed.min(decoded.len())..];
                    out.extend(decode_blocks(rest).map(|block| StreamEvent::Audio(block.to_vec())));
                    self.fed = 0;
                    out.push(StreamEvent::Ended(utterance));
                }
            }
        }
        // Whole blocks of the utterance still in progress. Its audio only grows
        // until it ends, and what is decodable never shrinks (silence grows
        // with the audio; voice makes it all decodable), so blocks handed out
        // stay valid.
        let tail = tail_samples(self.tail);
        while decodable(self.endpointer.utterance_len(), self.endpointer.trailing_silence(), tail) >= self.fed + DECODE_BLOCK {
            out.push(StreamEvent::Audio(self.endpointer.utterance_audio(self.fed, self.fed + DECODE_BLOCK)));
            self.fed += DECODE_BLOCK;
        }
        Ok(out)
    }

    /// Listens for a new utterance (after a result); see [`Endpointer::reset`].
    pub fn reset(&mut self) {
        self.endpointer.reset();
        self.fed = 0;
    }

    /// Whether an utterance is in progress.
    pub fn in_speech(&self) -> bool {
        self.endpointer.in_speech()
    }
}

#[cfg(test)]
mod tests {
    //! The blocks handed out while an utterance is spoken are exactly the blocks
    //! of the finished utterance, whatever the push sizes; a discarded burst
    //! hands out nothing that reaches an `Ended`.
    use super::*;

    const SPEECH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/audio/endpoint/sophie-martin-please.wav");

    fn speech() -> Vec<i16> {
        hound::WavReader::open(SPEECH).expect("fixture").samples::<i16>().map(|s| s.expect("sample")).collect()
    }

    fn call_audio() -> Vec<i16> {
        let mut audio = vec![0i16; 8000];
        audio.extend(speech());
        audio.extend(vec![0i16; 12_000]);
        audio
    }

    /// 200 ms of the end-of-speech silence decoded (Vosk's).
    const TAIL: Option<Duration> = Some(Duration::from_millis(200));

    /// Runs `audio` through a stream in pieces of `piece` samples.
    fn run(audio: &[i16], piece: usize) -> Vec<StreamEvent> {
        run_with(audio, piece, TAIL)
    }

    fn run_with(audio: &[i16], piece: usize, tail: Option<Duration>) -> Vec<StreamEvent> {
        let mut stream = SpeechStream::new(EndpointSettings::default(), tail).expect("stream");
        audio.chunks(piece).flat_map(|p| stream.push(p).expect("push")).collect()
    }

    #[test]
    fn a_recognition_starting_anywhere_is_cut_on_the_call_frame_grid() {
        let audio = call_audio();
        let reference = run(&audio, 160);
        // Listening starts at any packet of the call: aligned, the frames fall
        // where they fall for a recognition started at sample 0.
        for start in [0usize, 160, 320, 480, 640, 2000, 4000] {
            let skip = frame_alignment(start as u64);
            assert_eq!((start + skip) % FRAME, 0, "{start}");
            assert!(skip < FRAME);
            let from = start + skip;
            let events = run(&audio[from..], 160);
            let ended = |events: &[StreamEvent]| -> Vec<(usize, Vec<i16>)> {
                events.iter().filter_map(|e| if let StreamEvent::Ended(u) = e { Some((u.ended_at_sample as usize, u.pcm.clone())) } else { None }).collect()
            };
            let want: Vec<(usize, Vec<i16>)> = ended(&reference).into_iter().map(|(end, pcm)| (end - from, pcm)).collect();
            assert_eq!(ended(&events), want, "listening from sample {start}");
        }
    }

    #[test]
    fn blocks_are_the_utterance_cut_the_same_way_whatever_the_pieces() {
        let audio = call_audio();
        let reference = run(&audio, 160);
        for piece in [160, 240, 37, 1000, 8000] {
            let events = run(&audio, piece);
            let starts = events.iter().filter(|e| **e == StreamEvent::SpeechStarted).count();
            let ended: Vec<&Utterance> = events.iter().filter_map(|e| if let StreamEvent::Ended(u) = e { Some(u) } else { None }).collect();
            assert_eq!((starts, ended.len()), (1, 1), "piece {piece}: {events:?}");
            let utterance = ended[0];
            // Blocks come between the start and the end, and are decode_blocks of the utterance.
            let start = events.iter().position(|e| *e == StreamEvent::SpeechStarted).expect("start");
            let end = events.iter().position(|e| matches!(e, StreamEvent::Ended(_))).expect("end");
            let blocks: Vec<&Vec<i16>> = events[start..end].iter().filter_map(|e| if let StreamEvent::Audio(b) = e { Some(b) } else { None }).collect();
            let expected: Vec<&[i16]> = decode_blocks(decoded_part(utterance, TAIL)).collect();
            assert_eq!(blocks.len(), expected.len(), "piece {piece}");
            for (got, want) in blocks.iter().zip(&expected) {
                assert_eq!(got.as_slice(), *want, "piece {piece}");
            }
            assert!(!events[..start].iter().any(|e| matches!(e, StreamEvent::Audio(_))), "no audio before speech");
            // Same utterance whatever the pieces (endpointing works on 16 ms frames).
            assert_eq!(events, reference, "piece {piece}");
        }
    }

    #[test]
    fn most_of_the_utterance_is_handed_out_before_it_ends() {
        let events = run(&call_audio(), 160);
        let end = events.iter().position(|e| matches!(e, StreamEvent::Ended(_))).expect("end");
        // The events of the push that ended the utterance: at most the last
        // partial block and one whole block are left for the end.
        let Some(StreamEvent::Ended(utterance)) = events.get(end) else { unreachable!() };
        let streamed_before_end: usize = events[..end.saturating_sub(2)].iter().map(|e| if let StreamEvent::Audio(b) = e { b.len() } else { 0 }).sum();
        let decoded = decoded_part(utterance, TAIL).len();
        assert!(decoded - streamed_before_end <= 2 * DECODE_BLOCK, "{} of {decoded} left", decoded - streamed_before_end);
    }

    #[test]
    fn the_end_of_speech_silence_is_decoded_only_up_to_the_tail() {
        let events = run(&call_audio(), 160);
        let Some(StreamEvent::Ended(utterance)) = events.last() else { panic!("{events:?}") };
        // Default settings: 700 ms of end-of-speech silence, 200 ms of it decoded.
        let silence = utterance.trailing_silence;
        assert!((5600..5600 + 128).contains(&silence), "trailing silence {silence}");
        let decoded = decoded_part(utterance, TAIL);
        assert_eq!(decoded.len(), utterance.pcm.len() - (silence - 1600));
        assert_eq!(decoded, &utterance.pcm[..decoded.len()]);
        // Without a tail, everything is decoded, handed out the same way.
        let all = run_with(&call_audio(), 160, None);
        let Some(StreamEvent::Ended(whole)) = all.last() else { panic!("{all:?}") };
        assert_eq!(decoded_part(whole, None), whole.pcm.as_slice());
        let blocks: Vec<i16> = all.iter().filter_map(|e| if let StreamEvent::Audio(b) = e { Some(b.clone()) } else { None }).flatten().collect();
        assert_eq!(blocks, whole.pcm);
        // A short pause inside speech is decoded: only the end is cut.
        let cases = [(10_000, 0, 10_000), (10_000, 1000, 10_000), (10_000, 5600, 6000), (1000, 5600, 0)];
        for (len, trailing, expected) in cases {
            assert_eq!(decodable(len, trailing, 1600), expected, "{len} {trailing}");
        }
        assert_eq!(decodable(10_000, 5600, tail_samples(None)), 10_000);
    }

    #[test]
    fn silence_hands_out_nothing_and_reset_listens_again() {
        assert!(run(&vec![0i16; 24_000], 160).is_empty());
        let mut stream = SpeechStream::new(EndpointSettings::default(), TAIL).expect("stream");
        let audio = call_audio();
        let first: Vec<StreamEvent> = audio.chunks(160).flat_map(|p| stream.push(p).expect("push")).collect();
        assert!(first.iter().any(|e| matches!(e, StreamEvent::Ended(_))));
        assert!(audio.chunks(160).flat_map(|p| stream.push(p).expect("push")).next().is_none(), "nothing until reset");
        stream.reset();
        let again: Vec<StreamEvent> = audio.chunks(160).flat_map(|p| stream.push(p).expect("push")).collect();
        assert_eq!(again.iter().filter(|e| matches!(e, StreamEvent::Ended(_))).count(), 1);
    }

    #[test]
    fn a_discarded_burst_is_followed_by_a_fresh_utterance() {
        let speech = speech();
        let mut audio = vec![0i16; 4000];
        audio.extend(&speech[..8 * 150]); // a cough-length burst
        audio.extend(vec![0i16; 12_000]);
        audio.extend(&speech);
        audio.extend(vec![0i16; 12_000]);
        let settings = EndpointSettings { min_speech: std::time::Duration::from_millis(250), ..Default::default() };
        let mut stream = SpeechStream::new(settings, TAIL).expect("stream");
        let events: Vec<StreamEvent> = audio.chunks(160).flat_map(|p| stream.push(p).expect("push")).collect();
        // After the last SpeechStarted, the blocks are exactly the utterance's.
        let start = events.iter().rposition(|e| *e == StreamEvent::SpeechStarted).expect("start");
        let Some(StreamEvent::Ended(utterance)) = events.last() else { panic!("{events:?}") };
        let blocks: Vec<i16> = events[start..].iter().filter_map(|e| if let StreamEvent::Audio(b) = e { Some(b.clone()) } else { None }).flatten().collect();
        assert_eq!(blocks, decoded_part(utterance, TAIL));
        let discarded = events.iter().filter(|e| **e == StreamEvent::NoiseDiscarded).count();
        let started = events.iter().filter(|e| **e == StreamEvent::SpeechStarted).count();
        assert_eq!(started, discarded + 1, "{events:?}");
    }
}
