//! The live speech path under load, in one process: N concurrent calls each push
//! fixture audio in real time (20 ms frames: 1 s of silence, a spoken name, 1.5 s
//! of silence) through their own `SpeechStream` (the call's endpointer), exactly
//! as the runtime's call task does: from speech onset each 100 ms block goes to
//! the decode workers (`speech::decode::DecodePool`), the end of speech finishes
//! the recognition there, and the call decides with `StoreSpeech::decide`.
//!
//! Per engine and N it prints: end-of-speech-to-decision latency (p50, p95; the
//! end of speech is when the endpointer declares it, i.e. after the configured
//! end-of-speech silence), CPU time used per wall second (cores busy), calls per
//! busy core, how late the 20 ms frames were delivered (p95), and the memory a
//! call in the speech phase holds (endpointer and a recognizer fed 1 s of audio).
//! A plain single-stream libvosk loop (the `vosk` crate alone) runs in the same
//! process as the baseline, and a profile of one utterance's decoding by stage
//! (recognizer start, audio, finish; whole-utterance decoding for comparison).
//! `cargo bench --bench speech [-- N... [workers=W]]`.
//!
//! The runtime is pinned to one worker thread and the pool to one decode
//! worker (`workers=W` for more), so the figures are for one core's worth of
//! threads.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use attendant::asr::Engine;
use attendant::asr::vosk::json_string_bodies;
use attendant::config::AsrConfig;
use attendant::directory::{Directory, DirectoryVersion, Entry, EntryId, Language, Store, StoreId, TransferTarget};
use attendant::matching::{Decision, Thresholds};
use attendant::speech::decode::{DecodePool, DecodeSettings};
use attendant::speech::endpoint::EndpointSettings;
use attendant::speech::registry::load_engine;
use attendant::speech::stream::{SpeechStream, StreamEvent, decode_blocks, decoded_part};
use attendant::speech::understand::StoreSpeech;

#[derive(serde::Deserialize)]
struct Fixture {
    file: String,
    engine: String,
    voice: String,
    expected: Option<String>,
}

/// In-grammar fixtures of one engine, in its default voice.
fn clips(engine: &str) -> Vec<Vec<i16>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/names");
    let manifest: Vec<Fixture> = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest")).expect("json");
    manifest
        .iter()
        .filter(|f| f.engine == engine && f.expected.is_some() && (f.voice == "en-us" || f.voice == "ko"))
        .map(|f| hound::WavReader::open(dir.join(&f.file)).expect("wav").samples::<i16>().map(|s| s.expect("sample")).collect())
        .collect()
}

fn entry(id: i64, name: &str) -> Entry {
    Entry {
        id: EntryId(id),
        display_name: name.into(),
        aliases: vec![],
        department: None,
        extension: Some(format!("{}", 200 + id)),
        target: TransferTarget::Extension(format!("{}", 200 + id)),
        fallback: None,
        enabled: true,
    }
}

fn store(language: Language, names: &[&str]) -> Directory {
    Directory {
        store: Store { id: StoreId(1), name: "bench".into(), number: "1".into(), language, operator: TransferTarget::Extension("9".into()) },
        version: DirectoryVersion(1),
        entries: names.iter().enumerate().map(|(i, n)| entry(i as i64 + 1, n)).collect(),
        menu: vec![],
    }
}

/// Resident set size, MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("VmRSS")
        / 1024.0
}

/// CPU time (user + system) of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("procfs");
    // Fields after the command name (which may contain spaces) start after ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("stat").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One call's speech phase: frames in real time through the call's speech
/// stream, blocks decoded on the pool while the caller speaks. Returns (end of
/// speech to decision, frame lateness samples, whether the decision names an
/// entry).
async fn call(speech: Arc<StoreSpeech>, pool: Arc<DecodePool>, clip: Arc<Vec<i16>>, settings: EndpointSettings, offset: Duration) -> (Option<Duration>, Vec<Duration>, bool) {
    tokio::time::sleep(offset).await;
    let mut stream = SpeechStream::new(settings, speech.decoded_end_silence()).expect("speech stream");
    let mut audio = vec![0i16; 8000];
    audio.extend_from_slice(&clip);
    audio.extend(std::iter::repeat_n(0i16, 12_000));
    let start = tokio::time::Instant::now();
    let mut lateness = Vec::new();
    let mut decoding = None;
    for (i, frame) in audio.chunks(160).enumerate() {
        let due = start + Duration::from_millis(20 * i as u64);
        tokio::time::sleep_until(due).await;
        lateness.push(tokio::time::Instant::now().saturating_duration_since(due));
        for event in stream.push(frame).expect("push") {
            match event {
                StreamEvent::SpeechStarted => {
                    let speech = speech.clone();
                    decoding = Some(pool.open(Box::new(move || speech.recognizer())).expect("decode stream"));
                }
                StreamEvent::Audio(block) => {
                    if let Some(stream) = decoding.as_ref()
                        && stream.push(block).is_err()
                    {
                        // Backlogged: this call would go to the keypad menu.
                        return (None, lateness, false);
                    }
                }
                StreamEvent::NoiseDiscarded => decoding = None,
                StreamEvent::Ended(_) => {
                    let ended = Instant::now();
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    decoding.take().expect("speech started").finish(Box::new(move |result| {
                        let _ = tx.send(result);
                    }));
                    let recognition = rx.await.expect("decode worker").expect("recognition");
                    let decision = speech.decide(&recognition);
                    let named = !matches!(decision, Decision::NoMatch);
                    return (Some(ended.elapsed()), lateness, named);
                }
            }
        }
    }
    (None, lateness, false)
}

/// Memory a call holds in the speech phase: its speech stream (endpointer) and
/// a recognizer that has decoded 1 s of speech, MiB per call.
fn held_per_call(speech: &StoreSpeech, clip: &[i16], n: usize) -> f64 {
    let rss0 = rss_mib();
    let held: Vec<_> = (0..n)
        .map(|_| {
            let stream = SpeechStream::new(EndpointSettings::default(), speech.decoded_end_silence()).expect("stream");
            let mut recognizer = speech.recognizer().expect("recognizer");
            for block in decode_blocks(&clip[..clip.len().min(8000)]) {
                recognizer.push_audio(block).expect("push");
            }
            (stream, recognizer)
        })
        .collect();
    let per_call = (rss_mib() - rss0) / n as f64;
    drop(held);
    per_call
}

fn load(speech: &Arc<StoreSpeech>, clips: &[Arc<Vec<i16>>], n: usize, workers: NonZeroUsize, per_call_mib: f64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let pool = Arc::new(DecodePool::start(DecodeSettings { workers, ..DecodeSettings::for_this_machine() }).expect("decode pool"));
    let settings = EndpointSettings::default();
    let cycle = Duration::from_millis(2500);
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                // Calls arrive spread over one utterance cycle, as independent callers do.
                let offset = cycle * i as u32 / n as u32;
                tokio::spawn(call(speech.clone(), pool.clone(), clips[i % clips.len()].clone(), settings.clone(), offset))
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("call task"));
        }
        out
    });
    let (cpu, wall) = (cpu_time() - cpu0, wall0.elapsed());
    let mut latencies: Vec<Duration> = results.iter().filter_map(|r| r.0).collect();
    latencies.sort();
    let mut late: Vec<Duration> = results.iter().flat_map(|r| r.1.iter().copied()).collect();
    late.sort();
    let named = results.iter().filter(|r| r.2).count();
    let cores = cpu.as_secs_f64() / wall.as_secs_f64();
    println!(
        "{:>6?} workers={workers} N={n:>3}  decided {:>3}/{n} (named {named:>3})  end-of-speech->decision p50 {:>6.1} ms p95 {:>6.1} ms  cores busy {:.2}  calls/busy core {:>5.0}  frame lateness p95 {:>5.1} ms  held/call {:.2} MiB",
        speech.engine().kind(),
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95)),
        cores,
        n as f64 / cores.max(0.01),
        ms(percentile(&late, 0.95)),
        per_call_mib,
    );
}

/// Where one utterance's decoding time goes, through the engine trait: the
/// utterances the endpointer cuts from the clips, each decoded the live way
/// (recognizer start, blocks, finish) and the old way (the whole utterance
/// pushed at once after the end of speech).
fn profile(speech: &StoreSpeech, clips: &[Arc<Vec<i16>>]) {
    let mut utterances = Vec::new();
    for clip in clips {
        let mut stream = SpeechStream::new(EndpointSettings::default(), speech.decoded_end_silence()).expect("stream");
        let mut audio = vec![0i16; 8000];
        audio.extend_from_slice(clip);
        audio.extend(std::iter::repeat_n(0i16, 12_000));
        for frame in audio.chunks(160) {
            for event in stream.push(frame).expect("push") {
                if let StreamEvent::Ended(u) = event {
                    utterances.push((decoded_part(&u, speech.decoded_end_silence()).to_vec(), u.pcm));
                }
            }
        }
    }
    let (mut start, mut blocks, mut finish, mut whole) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut audio_s = 0.0;
    let mut whole_s = 0.0;
    for (pcm, whole_pcm) in &utterances {
        let t = Instant::now();
        let mut recognizer = speech.recognizer().expect("recognizer");
        start.push(t.elapsed());
        let t = Instant::now();
        for block in decode_blocks(pcm) {
            recognizer.push_audio(block).expect("push");
        }
        blocks.push(t.elapsed());
        let t = Instant::now();
        recognizer.finish().expect("finish");
        finish.push(t.elapsed());
        let t = Instant::now();
        let mut recognizer = speech.recognizer().expect("recognizer");
        recognizer.push_audio(whole_pcm).expect("push");
        recognizer.finish().expect("finish");
        whole.push(t.elapsed());
        audio_s += pcm.len() as f64 / 8000.0;
        whole_s += whole_pcm.len() as f64 / 8000.0;
    }
    let sum = |v: &[Duration]| v.iter().sum::<Duration>();
    for v in [&mut start, &mut blocks, &mut finish, &mut whole] {
        v.sort();
    }
    println!(
        "{:>6?} profile, {} utterances ({:.2} s each on average with the whole end-of-speech silence, {:.2} s decoded): recognizer start p50 {:.2} ms; audio blocks {:.1} ms per utterance (RTF {:.3}); finish p50 {:.1} ms p95 {:.1} ms; whole utterance at end of speech (before) p50 {:.1} ms p95 {:.1} ms",
        speech.engine().kind(),
        utterances.len(),
        whole_s / utterances.len() as f64,
        audio_s / utterances.len() as f64,
        ms(percentile(&start, 0.5)),
        ms(sum(&blocks)) / utterances.len() as f64,
        sum(&blocks).as_secs_f64() / audio_s,
        ms(percentile(&finish, 0.5)),
        ms(percentile(&finish, 0.95)),
        ms(percentile(&whole, 0.5)),
        ms(percentile(&whole, 0.95)),
    );
}

/// The plain single-stream libvosk loop: one recognizer at a time over the
/// clips, fed 20 ms frames, with the time of each libvosk call: a new grammar
/// recognizer, accepting the audio, and `final_result` (5 alternatives, as the
/// engine asks, and 1).
fn vosk_baseline(asr: &AsrConfig, grammar_json: &str, clips: &[Arc<Vec<i16>>]) {
    vosk::set_log_level(vosk::LogLevel::Error);
    let manifest_dir = asr.manifest_dir.clone().unwrap_or_else(attendant::asr::models::default_manifest_dir);
    let deps = asr.deps_dir.clone().unwrap_or_else(attendant::asr::models::default_deps_dir);
    let manifest = attendant::asr::models::ModelManifest::find(&manifest_dir, attendant::asr::EngineKind::Vosk, Language::Ko).expect("manifest");
    let dir = manifest.installed_dir(&deps).expect("model installed");
    let model = vosk::Model::new(dir.to_str().expect("utf-8")).expect("model");
    let phrases = json_string_bodies(grammar_json).expect("phrases");
    for alternatives in [5u16, 1] {
        let (mut create, mut accept, mut finals) = (Vec::new(), Duration::ZERO, Vec::new());
        let mut audio = 0usize;
        for clip in clips {
            let t = Instant::now();
            let mut recognizer = vosk::Recognizer::new_with_grammar(&model, 8000.0, &phrases).expect("recognizer");
            recognizer.set_max_alternatives(alternatives);
            create.push(t.elapsed());
            let t = Instant::now();
            for frame in clip.chunks(160) {
                recognizer.accept_waveform(frame).expect("accept");
            }
            accept += t.elapsed();
            let t = Instant::now();
            let _ = recognizer.final_result();
            finals.push(t.elapsed());
            audio += clip.len();
        }
        create.sort();
        finals.sort();
        let busy = create.iter().chain(&finals).sum::<Duration>() + accept;
        println!(
            "baseline: plain libvosk loop, one stream, {alternatives} alternative(s)  RTF {:.4} (accept alone {:.4})  new recognizer p50 {:.1} ms  final_result p50 {:.1} ms p95 {:.1} ms  ({} clips)",
            busy.as_secs_f64() / (audio as f64 / 8000.0),
            accept.as_secs_f64() / (audio as f64 / 8000.0),
            ms(percentile(&create, 0.5)),
            ms(percentile(&finals, 0.5)),
            ms(percentile(&finals, 0.95)),
            clips.len()
        );
    }
}

fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() { vec![10, 25, 50, 75] } else { counts };
    // `workers=N`: decode workers (default 1: one core's worth with the one runtime thread).
    let workers = std::env::args()
        .find_map(|a| a.strip_prefix("workers=").and_then(|n| n.parse::<NonZeroUsize>().ok()))
        .unwrap_or(NonZeroUsize::MIN);
    let asr = AsrConfig::default();
    println!("speech path under load ({}), counts {counts:?}", std::env::consts::ARCH);

    let ko: Arc<dyn Engine> = load_engine(&asr, attendant::asr::EngineKind::Vosk, Language::Ko).expect("Korean Vosk model (make setup)");
    let directory = Arc::new(store(Language::Ko, &["김민준", "이서연", "박지훈", "최지우", "빵집", "정육점", "고객 센터", "안내 데스크"]));
    let speech = Arc::new(StoreSpeech::build(directory, ko, Thresholds::default()).expect("ko speech"));
    let ko_clips: Vec<Arc<Vec<i16>>> = clips("vosk").into_iter().map(Arc::new).collect();
    // First, before other stages leave freed memory for the allocator to reuse.
    let held = held_per_call(&speech, &ko_clips[0], 50);
    vosk_baseline(&asr, speech.grammar().source_text(), &ko_clips);
    profile(&speech, &ko_clips);
    for &n in &counts {
        load(&speech, &ko_clips, n, workers, held);
    }
    drop(speech);

    let en: Arc<dyn Engine> = load_engine(&asr, attendant::asr::EngineKind::Sphinx, Language::En).expect("PocketSphinx en-us (make setup)");
    let directory = Arc::new(store(
        Language::En,
        &["Sophie Martin", "Hervé Prodhomme", "Paul Martin", "Julie Dubois", "The bakery", "The hardware department", "Customer service"],
    ));
    let speech = Arc::new(StoreSpeech::build(directory, en, Thresholds::default()).expect("en speech"));
    let en_clips: Vec<Arc<Vec<i16>>> = clips("sphinx").into_iter().map(Arc::new).collect();
    let held = held_per_call(&speech, &en_clips[0], 50);
    profile(&speech, &en_clips);
    for &n in &counts {
        load(&speech, &en_clips, n, workers, held);
    }
}
