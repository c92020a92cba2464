//! 8 kHz → 16 kHz upsampling with rubato's synchronous FFT resampler.
//!
//! Used for voice activity detection (earshot runs at 16 kHz) and for engines whose
//! acoustic model is 16 kHz (PocketSphinx en-us). Feeding 8 kHz audio to a 16 kHz
//! model produces garbage: the users of comparable systems report it as their most
//! common mistake, so the conversion lives in one place.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Input chunk of the streaming upsampler: 16 ms at 8 kHz, so that each chunk
/// becomes exactly one 256-sample earshot frame at 16 kHz.
pub const CHUNK_8K: usize = 128;

/// Error building or running the resampler (only on impossible parameters).
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot build the 8 kHz to 16 kHz resampler: {0}")]
    Construction(#[from] rubato::ResamplerConstructionError),
    #[error("resampling failed: {0}")]
    Process(#[from] rubato::ResampleError),
}

/// Streaming 8 kHz → 16 kHz upsampler: push any number of samples, get whole
/// output chunks of `2 * CHUNK_8K` samples back. Keeps the remainder between calls.
pub struct Upsampler {
    resampler: Fft<f32>,
    pending: Vec<f32>,
    output: Vec<f32>,
}

impl std::fmt::Debug for Upsampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsampler").field("pending", &self.pending.len()).finish()
    }
}

impl Upsampler {
    /// A new upsampler with empty history.
    pub fn new() -> Result<Upsampler, ResampleError> {
        let resampler = Fft::<f32>::new(8_000, 16_000, CHUNK_8K, 1, FixedSync::Both)?;
        let output = vec![0.0; resampler.output_frames_max()];
        Ok(Upsampler { resampler, pending: Vec::with_capacity(CHUNK_8K * 2), output })
    }

    /// Pushes 8 kHz samples; calls `on_chunk` with each complete 16 kHz chunk
    /// (`2 * CHUNK_8K` samples).
    pub fn push(&mut self, pcm_8k: &[i16], mut on_chunk: impl FnMut(&[i16])) -> Result<(), ResampleError> {
        self.pending.extend(pcm_8k.iter().map(|&s| s as f32 / 32768.0));
        let mut chunk16 = [0i16; 2 * CHUNK_8K];
        while self.pending.len() >= CHUNK_8K {
            let n_out = self.process_chunk()?;
            for (dst, &src) in chunk16.iter_mut().zip(&self.output[..n_out]) {
                *dst = (src * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            }
            on_chunk(&chunk16[..n_out]);
            self.pending.drain(..CHUNK_8K);
        }
        Ok(())
    }

    fn process_chunk(&mut self) -> Result<usize, ResampleError> {
        // Both adapters are mono, so "interleaved" is the plain slice; the lengths
        // are the resampler's own fixed sizes, so the constructors cannot fail.
        let input = InterleavedSlice::new(&self.pending[..CHUNK_8K], 1, CHUNK_8K)
            .expect("mono slice of exactly CHUNK_8K frames");
        let out_len = self.output.len();
        let mut output = InterleavedSlice::new_mut(&mut self.output[..], 1, out_len)
            .expect("mono slice sized by output_frames_max");
        let (_, written) = self.resampler.process_into_buffer(&input, &mut output, None)?;
        Ok(written)
    }
}

/// Upsamples a whole utterance (the engine's input) at once. The tail shorter than
/// one chunk is zero-padded so that no speech is lost; the resampler's delay is
/// trimmed so that output sample `2n` lines up with input sample `n`.
pub fn upsample_8k_to_16k(pcm_8k: &[i16]) -> Result<Vec<i16>, ResampleError> {
    let mut up = UtteranceUpsampler::new()?;
    let mut out = Vec::with_capacity(pcm_8k.len() * 2);
    up.push(pcm_8k, &mut out)?;
    up.finish(&mut out)?;
    Ok(out)
}

/// [`upsample_8k_to_16k`] as a stream: the same output samples, handed out as
/// the input arrives (an engine decodes them while the caller speaks), whatever
/// the sizes of the pieces pushed.
pub struct UtteranceUpsampler {
    up: Upsampler,
    /// Output samples still to drop: the resampler's delay.
    delay_left: usize,
    /// Input samples pushed, output samples handed out.
    input: usize,
    output: usize,
}

impl std::fmt::Debug for UtteranceUpsampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UtteranceUpsampler").field("input", &self.input).field("output", &self.output).finish()
    }
}

impl UtteranceUpsampler {
    /// A new stream, aligned on its first sample.
    pub fn new() -> Result<UtteranceUpsampler, ResampleError> {
        let up = Upsampler::new()?;
        let delay_left = up.resampler.output_delay();
        Ok(UtteranceUpsampler { up, delay_left, input: 0, output: 0 })
    }

    /// Pushes 8 kHz samples; appends to `out` the 16 kHz samples now known.
    /// Never more than twice the input so far.
    pub fn push(&mut self, pcm_8k: &[i16], out: &mut Vec<i16>) -> Result<(), ResampleError> {
        self.input += pcm_8k.len();
        self.feed(pcm_8k, out)
    }

    /// Ends the utterance: appends the rest, so that the whole output is exactly
    /// twice the input long.
    pub fn finish(mut self, out: &mut Vec<i16>) -> Result<(), ResampleError> {
        // Zeros push the last input samples through the filter and its delay.
        let pad = vec![0i16; CHUNK_8K + self.up.resampler.output_delay() / 2 + 1];
        let before = out.len();
        self.feed(&pad, out)?;
        let excess = self.output.saturating_sub(2 * self.input);
        // Before the padding, output never exceeds twice the input, so the
        // excess is all in what this call appended.
        out.truncate(out.len() - excess.min(out.len() - before));
        Ok(())
    }

    fn feed(&mut self, pcm_8k: &[i16], out: &mut Vec<i16>) -> Result<(), ResampleError> {
        let (delay_left, output) = (&mut self.delay_left, &mut self.output);
        self.up.push(pcm_8k, |chunk| {
            let skip = (*delay_left).min(chunk.len());
            *delay_left -= skip;
            out.extend_from_slice(&chunk[skip..]);
            *output += chunk.len() - skip;
        })
    }
}

#[cfg(test)]
mod tests {
    //! Upsampling keeps length, timing and tone: a 1 kHz tone stays a 1 kHz tone.
    use super::*;

    fn tone(freq: f32, rate: f32, n: usize, amp: f32) -> Vec<i16> {
        (0..n).map(|i| (amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate).sin()) as i16).collect()
    }

    /// Goertzel power of `freq` in `x` sampled at `rate`, normalised by length.
    fn power(x: &[i16], freq: f32, rate: f32) -> f32 {
        let w = 2.0 * std::f32::consts::PI * freq / rate;
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &v in x {
            let s = v as f32 + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.len() as f32).powi(2)
    }

    #[test]
    fn whole_utterance_doubles_length_and_keeps_the_tone() {
        let input = tone(1000.0, 8000.0, 8000, 10000.0);
        let out = upsample_8k_to_16k(&input).unwrap();
        assert_eq!(out.len(), 16000);
        let mid = &out[4000..12000];
        let at_1k = power(mid, 1000.0, 16000.0);
        let at_3k = power(mid, 3000.0, 16000.0);
        let at_7k = power(mid, 7000.0, 16000.0); // the image of 1 kHz, must be filtered
        assert!(at_1k > 1000.0 * at_3k, "1 kHz {at_1k} vs 3 kHz {at_3k}");
        assert!(at_1k > 1000.0 * at_7k, "1 kHz {at_1k} vs image at 7 kHz {at_7k}");
        // Amplitude preserved within 10 %.
        let peak = mid.iter().map(|s| s.unsigned_abs()).max().unwrap() as f32;
        assert!((peak - 10000.0).abs() < 1000.0, "peak {peak}");
    }

    #[test]
    fn streaming_emits_whole_chunks_whatever_the_push_sizes() {
        let input = tone(440.0, 8000.0, 1000, 5000.0);
        let mut up = Upsampler::new().unwrap();
        let mut chunks = Vec::new();
        for piece in input.chunks(37) {
            up.push(piece, |c| chunks.push(c.len())).unwrap();
        }
        // 1000 / 128 = 7 whole chunks; the rest waits for more input.
        assert_eq!(chunks, vec![2 * CHUNK_8K; 7]);
    }

    #[test]
    fn streaming_an_utterance_gives_the_whole_utterance_output() {
        let input = tone(700.0, 8000.0, 8000 + 77, 8000.0);
        let whole = upsample_8k_to_16k(&input).unwrap();
        for piece in [1, 37, 160, 800, 8077] {
            let mut up = UtteranceUpsampler::new().unwrap();
            let mut out = Vec::new();
            for p in input.chunks(piece) {
                up.push(p, &mut out).unwrap();
                assert!(out.len() <= 2 * input.len());
            }
            up.finish(&mut out).unwrap();
            assert_eq!(out, whole, "piece {piece}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(upsample_8k_to_16k(&[]).unwrap().is_empty());
    }
}
