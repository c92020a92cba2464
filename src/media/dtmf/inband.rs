//! In-band DTMF detection over 8 kHz PCM with the Goertzel algorithm.
//!
//! Used only when the caller did not negotiate RFC 4733. The design follows the classic
//! telephony detectors (e.g. SpanDSP): 102-sample blocks (12.75 ms, whose rectangular window
//! puts the neighbouring DTMF frequencies near its first null), and per block:
//! - both the strongest row and column tone above an absolute level (about -33 dBm0);
//! - twist within limits (row may exceed column by 8 dB, column exceed row by 4 dB);
//! - each winner at least 8 dB above the other tones of its group;
//! - the two tones carrying most of the block's energy: speech and noise are broadband,
//!   a key press is almost pure, so this is what rejects talk-off.
//!
//! A digit is reported once it holds for 3 consecutive blocks (38 ms; any tone of 51 ms or
//! more is caught, ITU-T Q.24 asks for 40 ms), and the same digit is reported again only
//! after 3 blocks without it.

use std::f32::consts::PI;

use crate::media::g711::CLOCK_RATE;

/// Samples per analysis block.
const BLOCK: usize = 102;
/// Consecutive agreeing blocks before a digit is reported.
const MIN_BLOCKS: u32 = 3;
/// Blocks without the reported digit before the same digit may be reported again.
const GAP_BLOCKS: u32 = 3;
/// Minimum power of each tone, in linear-PCM units (a 500-amplitude sine, about -33 dBm0).
const MIN_TONE_POWER: f32 = 500.0 * 500.0 / 2.0;
/// Row power may exceed column power by 8 dB (normal twist).
const MAX_NORMAL_TWIST: f32 = 6.31;
/// Column power may exceed row power by 4 dB (reverse twist).
const MAX_REVERSE_TWIST: f32 = 2.51;
/// The winning tone of each group must beat the others of its group by 8 dB.
const RELATIVE_PEAK: f32 = 6.31;
/// Share of the block's power that the two tones must carry.
const MIN_TONE_SHARE: f32 = 0.7;

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Streaming in-band DTMF detector; feed it decoded 8 kHz PCM of any frame length.
#[derive(Debug, Clone)]
pub struct InbandDetector {
    row_coeffs: [f32; 4],
    col_coeffs: [f32; 4],
    block: Vec<f32>,
    candidate: Option<char>,
    candidate_blocks: u32,
    reported: Option<char>,
    blocks_without_reported: u32,
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl InbandDetector {
    /// A detector in its initial (silent) state.
    pub fn new() -> Self {
        let coeff = |f: f32| 2.0 * (2.0 * PI * f / CLOCK_RATE as f32).cos();
        InbandDetector {
            row_coeffs: ROWS.map(coeff),
            col_coeffs: COLS.map(coeff),
            block: Vec::with_capacity(BLOCK),
            candidate: None,
            candidate_blocks: 0,
            reported: None,
            blocks_without_reported: 0,
        }
    }

    /// Feeds PCM samples; returns the digits whose key press was recognised in them.
    pub fn push(&mut self, pcm: &[i16]) -> Vec<char> {
        let mut digits = Vec::new();
        for &sample in pcm {
            self.block.push(f32::from(sample));
            if self.block.len() == BLOCK {
                let seen = self.classify_block();
                self.block.clear();
                if let Some(digit) = self.track(seen) {
                    digits.push(digit);
                }
            }
        }
        digits
    }

    /// The digit one block looks like, if it passes every check.
    fn classify_block(&self) -> Option<char> {
        let rows = self.row_coeffs.map(|c| goertzel_power(&self.block, c));
        let cols = self.col_coeffs.map(|c| goertzel_power(&self.block, c));
        let (r, row) = strongest(&rows);
        let (c, col) = strongest(&cols);
        if row < MIN_TONE_POWER || col < MIN_TONE_POWER {
            return None;
        }
        if row > col * MAX_NORMAL_TWIST || col > row * MAX_REVERSE_TWIST {
            return None;
        }
        let dominant = |powers: &[f32; 4], best: usize| {
            powers
                .iter()
                .enumerate()
                .all(|(i, &p)| i == best || p * RELATIVE_PEAK < powers[best])
        };
        if !dominant(&rows, r) || !dominant(&cols, c) {
            return None;
        }
        let block_power = self.block.iter().map(|x| x * x).sum::<f32>() / BLOCK as f32;
        if row + col < MIN_TONE_SHARE * block_power {
            return None;
        }
        Some(KEYPAD[r][c])
    }

    /// Debounces per-block results into key presses.
    fn track(&mut self, seen: Option<char>) -> Option<char> {
        if seen == self.candidate {
            self.candidate_blocks = self.candidate_blocks.saturating_add(1);
        } else {
            self.candidate = seen;
            self.candidate_blocks = 1;
        }
        if self.reported.is_some() {
            if seen == self.reported {
                self.blocks_without_reported = 0;
            } else {
                self.blocks_without_reported += 1;
                if self.blocks_without_reported >= GAP_BLOCKS {
                    self.reported = None;
                }
            }
        }
        match seen {
            Some(digit) if self.candidate_blocks == MIN_BLOCKS && self.reported != Some(digit) => {
                self.reported = Some(digit);
                self.blocks_without_reported = 0;
                Some(digit)
            }
            _ => None,
        }
    }
}

/// Power of the block at the frequency whose Goertzel coefficient is `coeff`, scaled so
/// that a sine of amplitude A at that frequency gives A²/2 (its mean power).
fn goertzel_power(block: &[f32], coeff: f32) -> f32 {
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in block {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let magnitude_sq = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = block.len() as f32;
    2.0 * magnitude_sq / (n * n)
}

fn strongest(powers: &[f32; 4]) -> (usize, f32) {
    powers.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

#[cfg(test)]
mod tests {
    //! Proves the detector finds all 16 keys in noise and through G.711, respects minimum
    //! duration and repeat gaps, and stays silent on noise and on real (synthesised) speech.
    use super::*;
    use crate::media::g711::Codec;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    const KEYS: &str = "123A456B789C*0#D";

    fn freqs(digit: char) -> (f32, f32) {
        for (r, row) in KEYPAD.iter().enumerate() {
            if let Some(c) = row.iter().position(|&d| d == digit) {
                return (ROWS[r], COLS[c]);
            }
        }
        panic!("not a key: {digit}");
    }

    /// `(digit or None for silence, milliseconds)` segments rendered as float PCM.
    fn render(segments: &[(Option<char>, u32)], amplitude: f32) -> Vec<f32> {
        let mut out = vec![];
        for &(digit, ms) in segments {
            let n = (ms * CLOCK_RATE / 1000) as usize;
            match digit {
                None => out.extend(std::iter::repeat_n(0.0, n)),
                Some(d) => {
                    let (fr, fc) = freqs(d);
                    let start = out.len();
                    out.extend((0..n).map(|i| {
                        let t = (start + i) as f32 / CLOCK_RATE as f32;
                        amplitude * ((2.0 * PI * fr * t).sin() + (2.0 * PI * fc * t).sin())
                    }));
                }
            }
        }
        out
    }

    /// Adds white Gaussian noise so that tone power / noise power = `snr_db`, then passes the
    /// signal through PCMU as a phone call would.
    fn noisy_call(signal: &[f32], tone_power: f32, snr_db: f32, seed: u64) -> Vec<i16> {
        let mut rng = StdRng::seed_from_u64(seed);
        let sigma = (tone_power / 10f32.powf(snr_db / 10.0)).sqrt();
        let pcm: Vec<i16> = signal
            .iter()
            .map(|&x| {
                // Box-Muller transform of two uniforms.
                let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
                let n = (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos();
                (x + sigma * n).clamp(-32768.0, 32767.0) as i16
            })
            .collect();
        Codec::Pcmu.decode(&Codec::Pcmu.encode(&pcm))
    }

    fn detect_in_frames(pcm: &[i16]) -> String {
        let mut detector = InbandDetector::new();
        pcm.chunks(160)
            .flat_map(|frame| detector.push(frame))
            .collect()
    }

    #[test]
    fn finds_all_sixteen_keys_in_noise() {
        let mut segments = vec![(None, 100)];
        for d in KEYS.chars() {
            segments.push((Some(d), 70));
            segments.push((None, 70));
        }
        let amplitude = 5000.0; // about -16 dBm0 per tone, a typical phone level
        let signal = render(&segments, amplitude);
        let tone_power = amplitude * amplitude; // two tones of A²/2 each
        for (snr_db, seed) in [(30.0, 1), (20.0, 2), (15.0, 3), (12.0, 4)] {
            assert_eq!(
                detect_in_frames(&noisy_call(&signal, tone_power, snr_db, seed)),
                KEYS,
                "SNR {snr_db} dB"
            );
        }
    }

    #[test]
    fn quiet_keys_and_twist_within_limits_are_found() {
        // Row 6 dB louder than column (normal twist within 8 dB) at -27 dBm0-ish level.
        let n = 640;
        let pcm: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f32 / 8000.0;
                (1500.0 * (2.0 * PI * 852.0 * t).sin() + 750.0 * (2.0 * PI * 1477.0 * t).sin())
                    as i16
            })
            .collect();
        assert_eq!(detect_in_frames(&pcm), "9");
    }

    #[test]
    fn duration_and_repeat_rules() {
        type Segments = &'static [(Option<char>, u32)];
        let cases: &[(&str, Segments, &str)] = &[
            (
                "25 ms blip is too short",
                &[(Some('5'), 25), (None, 100)],
                "",
            ),
            (
                "55 ms tone is enough",
                &[(None, 7), (Some('5'), 55), (None, 100)],
                "5",
            ),
            (
                "one long press is one digit",
                &[(Some('7'), 600), (None, 50)],
                "7",
            ),
            (
                "same key twice with 60 ms gap",
                &[(Some('1'), 80), (None, 60), (Some('1'), 80), (None, 50)],
                "11",
            ),
            (
                "same key with a 10 ms dropout is one press",
                &[(Some('1'), 80), (None, 10), (Some('1'), 80), (None, 50)],
                "1",
            ),
            (
                "different keys back to back",
                &[(Some('1'), 80), (Some('2'), 80), (None, 50)],
                "12",
            ),
        ];
        for (name, segments, expected) in cases {
            let pcm: Vec<i16> = render(segments, 6000.0).iter().map(|&x| x as i16).collect();
            assert_eq!(&detect_in_frames(&pcm), expected, "{name}");
        }
    }

    #[test]
    fn extreme_twist_or_single_tone_is_rejected() {
        let tone = |fr: f32, ar: f32, fc: f32, ac: f32| -> Vec<i16> {
            (0..1600)
                .map(|i| {
                    let t = i as f32 / 8000.0;
                    (ar * (2.0 * PI * fr * t).sin() + ac * (2.0 * PI * fc * t).sin()) as i16
                })
                .collect()
        };
        assert_eq!(
            detect_in_frames(&tone(770.0, 8000.0, 1336.0, 0.0)),
            "",
            "row tone only"
        );
        assert_eq!(
            detect_in_frames(&tone(770.0, 8000.0, 1336.0, 1000.0)),
            "",
            "18 dB normal twist"
        );
        assert_eq!(
            detect_in_frames(&tone(770.0, 2000.0, 1336.0, 8000.0)),
            "",
            "12 dB reverse twist"
        );
        assert_eq!(
            detect_in_frames(&tone(1000.0, 8000.0, 2000.0, 8000.0)),
            "",
            "not DTMF frequencies"
        );
    }

    #[test]
    fn noise_alone_gives_no_digit() {
        for (level, seed) in [(300.0f32, 10), (3000.0, 11), (20000.0, 12)] {
            let silence = vec![0.0; 8000 * 5];
            let pcm = noisy_call(&silence, level * level, 0.0, seed);
            assert_eq!(detect_in_frames(&pcm), "", "noise sigma {level}");
        }
    }

    fn read_fixture(name: &str) -> Vec<i16> {
        let path = format!(
            "{}/fixtures/audio/speech/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut reader = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(reader.spec().sample_rate, 8000, "{path}");
        reader.samples::<i16>().map(Result::unwrap).collect()
    }

    #[test]
    fn speech_gives_no_digit() {
        for name in ["en-directory.wav", "fr-directory.wav"] {
            let speech = read_fixture(name);
            assert!(speech.len() > 8000 * 2, "{name} is at least 2 s");
            assert_eq!(detect_in_frames(&speech), "", "{name}");
            let through_alaw = Codec::Pcma.decode(&Codec::Pcma.encode(&speech));
            assert_eq!(detect_in_frames(&through_alaw), "", "{name} via PCMA");
        }
    }

    #[test]
    fn sipp_pcma_capture_gives_no_digit() {
        // SIPp's sample call audio (8 s of PCMA), decoded as the session would.
        let Some(packets) = crate::media::test_pcap::sipp_pcap("g711a.pcap") else {
            return;
        };
        let pcm: Vec<i16> = packets
            .iter()
            .filter(|p| p.payload_type == 8)
            .flat_map(|p| Codec::Pcma.decode(&p.payload))
            .collect();
        assert!(pcm.len() > 8000 * 5, "{} samples", pcm.len());
        assert_eq!(detect_in_frames(&pcm), "");
    }

    #[test]
    fn key_pressed_over_speech_is_found() {
        // A caller pressing 5 while talking: the tone at -10 dBm0, speech quieter behind it.
        let speech = read_fixture("fr-directory.wav");
        let tone = render(&[(None, 500), (Some('5'), 100)], 7000.0);
        let mixed: Vec<i16> = speech
            .iter()
            .zip(tone.iter().chain(std::iter::repeat(&0.0)))
            .map(|(&s, &t)| (f32::from(s) * 0.2 + t).clamp(-32768.0, 32767.0) as i16)
            .collect();
        assert_eq!(detect_in_frames(&mixed), "5");
    }
}
