//! Prompt audio: loading WAV files and cutting a queue of prompts into 20 ms frames.
//!
//! Prompts must already be telephone audio: mono, 16-bit PCM, 8000 Hz. Other formats are
//! refused with an error naming the file and the `sox` command that converts it, rather
//! than resampled at load time: prompts are prepared once per store, a conversion done
//! offline can be listened to before it reaches callers, and start-up stays simple.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::g711::{CLOCK_RATE, SAMPLES_PER_20MS};

/// One 20 ms frame of 8 kHz PCM.
pub type Frame = [i16; SAMPLES_PER_20MS];

/// Why a prompt file cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The file cannot be opened or is not a WAV file hound understands.
    #[error("prompt {path}: cannot read WAV: {source}")]
    Read {
        /// The prompt file.
        path: PathBuf,
        /// hound's error.
        #[source]
        source: hound::Error,
    },
    /// Not mono.
    #[error("prompt {path}: {channels} channels, expected mono (convert with: {CONVERT_HINT})")]
    NotMono {
        /// The prompt file.
        path: PathBuf,
        /// Channel count found.
        channels: u16,
    },
    /// Not 8000 Hz.
    #[error(
        "prompt {path}: sample rate {rate} Hz, expected 8000 Hz (convert with: {CONVERT_HINT})"
    )]
    WrongSampleRate {
        /// The prompt file.
        path: PathBuf,
        /// Rate found.
        rate: u32,
    },
    /// Not 16-bit integer PCM (e.g. 8-bit, 24-bit or float).
    #[error(
        "prompt {path}: {bits}-bit {format:?} samples, expected 16-bit integer PCM (convert with: {CONVERT_HINT})"
    )]
    WrongSampleFormat {
        /// The prompt file.
        path: PathBuf,
        /// Bits per sample found.
        bits: u16,
        /// Sample format found.
        format: hound::SampleFormat,
    },
    /// The file has no samples.
    #[error("prompt {path}: no audio")]
    Empty {
        /// The prompt file.
        path: PathBuf,
    },
}

/// How to fix a prompt in the wrong format, quoted in the errors.
const CONVERT_HINT: &str = "sox -D in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav";

/// Decoded prompt audio (8 kHz mono PCM), cheap to clone and share between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptAudio {
    samples: Arc<[i16]>,
}

impl PromptAudio {
    /// Loads a prompt WAV (mono, 16-bit PCM, 8000 Hz).
    pub fn load(path: &Path) -> Result<PromptAudio, PromptError> {
        let read_error = |source| PromptError::Read {
            path: path.to_owned(),
            source,
        };
        let reader = hound::WavReader::open(path).map_err(read_error)?;
        let spec = reader.spec();
        if spec.channels != 1 {
            return Err(PromptError::NotMono {
                path: path.to_owned(),
                channels: spec.channels,
            });
        }
        if spec.sample_rate != CLOCK_RATE {
            return Err(PromptError::WrongSampleRate {
                path: path.to_owned(),
                rate: spec.sample_rate,
            });
        }
        if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
            return Err(PromptError::WrongSampleFormat {
                path: path.to_owned(),
                bits: spec.bits_per_sample,
                format: spec.sample_format,
            });
        }
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<i16>, _>>()
            .map_err(read_error)?;
        if samples.is_empty() {
            return Err(PromptError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(PromptAudio::from_samples(samples))
    }

    /// Wraps samples already at 8 kHz (generated tones, tests).
    pub fn from_samples(samples: Vec<i16>) -> PromptAudio {
        PromptAudio {
            samples: samples.into(),
        }
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(CLOCK_RATE))
    }
}

/// What the playback cursor gives for one 20 ms tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybackTick {
    /// A frame to send (the last one of a prompt is padded with silence).
    Audio(Box<Frame>),
    /// The whole queue has been played; given once, on the tick after its last frame.
    Finished,
    /// Nothing to play.
    Idle,
}

/// A cursor over a queue of prompts, advanced one 20 ms frame per tick.
#[derive(Debug, Default)]
pub struct Playback {
    queue: VecDeque<PromptAudio>,
    /// Samples of the queue's front prompt already played.
    position: usize,
    /// A queue is in progress (or just ran out): `Finished` is owed.
    active: bool,
}

impl Playback {
    /// An idle cursor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts playing `prompts` in order, replacing (without a `Finished`) whatever was
    /// playing. An empty list finishes at the next tick.
    pub fn play(&mut self, prompts: Vec<PromptAudio>) {
        self.queue = prompts.into();
        self.position = 0;
        self.active = true;
    }

    /// Stops playback at once (barge-in). No `Finished` follows. Returns whether something
    /// was playing.
    pub fn stop(&mut self) -> bool {
        let was_active = self.active;
        self.queue.clear();
        self.position = 0;
        self.active = false;
        was_active
    }

    /// Whether a queue is being played (its `Finished` not yet given).
    pub fn is_playing(&self) -> bool {
        self.active
    }

    /// Advances by one frame.
    pub fn tick(&mut self) -> PlaybackTick {
        if !self.active {
            return PlaybackTick::Idle;
        }
        let mut frame = Box::new([0i16; SAMPLES_PER_20MS]);
        let mut filled = 0;
        // A frame never spans two prompts: each prompt ends on its own padded frame, so a
        // prompt boundary keeps the pause its recording has, and no click from splicing.
        while let Some(prompt) = self.queue.front() {
            let rest = &prompt.samples()[self.position..];
            if rest.is_empty() {
                self.queue.pop_front();
                self.position = 0;
                continue;
            }
            filled = rest.len().min(SAMPLES_PER_20MS);
            frame[..filled].copy_from_slice(&rest[..filled]);
            self.position += filled;
            break;
        }
        if filled == 0 {
            self.active = false;
            return PlaybackTick::Finished;
        }
        PlaybackTick::Audio(frame)
    }
}

/// Prompt audio shared by every call of the process: each WAV file is read
/// and decoded once, not once per call (a store's prompts are about 650 KiB
/// of samples, which every call used to hold its own copy of).
///
/// A file is identified by its path and checked against its size,
/// modification time and inode on every lookup (one `stat`), so a prompt replaced on disk
/// (written to a temporary file and renamed, as prompt generation does) is
/// read again by the next call; calls in progress keep the audio they started
/// with. The cache holds at most `budget_bytes` of samples: past it the least
/// recently used prompts are dropped and read again when next needed.
pub struct PromptCache {
    cache: quick_cache::sync::Cache<PathBuf, CachedPrompt, SampleBytes>,
    /// Files read and decoded: what a warm cache keeps from growing.
    decodes: std::sync::atomic::AtomicU64,
}

/// A decoded prompt and the file it was read from.
#[derive(Clone)]
struct CachedPrompt {
    stamp: FileStamp,
    audio: PromptAudio,
}

/// What tells two versions of a prompt file apart without reading it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    /// A file renamed over the old one is a new inode even when its size and
    /// time (coarse on some file systems) are the same.
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Result<FileStamp, PromptError> {
        let meta = std::fs::metadata(path).map_err(|source| PromptError::Read {
            path: path.to_owned(),
            source: hound::Error::IoError(source),
        })?;
        Ok(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })
    }
}

/// Weighs a cached prompt by its samples' size in bytes.
#[derive(Clone)]
struct SampleBytes;

impl quick_cache::Weighter<PathBuf, CachedPrompt> for SampleBytes {
    fn weight(&self, _path: &PathBuf, prompt: &CachedPrompt) -> u64 {
        // At least 1: the cache treats weight 0 as "never evicted".
        (std::mem::size_of_val(prompt.audio.samples()) as u64).max(1)
    }
}

impl PromptCache {
    /// Default budget: 64 MiB of samples, about 70 minutes of 8 kHz audio,
    /// enough for the prompts and spoken names of a hundred stores.
    pub const DEFAULT_BUDGET_BYTES: u64 = 64 << 20;

    /// A cache holding at most `budget_bytes` of decoded samples.
    pub fn new(budget_bytes: u64) -> PromptCache {
        // A prompt is typically 20-100 KiB; the estimate only sizes the tables.
        let estimated_items = usize::try_from(budget_bytes / (32 << 10))
            .unwrap_or(usize::MAX)
            .max(16);
        PromptCache {
            cache: quick_cache::sync::Cache::with_weighter(
                estimated_items,
                budget_bytes,
                SampleBytes,
            ),
            decodes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The prompt at `path`, from the cache when the file has not changed since
    /// it was read, else read and checked as [`PromptAudio::load`] does.
    /// Blocking (file IO): call it off the async threads.
    ///
    /// Calls that ask for the same prompt while it is first being read wait for
    /// that read instead of each decoding their own copy (a burst of calls at
    /// start-up would otherwise hold one copy each).
    pub fn load(&self, path: &Path) -> Result<PromptAudio, PromptError> {
        let stamp = FileStamp::of(path)?;
        match self.cache.get_value_or_guard(path, None) {
            quick_cache::sync::GuardResult::Value(cached) if cached.stamp == stamp => {
                Ok(cached.audio)
            }
            // Replaced on disk since it was read: read it again. Two calls
            // meeting the same replacement may both read it; that is rare and
            // bounded by the number of such calls.
            quick_cache::sync::GuardResult::Value(_) | quick_cache::sync::GuardResult::Timeout => {
                let audio = self.decode(path)?;
                self.cache.insert(
                    path.to_owned(),
                    CachedPrompt {
                        stamp,
                        audio: audio.clone(),
                    },
                );
                Ok(audio)
            }
            quick_cache::sync::GuardResult::Guard(guard) => {
                // On an error the guard is dropped unfilled: a waiting call
                // then reads the file itself and gets the same error.
                let audio = self.decode(path)?;
                let _ = guard.insert(CachedPrompt {
                    stamp,
                    audio: audio.clone(),
                });
                Ok(audio)
            }
        }
    }

    fn decode(&self, path: &Path) -> Result<PromptAudio, PromptError> {
        self.decodes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        PromptAudio::load(path)
    }

    /// How many times a prompt file was read and decoded (cache misses,
    /// including files that turned out bad) since the cache was made.
    pub fn decodes(&self) -> u64 {
        self.decodes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes of samples held now.
    pub fn weight(&self) -> u64 {
        self.cache.weight()
    }
}

impl Default for PromptCache {
    fn default() -> PromptCache {
        PromptCache::new(PromptCache::DEFAULT_BUDGET_BYTES)
    }
}

impl std::fmt::Debug for PromptCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptCache")
            .field("prompts", &self.cache.len())
            .field("bytes", &self.cache.weight())
            .field("decodes", &self.decodes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! Proves WAV loading accepts only telephone-format prompts with file-naming errors, and
    //! that playback frames, finishes, replaces and stops as the call flow expects.
    use super::*;

    fn write_wav(dir: &Path, name: &str, spec: hound::WavSpec, samples: usize) -> PathBuf {
        let path = dir.join(name);
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..samples * usize::from(spec.channels) {
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => writer.write_sample(0.1f32).unwrap(),
                (_, 8) => writer.write_sample((i % 100) as i8).unwrap(),
                _ => writer.write_sample((i % 1000) as i16).unwrap(),
            }
        }
        writer.finalize().unwrap();
        path
    }

    fn spec(channels: u16, rate: u32, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    #[test]
    fn loads_telephone_wav() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_wav(
            dir.path(),
            "greeting.wav",
            spec(1, 8000, 16, hound::SampleFormat::Int),
            4000,
        );
        let prompt = PromptAudio::load(&path).unwrap();
        assert_eq!(prompt.samples().len(), 4000);
        assert_eq!(prompt.samples()[999], 999);
        assert_eq!(prompt.duration(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_other_formats_naming_the_file() {
        use hound::SampleFormat::{Float, Int};
        let dir = tempfile::tempdir().unwrap();
        type Check = fn(&PromptError) -> bool;
        let cases: Vec<(&str, Option<hound::WavSpec>, usize, Check)> = vec![
            ("stereo.wav", Some(spec(2, 8000, 16, Int)), 100, |e| {
                matches!(e, PromptError::NotMono { channels: 2, .. })
            }),
            ("cd.wav", Some(spec(1, 44100, 16, Int)), 100, |e| {
                matches!(e, PromptError::WrongSampleRate { rate: 44100, .. })
            }),
            ("8bit.wav", Some(spec(1, 8000, 8, Int)), 100, |e| {
                matches!(e, PromptError::WrongSampleFormat { bits: 8, .. })
            }),
            ("float.wav", Some(spec(1, 8000, 32, Float)), 100, |e| {
                matches!(e, PromptError::WrongSampleFormat { bits: 32, .. })
            }),
            ("empty.wav", Some(spec(1, 8000, 16, Int)), 0, |e| {
                matches!(e, PromptError::Empty { .. })
            }),
            ("missing.wav", None, 0, |e| {
                matches!(e, PromptError::Read { .. })
            }),
            ("text.wav", None, 1, |e| {
                matches!(e, PromptError::Read { .. })
            }),
        ];
        for (name, spec, samples, check) in cases {
            let path = match spec {
                Some(spec) => write_wav(dir.path(), name, spec, samples),
                None if samples > 0 => {
                    let p = dir.path().join(name);
                    std::fs::write(&p, "not a wav").unwrap();
                    p
                }
                None => dir.path().join(name),
            };
            let error = PromptAudio::load(&path).unwrap_err();
            assert!(check(&error), "{name}: {error:?}");
            assert!(
                error.to_string().contains(name),
                "{name}: message {error} names the file"
            );
        }
    }

    fn prompt(values: std::ops::Range<i16>) -> PromptAudio {
        PromptAudio::from_samples(values.collect())
    }

    #[test]
    fn frames_a_queue_and_finishes_once() {
        let mut playback = Playback::new();
        assert_eq!(playback.tick(), PlaybackTick::Idle);
        // 200 samples (one full frame + 40) then 160 samples (exactly one frame).
        playback.play(vec![prompt(1..201), prompt(1000..1160)]);
        assert!(playback.is_playing());

        let PlaybackTick::Audio(f1) = playback.tick() else {
            panic!("frame 1")
        };
        assert_eq!((f1[0], f1[159]), (1, 160));
        let PlaybackTick::Audio(f2) = playback.tick() else {
            panic!("frame 2")
        };
        assert_eq!(&f2[..40], &(161..201).collect::<Vec<i16>>()[..]);
        assert!(f2[40..].iter().all(|&s| s == 0), "tail padded with silence");
        let PlaybackTick::Audio(f3) = playback.tick() else {
            panic!("frame 3")
        };
        assert_eq!((f3[0], f3[159]), (1000, 1159));
        assert_eq!(playback.tick(), PlaybackTick::Finished);
        assert!(!playback.is_playing());
        assert_eq!(playback.tick(), PlaybackTick::Idle);
    }

    #[test]
    fn play_replaces_and_stop_cancels_without_finished() {
        let mut playback = Playback::new();
        playback.play(vec![prompt(0..1600)]);
        assert!(matches!(playback.tick(), PlaybackTick::Audio(_)));
        playback.play(vec![prompt(500..600)]);
        let PlaybackTick::Audio(f) = playback.tick() else {
            panic!("replacement frame")
        };
        assert_eq!(f[0], 500);
        assert_eq!(playback.tick(), PlaybackTick::Finished);

        playback.play(vec![prompt(0..1600)]);
        assert!(matches!(playback.tick(), PlaybackTick::Audio(_)));
        assert!(playback.stop());
        assert_eq!(playback.tick(), PlaybackTick::Idle);
        assert!(!playback.stop(), "nothing left to stop");
    }

    #[test]
    fn empty_queue_finishes_at_once() {
        let mut playback = Playback::new();
        playback.play(vec![]);
        assert_eq!(playback.tick(), PlaybackTick::Finished);
        playback.play(vec![PromptAudio::from_samples(vec![])]);
        assert_eq!(playback.tick(), PlaybackTick::Finished);
    }

    fn telephone() -> hound::WavSpec {
        spec(1, 8000, 16, hound::SampleFormat::Int)
    }

    fn same_samples(a: &PromptAudio, b: &PromptAudio) -> bool {
        std::ptr::eq(a.samples().as_ptr(), b.samples().as_ptr())
    }

    #[test]
    fn cache_shares_one_copy_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_wav(dir.path(), "greeting.wav", telephone(), 4000);
        let cache = PromptCache::default();
        let first = cache.load(&path).unwrap();
        let second = cache.load(&path).unwrap();
        assert!(same_samples(&first, &second), "one decoded copy shared");
        assert_eq!(cache.weight(), 8000);
        assert_eq!(cache.decodes(), 1);

        // Replaced the way prompt generation does it: a new file renamed over.
        let staged = write_wav(dir.path(), "greeting.tmp.wav", telephone(), 2000);
        std::fs::rename(&staged, &path).unwrap();
        let third = cache.load(&path).unwrap();
        assert_eq!(third.samples().len(), 2000, "the new file is read");
        assert_eq!(
            first.samples().len(),
            4000,
            "a call in progress keeps its audio"
        );
        assert!(same_samples(&third, &cache.load(&path).unwrap()));
        assert_eq!(cache.weight(), 4000);
        assert_eq!(cache.decodes(), 2, "the replacement is read once");
    }

    /// Issue 11: 300 calls decoded about 13 prompts each. Calls arriving
    /// together ask for the demo-sized prompt set (91 files, about 54 KiB
    /// each, 4.9 MB) at the same moment: each file is decoded once and every
    /// call holds the same copy.
    #[test]
    fn concurrent_calls_decode_each_demo_prompt_once() {
        const FILES: usize = 91;
        const CALLS: usize = 8;
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..FILES)
            .map(|i| write_wav(dir.path(), &format!("prompt{i}.wav"), telephone(), 27_000))
            .collect();
        let cache = PromptCache::default();
        let start = std::sync::Barrier::new(CALLS);
        let held: Vec<Vec<PromptAudio>> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..CALLS)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        paths
                            .iter()
                            .map(|path| cache.load(path).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            calls.into_iter().map(|call| call.join().unwrap()).collect()
        });
        // A few more calls once the cache is warm.
        let later: Vec<Vec<PromptAudio>> = (0..10)
            .map(|_| paths.iter().map(|path| cache.load(path).unwrap()).collect())
            .collect();
        assert_eq!(cache.decodes(), FILES as u64, "{cache:?}");
        for call in held.iter().chain(&later) {
            for (mine, first) in call.iter().zip(&held[0]) {
                assert!(same_samples(mine, first), "one copy per prompt");
            }
        }
        assert_eq!(cache.weight(), (FILES * 27_000 * 2) as u64);
    }

    #[test]
    fn cache_stays_within_its_budget_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        // Three prompts of 8000 bytes each in a 20000-byte budget.
        let paths: Vec<PathBuf> = (0..3)
            .map(|i| write_wav(dir.path(), &format!("p{i}.wav"), telephone(), 4000))
            .collect();
        let cache = PromptCache::new(20_000);
        for path in &paths {
            assert_eq!(cache.load(path).unwrap().samples().len(), 4000);
        }
        assert!(cache.weight() <= 20_000, "{cache:?}");
        // An evicted prompt is simply read again.
        for path in &paths {
            assert_eq!(cache.load(path).unwrap().samples().len(), 4000);
        }

        let missing = cache.load(&dir.path().join("missing.wav")).unwrap_err();
        assert!(
            matches!(missing, PromptError::Read { ref path, .. } if path.ends_with("missing.wav"))
        );
        let stereo = write_wav(
            dir.path(),
            "stereo.wav",
            spec(2, 8000, 16, hound::SampleFormat::Int),
            100,
        );
        assert!(matches!(
            cache.load(&stereo),
            Err(PromptError::NotMono { .. })
        ));
        assert!(
            cache.load(&stereo).is_err(),
            "a bad file is not cached as good"
        );
    }
}
