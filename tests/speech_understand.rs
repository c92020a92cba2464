//! The shared speech path (endpointer → PocketSphinx → matcher → decision) takes a
//! spoken name padded with silence, as a caller says it, to the right directory entry.

mod asr_common;

use std::sync::Arc;

use attendant::asr::Engine;
use attendant::asr::sphinx::SphinxEngine;
use attendant::matching::{Decision, Thresholds};
use attendant::speech::endpoint::EndpointSettings;
use attendant::speech::understand::{StoreSpeech, understand_recording};

#[test]
fn a_spoken_name_between_silences_reaches_its_entry() {
    let engine: Arc<dyn Engine> = Arc::new(SphinxEngine::from_manifest().expect("run make setup"));
    let directory = Arc::new(asr_common::demo_store_en());
    let speech = StoreSpeech::build(directory.clone(), engine, Thresholds::default()).unwrap();
    let fixture = asr_common::fixtures("sphinx")
        .into_iter()
        .find(|f| f.expected == "sophie martin")
        .expect("a Sophie Martin fixture");
    let mut audio = vec![0i16; 8000];
    audio.extend(asr_common::samples(&fixture));
    audio.extend(vec![0i16; 8000]);
    let understood = understand_recording(&speech, &EndpointSettings::default(), &audio).unwrap();
    assert_eq!(understood.len(), 1, "{understood:?}");
    let sophie = directory.entries.iter().find(|e| e.display_name == "Sophie Martin").unwrap().id;
    assert!(
        matches!(understood[0].decision, Decision::Transfer(id) | Decision::Confirm(id) if id == sophie),
        "{:?}",
        understood[0]
    );
}

#[test]
fn silence_is_no_utterance() {
    let engine: Arc<dyn Engine> = Arc::new(SphinxEngine::from_manifest().expect("run make setup"));
    let speech = StoreSpeech::build(Arc::new(asr_common::demo_store_en()), engine, Thresholds::default()).unwrap();
    assert!(understand_recording(&speech, &EndpointSettings::default(), &vec![0i16; 8000 * 3]).unwrap().is_empty());
}
