//! Replay fidelity: what the engine is given, and what it answers, depend only
//! on the utterance, never on what the engine or a pooled decoder did before.

use std::sync::Arc;

use attendant::asr::Engine;
use attendant::asr::sphinx::SphinxEngine;
use attendant::directory::Directory;
use attendant::matching::Thresholds;
use attendant::replay::input;
use attendant::speech::endpoint::EndpointSettings;
use attendant::speech::understand::{StoreSpeech, understand_recording};

fn corpus() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/qa/en")
}

fn directory() -> Arc<Directory> {
    Arc::new(input::load_directory(&corpus().join("directory.json")).expect("corpus directory"))
}

fn speech() -> StoreSpeech {
    let engine: Arc<dyn Engine> = Arc::new(SphinxEngine::from_manifest().expect("en-us model"));
    StoreSpeech::build(directory(), engine, Thresholds::default()).expect("speech")
}

/// PocketSphinx keeps channel parameters (the noise level of its spectral
/// noise removal) from one utterance to the next of a decoder; pooled decoders
/// must not let one call's line noise change another call's recognition.
#[test]
fn a_pooled_decoder_decodes_an_utterance_as_a_fresh_one_does() {
    let files = [
        "sophie-martin-1dd901cb.en-us_f3.snr20.loss0.wav",
        "customer-service-9219698c.en-gb-x-rp_m3.snr10.loss0.wav",
        "claire-petit-a6e5a166.en-gb-x-rp_m3.snr30.loss0.wav",
    ];
    let endpoint = EndpointSettings::default();
    let pcm: Vec<Vec<i16>> = files
        .iter()
        .map(|f| input::read_wav(&corpus().join(f)).expect("wav"))
        .collect();
    // Each file alone, with a decoder that decoded nothing before.
    let fresh: Vec<_> = pcm
        .iter()
        .map(|p| understand_recording(&speech(), &endpoint, p).expect("understood"))
        .collect();
    // The same files in turn through one engine (one pooled decoder), twice,
    // in two orders.
    let shared = speech();
    for order in [[0, 1, 2, 0, 1, 2], [2, 1, 0, 2, 1, 0]] {
        for i in order {
            let again = understand_recording(&shared, &endpoint, &pcm[i]).expect("understood");
            assert_eq!(again, fresh[i], "{} after other utterances", files[i]);
        }
    }
}

/// The QA corpus both ways: each recording placed as a real call (baresip,
/// PCMU, several calls at once) to an attendant whose store holds the
/// corpus's directory and records its calls, and replayed offline. The calls'
/// own recordings give their decisions: live and offline agree on at least
/// 98 % of the recordings, every difference says where the paths parted, and
/// each call's recording replays to the decision the call made, cut for cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qa_corpus_decides_the_same_live_and_offline() {
    both_ways(&corpus(), 2, 0.98).await;
}

/// The same on any corpus (the measurement of docs/replay-fidelity.md):
/// `ATTENDANT_FIDELITY_CORPUS=DIR ATTENDANT_FIDELITY_JOBS=4 cargo nextest run
/// --test replay_fidelity --run-ignored only`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: needs ATTENDANT_FIDELITY_CORPUS"]
async fn a_corpus_decides_the_same_live_and_offline() {
    let dir = std::env::var_os("ATTENDANT_FIDELITY_CORPUS").expect("ATTENDANT_FIDELITY_CORPUS=DIR");
    let jobs = std::env::var("ATTENDANT_FIDELITY_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(4);
    both_ways(std::path::Path::new(&dir), jobs, 0.98).await;
}

mod common;

async fn both_ways(corpus: &std::path::Path, jobs: usize, min_agreement: f64) {
    use attendant::directory::{Language, NewEntry};
    use attendant::replay::fidelity::sip_report;
    use attendant::replay::run::{ReplayConfig, Replayer};
    use attendant::replay::sip::{SipPlan, replay_over_sip};
    use common::speech::{self, SpeechStore};
    use std::time::Duration;

    let corpus = corpus.to_owned();
    let test = async {
        let directory =
            input::load_directory(&corpus.join("directory.json")).expect("corpus directory");
        let entries: Vec<NewEntry> = directory
            .entries
            .iter()
            .map(|e| NewEntry {
                display_name: e.display_name.clone(),
                aliases: e.aliases.clone(),
                department: e.department.clone(),
                extension: e.extension.clone(),
                target: e.target.clone(),
                fallback: None,
                enabled: true,
            })
            .collect();
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries,
                settings: serde_json::json!({"recording": {"enabled": true}}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let items = input::load(&corpus).expect("corpus");
        let recordings = attendant
            .data_dir
            .join("recordings")
            .join(attendant.store_id.0.to_string());
        let sip = attendant.sip;
        let count = items.len();
        let (report, recordings) = tokio::task::spawn_blocking(move || {
            let plan = SipPlan {
                attendant: sip,
                number: speech::STORE_NUMBER.to_owned(),
                limit: Duration::from_secs(25),
                tail: Duration::from_secs(4),
                jobs,
            };
            let mut outcomes = Vec::new();
            let started = std::time::Instant::now();
            replay_over_sip(&items, &plan, |o| outcomes.push(o));
            let wall = started.elapsed().as_secs_f64();
            // The last calls' recordings are saved as their call tasks end.
            let saved = || std::fs::read_dir(&recordings).map_or(0, |d| d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count());
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while saved() < items.len() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            let order: std::collections::HashMap<String, usize> = items
                .iter()
                .enumerate()
                .map(|(i, item)| (item.id.clone(), i))
                .collect();
            outcomes.sort_by_key(|o| order[&o.id]);
            (
                sip_report(&items, outcomes, Some(&recordings), wall, plan.jobs).expect("report"),
                recordings,
            )
        })
        .await
        .expect("replay-sip");
        let text = attendant::replay::fidelity::text(&report);
        println!("{text}");
        if let Some(path) = std::env::var_os("ATTENDANT_FIDELITY_JSON") {
            std::fs::write(path, serde_json::to_string_pretty(&report).expect("json"))
                .expect("write report");
        }
        let agreement = report.agreement.clone().expect("recordings read");
        assert_eq!(
            agreement.compared, count,
            "every call recorded and matched:\n{text}"
        );
        assert!(
            agreement.share >= min_agreement,
            "live and offline agree on {:.1} %:\n{text}",
            agreement.share * 100.0
        );
        assert!(
            report.differences.iter().all(|d| !d.why.is_empty()),
            "{text}"
        );
        // Each recorded call replays to its own decision, cut for cut.
        let recorded = input::load(&recordings).expect("recordings");
        assert_eq!(recorded.len(), count);
        let engine: Arc<dyn Engine> = Arc::new(SphinxEngine::from_manifest().expect("en-us model"));
        let replayed = Replayer::with_engines([engine]).run(
            &recorded,
            &ReplayConfig::default(),
            &indicatif::ProgressBar::hidden(),
        );
        // A note about a cut means replay could not re-cut as the call did;
        // "no utterance" notes only say why a call heard nothing.
        let cut_notes = |i: &attendant::replay::run::ItemResult| {
            i.notes
                .iter()
                .filter(|n| n.starts_with("recognition"))
                .cloned()
                .collect::<Vec<_>>()
        };
        let reproduced = replayed
            .items
            .iter()
            .filter(|i| {
                i.error.is_none()
                    && Some(&i.decision) == i.live_decision.as_ref()
                    && cut_notes(i).is_empty()
            })
            .count();
        println!(
            "recorded calls replayed to their live decision, cut for cut: {reproduced}/{count}"
        );
        for item in &replayed.items {
            assert_eq!(item.error, None, "{}", item.id);
            assert_eq!(
                Some(&item.decision),
                item.live_decision.as_ref(),
                "{}: {:?}",
                item.id,
                item.notes
            );
            assert!(cut_notes(item).is_empty(), "{}: {:?}", item.id, item.notes);
        }
        attendant.stop().await;
        drop(target);
    };
    tokio::time::timeout(Duration::from_secs(1500), test)
        .await
        .expect("test took too long");
}
