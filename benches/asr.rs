//! ASR costs per engine on the committed fixtures: model load time and memory,
//! grammar compilation, recognizer creation time and memory, real-time factor
//! (decode time / audio duration), and a plain single-stream libvosk loop (the
//! `vosk` crate alone, no trait) as baseline. A plain `harness = false` main:
//! `cargo bench --bench asr` prints one table. Single-threaded on purpose: the
//! numbers are per core.

use std::path::Path;
use std::time::{Duration, Instant};

use attendant::asr::sphinx::SphinxEngine;
use attendant::asr::vosk::{VoskEngine, json_string_bodies};
use attendant::asr::{CompiledGrammar, Engine, GrammarSpec, Recognizer};
use attendant::directory::{
    Directory, DirectoryVersion, Entry, EntryId, Language, Store, StoreId, TransferTarget,
};

#[derive(serde::Deserialize)]
struct Fixture {
    file: String,
    engine: String,
}

fn fixtures(engine: &str) -> Vec<Vec<i16>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/names");
    let manifest: Vec<Fixture> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    manifest
        .iter()
        .filter(|f| f.engine == engine)
        .map(|f| {
            let mut reader = hound::WavReader::open(dir.join(&f.file)).expect("wav");
            reader
                .samples::<i16>()
                .map(|s| s.expect("sample"))
                .collect()
        })
        .collect()
}

/// Resident set size of this process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}

fn store(language: Language, names: &[&str]) -> Directory {
    Directory {
        store: Store {
            id: StoreId(1),
            name: "bench".into(),
            number: "1".into(),
            language,
            operator: TransferTarget::Extension("9".into()),
        },
        version: DirectoryVersion(1),
        entries: names
            .iter()
            .enumerate()
            .map(|(i, n)| Entry {
                id: EntryId(i as i64),
                display_name: (*n).into(),
                aliases: vec![],
                department: None,
                extension: None,
                target: TransferTarget::Extension(format!("{i}")),
                fallback: None,
                enabled: true,
            })
            .collect(),
        menu: vec![],
    }
}

const KO_NAMES: &[&str] = &[
    "김민준",
    "이서연",
    "박지훈",
    "최지우",
    "빵집",
    "정육점",
    "고객 센터",
    "안내 데스크",
];
const EN_NAMES: &[&str] = &[
    "Sophie Martin",
    "Hervé Prodhomme",
    "Paul Martin",
    "Julie Dubois",
    "The bakery",
    "The hardware department",
    "Customer service",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Decodes every clip through the trait; returns (decode time, audio time).
fn rtf(engine: &dyn Engine, grammar: &CompiledGrammar, clips: &[Vec<i16>]) -> (Duration, Duration) {
    let mut busy = Duration::ZERO;
    let mut audio = 0usize;
    for clip in clips {
        let mut recognizer = engine.recognizer(grammar).expect("recognizer");
        let start = Instant::now();
        for frame in clip.chunks(160) {
            recognizer.push_audio(frame).expect("push");
        }
        let _ = recognizer.finish().expect("finish");
        busy += start.elapsed();
        audio += clip.len();
    }
    (busy, Duration::from_secs_f64(audio as f64 / 8000.0))
}

fn creation(engine: &dyn Engine, grammar: &CompiledGrammar, n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        drop(engine.recognizer(grammar).expect("recognizer"));
    }
    start.elapsed() / n as u32
}

/// Memory held by `n` live recognizers that have each heard one clip, per recognizer.
fn memory_per_recognizer(
    engine: &dyn Engine,
    grammar: &CompiledGrammar,
    clip: &[i16],
    n: usize,
) -> f64 {
    let before = rss_mib();
    let mut live: Vec<Box<dyn Recognizer>> = Vec::new();
    for _ in 0..n {
        let mut r = engine.recognizer(grammar).expect("recognizer");
        r.push_audio(clip).expect("push");
        live.push(r);
    }
    let per = (rss_mib() - before) / n as f64;
    drop(live);
    per
}

fn vosk_baseline(model_dir: &Path, grammar_json: &str, clips: &[Vec<i16>]) {
    vosk::set_log_level(vosk::LogLevel::Error);
    let phrases = json_string_bodies(grammar_json).expect("phrases");
    let rss0 = rss_mib();
    let start = Instant::now();
    let model = vosk::Model::new(model_dir.to_str().expect("utf-8 path")).expect("model");
    let load = start.elapsed();
    let rss1 = rss_mib();
    let mut busy = Duration::ZERO;
    let mut audio = 0usize;
    for clip in clips {
        let mut rec =
            vosk::Recognizer::new_with_grammar(&model, 8000.0, &phrases).expect("recognizer");
        rec.set_max_alternatives(5);
        let start = Instant::now();
        for frame in clip.chunks(160) {
            rec.accept_waveform(frame).expect("accept");
        }
        let _ = rec.final_result();
        busy += start.elapsed();
        audio += clip.len();
    }
    let audio = audio as f64 / 8000.0;
    println!(
        "vosk crate baseline   load {:>7.0} ms  +{:>5.0} MiB  RTF {:.4} ({:.2} s audio)",
        ms(load),
        rss1 - rss0,
        busy.as_secs_f64() / audio,
        audio
    );
}

/// Each part runs in its own process so that its memory figures do not reuse
/// heap freed by the previous part.
const PARTS: &[&str] = &["vosk", "baseline", "sphinx"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep it short then.
    let quick = !args.iter().any(|a| a == "--bench");
    let n = if quick { 5 } else { 200 };
    match args
        .iter()
        .position(|a| a == "--part")
        .and_then(|i| args.get(i + 1))
    {
        Some(part) if part == "vosk" => bench_vosk(quick, n),
        Some(part) if part == "baseline" => {
            let manifest = attendant::asr::models::ModelManifest::find(
                &attendant::asr::models::default_manifest_dir(),
                attendant::asr::EngineKind::Vosk,
                Language::Ko,
            )
            .expect("manifest");
            let dir = manifest
                .installed_dir(&attendant::asr::models::default_deps_dir())
                .expect("installed");
            // Every word of this store is in the model (tests/asr_vosk.rs checks it),
            // so the spec's JSON is what the engine would compile, without a model.
            let spec = GrammarSpec::from_directory(&store(Language::Ko, KO_NAMES));
            let grammar_json = attendant::asr::grammar::vosk_json(&spec.phrases, &spec.carriers);
            vosk_baseline(&dir, &grammar_json, &fixtures("vosk"));
        }
        Some(part) if part == "sphinx" => bench_sphinx(n),
        Some(part) => panic!("unknown part {part}"),
        None => {
            let exe = std::env::current_exe().expect("own path");
            for part in PARTS {
                let mut cmd = std::process::Command::new(&exe);
                cmd.args(["--part", part]);
                if !quick {
                    cmd.arg("--bench");
                }
                let status = cmd.status().expect("run part");
                assert!(status.success(), "part {part} failed");
            }
        }
    }
}

fn bench_vosk(quick: bool, n: usize) {
    // Vosk (Korean model).
    let ko_clips = fixtures("vosk");
    let rss0 = rss_mib();
    let start = Instant::now();
    let engine = VoskEngine::from_manifest(Language::Ko).expect("run scripts/fetch-models.sh");
    let load = start.elapsed();
    let rss_model = rss_mib() - rss0;
    let start = Instant::now();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&store(Language::Ko, KO_NAMES)))
        .expect("grammar");
    let compile = start.elapsed();
    let create = creation(&engine, &grammar, n);
    let per_rec =
        memory_per_recognizer(&engine, &grammar, &ko_clips[0], if quick { 2 } else { 50 });
    let (busy, audio) = rtf(&engine, &grammar, &ko_clips);
    println!(
        "vosk  (trait)         load {:>7.0} ms  +{:>5.0} MiB  compile {:>6.2} ms  recognizer {:>7.3} ms {:>6.2} MiB  RTF {:.4} ({:.2} s audio, {} clips)",
        ms(load),
        rss_model,
        ms(compile),
        ms(create),
        per_rec,
        busy.as_secs_f64() / audio.as_secs_f64(),
        audio.as_secs_f64(),
        ko_clips.len()
    );
}

fn bench_sphinx(n: usize) {
    // PocketSphinx (en-us).
    let en_clips = fixtures("sphinx");
    let rss0 = rss_mib();
    let start = Instant::now();
    let engine = SphinxEngine::from_manifest()
        .expect("run scripts/fetch-models.sh")
        .with_in_grammar();
    let load = start.elapsed();
    let rss_model = rss_mib() - rss0;
    let start = Instant::now();
    let grammar = engine
        .compile_grammar(&GrammarSpec::from_directory(&store(Language::En, EN_NAMES)))
        .expect("grammar");
    let compile = start.elapsed();
    let other = engine
        .compile_grammar(&GrammarSpec::from_directory(&store(
            Language::En,
            &["Sophie Martin", "Paul Martin"],
        )))
        .expect("grammar");
    let create_cached = creation(&engine, &grammar, n);
    // Alternating grammars forces the pooled decoder to reload its JSGF search.
    let start = Instant::now();
    for i in 0..n {
        drop(
            engine
                .recognizer(if i % 2 == 0 { &grammar } else { &other })
                .expect("recognizer"),
        );
    }
    let create_switch = start.elapsed() / n as u32;
    // A recognizer with the pool empty builds a new decoder: that is its cost.
    let rss_before = rss_mib();
    let start = Instant::now();
    let extra: Vec<_> = (0..3)
        .map(|_| engine.recognizer(&grammar).expect("recognizer"))
        .collect();
    let new_decoder = start.elapsed() / 3;
    let decoder_mib = (rss_mib() - rss_before) / 3.0;
    drop(extra);
    let (busy, audio) = rtf(&engine, &grammar, &en_clips);
    println!(
        "sphinx (trait)        load {:>7.0} ms  +{:>5.0} MiB  compile {:>6.2} ms (incl. espeak-ng G2P)  recognizer {:>7.3} ms pooled, {:>7.3} ms grammar switch, {:>6.1} ms / {:>5.1} MiB new decoder  RTF {:.4} ({:.2} s audio, {} clips)",
        ms(load),
        rss_model,
        ms(compile),
        ms(create_cached),
        ms(create_switch),
        ms(new_decoder),
        decoder_mib,
        busy.as_secs_f64() / audio.as_secs_f64(),
        audio.as_secs_f64(),
        en_clips.len()
    );
    // The in-grammar confidence's cost: the same clips, same run, decoded by
    // an engine without the free phone-loop pass (the plain decode).
    let plain = SphinxEngine::from_manifest()
        .expect("model")
        .without_in_grammar();
    let plain_grammar = plain
        .compile_grammar(&GrammarSpec::from_directory(&store(Language::En, EN_NAMES)))
        .expect("grammar");
    let (plain_busy, plain_audio) = rtf(&plain, &plain_grammar, &en_clips);
    let with = busy.as_secs_f64() / audio.as_secs_f64();
    let without = plain_busy.as_secs_f64() / plain_audio.as_secs_f64();
    println!(
        "sphinx in-grammar     RTF {with:.4} with the phone-loop pass, {without:.4} plain: x{:.2}",
        with / without
    );
}
