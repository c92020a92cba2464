//! Endpointing: where an utterance starts and ends in a stream of telephone audio.
//!
//! Each 16 ms of audio is scored by the `earshot` voice activity network. Speech
//! starts after `speech_start` of consecutive voiced audio (a click does not barge
//! in); it ends after `end_of_speech_silence` without voice (configurable per store:
//! the most-tuned knob in comparable systems), or when `max_utterance` is reached.
//! A burst shorter than `min_speech` (a cough, a door) is discarded and listening
//! goes on.
//!
//! The network alone takes steady wide-band noise (hiss, a ventilation fan) for
//! voice, so a frame also needs energy `min_snr_db` above the line's noise floor,
//! tracked as the minimum frame energy over the last `NOISE_WINDOW_FRAMES` frames
//! ("minimum statistics": speech has gaps, so the minimum follows the noise, not the
//! voice). On a line that switches from digital silence to steady noise, the first
//! 1.5 s of noise can still pass as voice; the resulting utterance is rejected later by
//! the recogniser's confidence logic. The audio just before the start (`pre_roll`) is kept, because the VAD
//! decides late and engines need the onset of the first word.

use std::collections::VecDeque;
use std::time::Duration;

use super::resample::{CHUNK_8K, ResampleError, Upsampler};
use super::TELEPHONE_RATE;

/// Tunables of the endpointer, per store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EndpointSettings {
    /// Voice probability (0..1) above which a 16 ms frame counts as voiced.
    pub voice_threshold: f32,
    /// Consecutive voiced audio needed to declare that speech started.
    #[serde(with = "crate::config::duration_ms")]
    pub speech_start: Duration,
    /// Silence after speech that ends the utterance.
    #[serde(with = "crate::config::duration_ms")]
    pub end_of_speech_silence: Duration,
    /// Longest utterance; longer speech is cut and decoded as it is.
    #[serde(with = "crate::config::duration_ms")]
    pub max_utterance: Duration,
    /// Less voiced audio than this in an utterance: noise, discarded.
    #[serde(with = "crate::config::duration_ms")]
    pub min_speech: Duration,
    /// Audio kept from before the detected start.
    #[serde(with = "crate::config::duration_ms")]
    pub pre_roll: Duration,
    /// How far (dB) above the noise floor a frame must be to count as voiced.
    pub min_snr_db: f32,
    /// Frames quieter than this (dBFS) are never voiced.
    pub min_level_dbfs: f32,
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            voice_threshold: 0.5,
            speech_start: Duration::from_millis(80),
            end_of_speech_silence: Duration::from_millis(700),
            max_utterance: Duration::from_secs(8),
            min_speech: Duration::from_millis(200),
            pre_roll: Duration::from_millis(300),
            min_snr_db: 9.0,
            min_level_dbfs: -55.0,
        }
    }
}

/// A finished utterance, at 8 kHz.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// The audio, from `pre_roll` before the start to the end of the trailing silence.
    pub pcm: Vec<i16>,
    /// Cut at `max_utterance` rather than ended by silence.
    pub truncated: bool,
    /// Position of the end in the stream, in samples since the endpointer was created
    /// or reset: the moment the decision was taken (for latency measurements).
    pub ended_at_sample: u64,
    /// Samples of unvoiced audio at the end of `pcm`: the end-of-speech silence
    /// (less when the utterance was cut at `max_utterance`).
    pub trailing_silence: usize,
}

/// What the endpointer noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEvent {
    /// The caller started speaking (barge-in: stop the prompt).
    SpeechStarted,
    /// A voiced burst too short to be speech was dropped; listening goes on.
    NoiseDiscarded,
    /// The caller stopped speaking: decode this.
    Utterance(Utterance),
}

#[derive(Debug)]
enum Phase {
    /// Waiting for speech; `voiced_run` consecutive voiced frames so far.
    Waiting { voiced_run: u32 },
    /// Inside an utterance.
    Speaking { voiced_frames: u32, silent_run: u32 },
    /// An utterance was handed out; audio is ignored until [`Endpointer::reset`].
    Done,
}

/// Streaming endpointer for one call. Feed it 8 kHz audio with [`Endpointer::push`].
pub struct Endpointer {
    settings: EndpointSettings,
    detector: Box<earshot::Detector>,
    upsampler: Upsampler,
    phase: Phase,
    /// 8 kHz frames not yet scored (the upsampler works on whole chunks).
    unscored: VecDeque<i16>,
    /// Recent frames while waiting (pre-roll), or the utterance while speaking.
    audio: VecDeque<i16>,
    samples_seen: u64,
    /// Energies (dBFS) of the last frames, for the noise floor.
    recent_energy: VecDeque<f32>,
}

/// Window of the noise-floor minimum: 1.5 s of 16 ms frames.
pub const NOISE_WINDOW_FRAMES: usize = 94;

/// Mean energy of a frame in dB relative to full scale (floored at -100).
fn energy_dbfs(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return -100.0;
    }
    let mean_sq = frame.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / frame.len() as f64;
    (10.0 * (mean_sq / (32768.0f64 * 32768.0) + 1e-10).log10()) as f32
}

impl std::fmt::Debug for Endpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpointer").field("phase", &self.phase).field("samples_seen", &self.samples_seen).finish()
    }
}

fn frames(d: Duration) -> u32 {
    let frame_ms = (CHUNK_8K as u64 * 1000) / TELEPHONE_RATE as u64; // 16 ms
    (d.as_millis() as u64).div_ceil(frame_ms).max(1) as u32
}

impl Endpointer {
    /// A new endpointer, waiting for speech.
    pub fn new(settings: EndpointSettings) -> Result<Endpointer, ResampleError> {
        Ok(Endpointer {
            settings,
            detector: earshot::Detector::default_boxed(),
            upsampler: Upsampler::new()?,
            phase: Phase::Waiting { voiced_run: 0 },
            unscored: VecDeque::new(),
            audio: VecDeque::new(),
            samples_seen: 0,
            recent_energy: VecDeque::with_capacity(NOISE_WINDOW_FRAMES + 1),
        })
    }

    /// Starts listening for a new utterance (after a prompt, or after a result).
    /// The VAD keeps its state: it adapts to the line's noise across utterances.
    pub fn reset(&mut self) {
        self.phase = Phase::Waiting { voiced_run: 0 };
        self.audio.clear();
    }

    /// Whether an utterance is in progress.
    pub fn in_speech(&self) -> bool {
        matches!(self.phase, Phase::Speaking { .. })
    }

    /// Samples of the utterance in progress so far (pre-roll included); 0 when
    /// no utterance is in progress. They only grow until the utterance ends, so
    /// a streaming recognizer can take them in order with
    /// [`Endpointer::utterance_audio`].
    pub fn utterance_len(&self) -> usize {
        if self.in_speech() { self.audio.len() } else { 0 }
    }

    /// Samples of unvoiced audio at the end of the utterance in progress (0 when
    /// none is in progress).
    pub fn trailing_silence(&self) -> usize {
        match self.phase {
            Phase::Speaking { silent_run, .. } => (silent_run as usize * CHUNK_8K).min(self.audio.len()),
            _ => 0,
        }
    }

    /// The utterance in progress from sample `from` to `to` (clamped to what exists).
    pub fn utterance_audio(&self, from: usize, to: usize) -> Vec<i16> {
        let to = to.min(self.utterance_len());
        self.audio.range(from.min(to)..to).copied().collect()
    }

    /// Samples pushed so far (the endpointer's clock).
    pub fn samples_seen(&self) -> u64 {
        self.samples_seen
    }

    /// Pushes 8 kHz audio; returns what happened, in order.
    pub fn push(&mut self, pcm_8k: &[i16]) -> Result<Vec<EndpointEvent>, ResampleError> {
        let mut events = Vec::new();
        self.unscored.extend(pcm_8k.iter().copied());
        let mut scores = Vec::new();
        self.upsampler.push(pcm_8k, |chunk16| scores.push(chunk16.to_vec()))?;
        for chunk16 in scores {
            let score = self.detector.predict_i16(&chunk16);
            let frame: Vec<i16> = self.unscored.drain(..CHUNK_8K.min(self.unscored.len())).collect();
            self.samples_seen += frame.len() as u64;
            let voiced = score >= self.settings.voice_threshold && self.loud_enough(&frame);
            if let Some(event) = self.step(voiced, &frame) {
                events.push(event);
            }
            // A second event can follow only after `reset`, so one per frame suffices.
        }
        Ok(events)
    }

    /// Energy test of a frame against the absolute minimum and the noise floor.
    fn loud_enough(&mut self, frame: &[i16]) -> bool {
        let energy = energy_dbfs(frame);
        self.recent_energy.push_back(energy);
        if self.recent_energy.len() > NOISE_WINDOW_FRAMES {
            self.recent_energy.pop_front();
        }
        let floor = self.recent_energy.iter().copied().fold(f32::INFINITY, f32::min);
        energy >= self.settings.min_level_dbfs && energy >= floor + self.settings.min_snr_db
    }

    fn step(&mut self, voiced: bool, frame: &[i16]) -> Option<EndpointEvent> {
        let s = &self.settings;
        match &mut self.phase {
            Phase::Done => None,
            Phase::Waiting { voiced_run } => {
                self.audio.extend(frame.iter().copied());
                let pre_roll = frames(s.pre_roll) as usize * CHUNK_8K;
                while self.audio.len() > pre_roll.max(frames(s.speech_start) as usize * CHUNK_8K) {
                    self.audio.pop_front();
                }
                *voiced_run = if voiced { *voiced_run + 1 } else { 0 };
                if *voiced_run >= frames(s.speech_start) {
                    let voiced_frames = *voiced_run;
                    self.phase = Phase::Speaking { voiced_frames, silent_run: 0 };
                    return Some(EndpointEvent::SpeechStarted);
                }
                None
            }
            Phase::Speaking { voiced_frames, silent_run } => {
                self.audio.extend(frame.iter().copied());
                if voiced {
                    *voiced_frames += 1;
                    *silent_run = 0;
                } else {
                    *silent_run += 1;
                }
                let max_samples = s.max_utterance.as_millis() as usize * TELEPHONE_RATE as usize / 1000;
                let ended = *silent_run >= frames(s.end_of_speech_silence);
                let truncated = !ended && self.audio.len() >= max_samples;
                if !(ended || truncated) {
                    return None;
                }
                if *voiced_frames < frames(s.min_speech) {
                    self.phase = Phase::Waiting { voiced_run: 0 };
                    self.audio.clear();
                    return Some(EndpointEvent::NoiseDiscarded);
                }
                let trailing_silence = (*silent_run as usize * CHUNK_8K).min(self.audio.len());
                self.phase = Phase::Done;
                let pcm: Vec<i16> = self.audio.drain(..).collect();
                Some(EndpointEvent::Utterance(Utterance { pcm, truncated, ended_at_sample: self.samples_seen, trailing_silence }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The endpointer finds real speech in telephone audio, ignores silence, noise
    //! and short bursts, and honours its silence and length settings.
    use super::*;

    const SPEECH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/audio/endpoint/sophie-martin-please.wav");

    fn speech() -> Vec<i16> {
        let mut r = hound::WavReader::open(SPEECH).expect("fixture: run scripts/make-endpoint-fixtures.sh");
        assert_eq!(r.spec().sample_rate, 8000);
        r.samples::<i16>().map(|s| s.unwrap()).collect()
    }

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * 8]
    }

    /// Deterministic white noise (xorshift), at the given amplitude.
    fn noise(ms: usize, amp: f32) -> Vec<i16> {
        let mut x: u32 = 0x9e37_79b9;
        (0..ms * 8)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                ((x as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp) as i16
            })
            .collect()
    }

    fn run(ep: &mut Endpointer, audio: &[i16]) -> Vec<EndpointEvent> {
        // 20 ms pieces, as RTP delivers them.
        audio.chunks(160).flat_map(|c| ep.push(c).unwrap()).collect()
    }

    fn utterances(events: &[EndpointEvent]) -> Vec<&Utterance> {
        events.iter().filter_map(|e| if let EndpointEvent::Utterance(u) = e { Some(u) } else { None }).collect()
    }

    #[test]
    fn speech_between_silences_is_one_utterance() {
        let speech = speech();
        let mut audio = silence(1000);
        audio.extend(&speech);
        audio.extend(silence(1500));
        let mut ep = Endpointer::new(EndpointSettings::default()).unwrap();
        let events = run(&mut ep, &audio);
        assert_eq!(events.first(), Some(&EndpointEvent::SpeechStarted), "{events:?}");
        let u = utterances(&events);
        assert_eq!(u.len(), 1, "{events:?}");
        assert!(!u[0].truncated);
        // It holds the speech (the fixture is trimmed) plus at most pre-roll and trailing silence.
        let extra = u[0].pcm.len() as i64 - speech.len() as i64;
        assert!((-(8 * 300)..=8 * (300 + 700 + 100)).contains(&extra), "utterance {} vs speech {}", u[0].pcm.len(), speech.len());
        // Ends within end-of-speech silence (plus a frame) of the speech's end.
        let speech_end = (8000 + speech.len()) as u64;
        assert!(u[0].ended_at_sample >= speech_end && u[0].ended_at_sample <= speech_end + 8 * 800, "{}", u[0].ended_at_sample);
    }

    #[test]
    fn silence_and_steady_noise_give_nothing() {
        let mut ep = Endpointer::new(EndpointSettings::default()).unwrap();
        assert!(run(&mut ep, &silence(3000)).is_empty());
        for amp in [100.0, 1000.0, 3000.0] {
            // Noise from the start of the line (as on a real call, heard during the greeting).
            let mut ep = Endpointer::new(EndpointSettings::default()).unwrap();
            assert!(run(&mut ep, &noise(4000, amp)).is_empty(), "noise amplitude {amp}");
            assert!(!ep.in_speech());
        }
    }

    #[test]
    fn speech_in_steady_noise_is_found() {
        let speech = speech();
        let mut audio = noise(2000, 300.0);
        let tail = noise(1500, 300.0);
        let mixed: Vec<i16> = speech.iter().zip(noise(speech.len() / 8 + 1, 300.0)).map(|(&s, n)| s.saturating_add(n)).collect();
        audio.extend(mixed);
        audio.extend(tail);
        let mut ep = Endpointer::new(EndpointSettings::default()).unwrap();
        let events = run(&mut ep, &audio);
        assert_eq!(utterances(&events).len(), 1, "{events:?}");
    }

    #[test]
    fn a_longer_end_silence_setting_waits_longer() {
        let mut audio = silence(500);
        audio.extend(speech());
        audio.extend(silence(3000));
        let end_at = |ms| {
            let settings = EndpointSettings { end_of_speech_silence: Duration::from_millis(ms), ..Default::default() };
            let mut ep = Endpointer::new(settings).unwrap();
            utterances(&run(&mut ep, &audio))[0].ended_at_sample
        };
        let short = end_at(400);
        let long = end_at(1200);
        // 800 ms more silence is 6400 samples, within one 16 ms frame each side.
        assert!(long.saturating_sub(short).abs_diff(6400) <= 2 * 128, "short {short} long {long}");
    }

    #[test]
    fn endless_speech_is_cut_at_max_utterance() {
        let speech = speech();
        let audio: Vec<i16> = speech.iter().cycle().take(speech.len() * 6).copied().collect();
        let settings = EndpointSettings { max_utterance: Duration::from_millis(1500), end_of_speech_silence: Duration::from_secs(5), ..Default::default() };
        let mut ep = Endpointer::new(settings).unwrap();
        let u = utterances(&run(&mut ep, &audio)).into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(u.len(), 1);
        assert!(u[0].truncated);
        assert!(u[0].pcm.len() >= 1500 * 8 && u[0].pcm.len() < 1500 * 8 + 128);
    }

    #[test]
    fn a_short_burst_is_discarded_and_listening_goes_on() {
        let speech = speech();
        let mut audio = silence(500);
        audio.extend(&speech[..8 * 150]); // 150 ms of voice: a cough-length burst
        audio.extend(silence(1500));
        audio.extend(&speech);
        audio.extend(silence(1500));
        let settings = EndpointSettings { min_speech: Duration::from_millis(250), ..Default::default() };
        let mut ep = Endpointer::new(settings).unwrap();
        let events = run(&mut ep, &audio);
        let discarded = events.iter().filter(|e| **e == EndpointEvent::NoiseDiscarded).count();
        let started = events.iter().filter(|e| **e == EndpointEvent::SpeechStarted).count();
        // The burst may or may not reach `speech_start`; if it did, it was discarded.
        assert_eq!(started, discarded + 1, "{events:?}");
        assert_eq!(utterances(&events).len(), 1);
    }

    #[test]
    fn nothing_after_an_utterance_until_reset() {
        let mut audio = silence(300);
        audio.extend(speech());
        audio.extend(silence(1000));
        let mut ep = Endpointer::new(EndpointSettings::default()).unwrap();
        assert_eq!(utterances(&run(&mut ep, &audio)).len(), 1);
        assert!(run(&mut ep, &audio).is_empty(), "ignored until reset");
        ep.reset();
        assert_eq!(utterances(&run(&mut ep, &audio)).len(), 1);
    }
}
