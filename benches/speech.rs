//! The live speech path under load, in one process: N concurrent calls each push
//! fixture audio in real time (20 ms frames: 1 s of silence, a spoken name, 1.5 s
//! of silence) through their own `Endpointer`, and each utterance is decoded by
//! `StoreSpeech::recognize` and decided by `StoreSpeech::decide` on the blocking
//! pool, exactly as the runtime's call task does. Only the endpointer runs while
//! the caller is silent; the engine decodes once per utterance.
//!
//! Per engine and N it prints: end-of-speech-to-decision latency (p50, p95; the
//! end of speech is when the endpointer declares it, i.e. after the configured
//! end-of-speech silence), CPU time used per wall second (cores busy), calls per
//! busy core, how late the 20 ms frames were delivered (p95), and RSS per call.
//! A plain single-stream libvosk loop (the `vosk` crate alone) runs in the same
//! process as the baseline. `cargo bench --bench speech [-- N...]`.
//!
//! The runtime is pinned to one worker thread and one blocking thread, so the
//! figures are for one core's worth of threads (the machine itself has two).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use attendant::asr::Engine;
use attendant::asr::vosk::json_string_bodies;
use attendant::config::AsrConfig;
use attendant::directory::{Directory, DirectoryVersion, Entry, EntryId, Language, Store, StoreId, TransferTarget};
use attendant::matching::{Decision, Thresholds};
use attendant::speech::endpoint::{EndpointEvent, EndpointSettings, Endpointer};
use attendant::speech::registry::load_engine;
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

/// One call's speech phase: frames in real time through the endpointer, the
/// utterance decoded on the blocking pool. Returns (end of speech to decision,
/// frame lateness samples, whether the decision names an entry).
async fn call(speech: Arc<StoreSpeech>, clip: Arc<Vec<i16>>, settings: EndpointSettings, offset: Duration) -> (Option<Duration>, Vec<Duration>, bool) {
    tokio::time::sleep(offset).await;
    let mut endpointer = Endpointer::new(settings).expect("endpointer");
    let mut audio = vec![0i16; 8000];
    audio.extend_from_slice(&clip);
    audio.extend(std::iter::repeat_n(0i16, 12_000));
    let start = tokio::time::Instant::now();
    let mut lateness = Vec::new();
    for (i, frame) in audio.chunks(160).enumerate() {
        let due = start + Duration::from_millis(20 * i as u64);
        tokio::time::sleep_until(due).await;
        lateness.push(tokio::time::Instant::now().saturating_duration_since(due));
        for event in endpointer.push(frame).expect("push") {
            if let EndpointEvent::Utterance(utterance) = event {
                let ended = Instant::now();
                let speech = speech.clone();
                let decision = tokio::task::spawn_blocking(move || {
                    let recognition = speech.recognize(&utterance.pcm).expect("recognize");
                    speech.decide(&recognition)
                })
                .await
                .expect("decode task");
                let named = !matches!(decision, Decision::NoMatch);
                return (Some(ended.elapsed()), lateness, named);
            }
        }
    }
    (None, lateness, false)
}

fn load(speech: &Arc<StoreSpeech>, clips: &[Arc<Vec<i16>>], n: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).max_blocking_threads(1).enable_all().build().expect("runtime");
    let settings = EndpointSettings::default();
    let rss0 = rss_mib();
    // Memory a call's speech state holds (endpointer: VAD network and buffers).
    let held: Vec<Endpointer> = (0..n).map(|_| Endpointer::new(settings.clone()).expect("endpointer")).collect();
    let per_call_mib = (rss_mib() - rss0) / n as f64;
    drop(held);
    let cycle = Duration::from_millis(2500);
    let (cpu0, wall0) = (cpu_time(), Instant::now());
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                // Calls arrive spread over one utterance cycle, as independent callers do.
                let offset = cycle * i as u32 / n as u32;
                tokio::spawn(call(speech.clone(), clips[i % clips.len()].clone(), settings.clone(), offset))
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
        "{:>6?} N={n:>3}  decided {:>3}/{n} (named {named:>3})  end-of-speech->decision p50 {:>6.1} ms p95 {:>6.1} ms  cores busy {:.2}  calls/busy core {:>5.0}  frame lateness p95 {:>5.1} ms  RSS/call {:.2} MiB",
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

/// The plain single-stream libvosk loop: one recognizer at a time over the clips.
fn vosk_baseline(asr: &AsrConfig, grammar_json: &str, clips: &[Arc<Vec<i16>>]) {
    vosk::set_log_level(vosk::LogLevel::Error);
    let manifest_dir = asr.manifest_dir.clone().unwrap_or_else(attendant::asr::models::default_manifest_dir);
    let deps = asr.deps_dir.clone().unwrap_or_else(attendant::asr::models::default_deps_dir);
    let manifest = attendant::asr::models::ModelManifest::find(&manifest_dir, attendant::asr::EngineKind::Vosk, Language::Ko).expect("manifest");
    let dir = manifest.installed_dir(&deps).expect("model installed");
    let model = vosk::Model::new(dir.to_str().expect("utf-8")).expect("model");
    let phrases = json_string_bodies(grammar_json).expect("phrases");
    let mut busy = Duration::ZERO;
    let mut latencies = Vec::new();
    let mut audio = 0usize;
    for clip in clips {
        let mut recognizer = vosk::Recognizer::new_with_grammar(&model, 8000.0, &phrases).expect("recognizer");
        recognizer.set_max_alternatives(5);
        let start = Instant::now();
        for frame in clip.chunks(160) {
            recognizer.accept_waveform(frame).expect("accept");
        }
        let last = Instant::now();
        let _ = recognizer.final_result();
        latencies.push(last.elapsed());
        busy += start.elapsed();
        audio += clip.len();
    }
    latencies.sort();
    println!(
        "baseline: plain libvosk loop, one stream  RTF {:.4}  final_result p50 {:.1} ms p95 {:.1} ms  ({} clips)",
        busy.as_secs_f64() / (audio as f64 / 8000.0),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95)),
        clips.len()
    );
}

fn main() {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() { vec![10, 50, 100] } else { counts };
    let asr = AsrConfig::default();
    println!("speech path under load ({}), counts {counts:?}", std::env::consts::ARCH);

    let ko: Arc<dyn Engine> = load_engine(&asr, attendant::asr::EngineKind::Vosk, Language::Ko).expect("Korean Vosk model (make setup)");
    let directory = Arc::new(store(Language::Ko, &["김민준", "이서연", "박지훈", "최지우", "빵집", "정육점", "고객 센터", "안내 데스크"]));
    let speech = Arc::new(StoreSpeech::build(directory, ko, Thresholds::default()).expect("ko speech"));
    let ko_clips: Vec<Arc<Vec<i16>>> = clips("vosk").into_iter().map(Arc::new).collect();
    vosk_baseline(&asr, speech.grammar().source_text(), &ko_clips);
    for &n in &counts {
        load(&speech, &ko_clips, n);
    }
    drop(speech);

    let en: Arc<dyn Engine> = load_engine(&asr, attendant::asr::EngineKind::Sphinx, Language::En).expect("PocketSphinx en-us (make setup)");
    let directory = Arc::new(store(
        Language::En,
        &["Sophie Martin", "Hervé Prodhomme", "Paul Martin", "Julie Dubois", "The bakery", "The hardware department", "Customer service"],
    ));
    let speech = Arc::new(StoreSpeech::build(directory, en, Thresholds::default()).expect("en speech"));
    let en_clips: Vec<Arc<Vec<i16>>> = clips("sphinx").into_iter().map(Arc::new).collect();
    for &n in &counts {
        load(&speech, &en_clips, n);
    }
}
