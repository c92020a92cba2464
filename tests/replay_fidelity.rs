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
    let text = std::fs::read(corpus().join("directory.json")).expect("corpus directory");
    Arc::new(serde_json::from_slice(&text).expect("directory JSON"))
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
    let pcm: Vec<Vec<i16>> = files.iter().map(|f| input::read_wav(&corpus().join(f)).expect("wav")).collect();
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
