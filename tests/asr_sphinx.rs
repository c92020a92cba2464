//! PocketSphinx through the `Engine` trait: the English demo store's spoken names
//! (telephone-channel fixtures) are recognised with its grammar; words missing
//! from the dictionary get G2P pronunciations; unpronounceable words (quotes,
//! backslashes) are reported while the rest of the grammar still loads.

mod asr_common;

use asr_common::*;
use attendant::asr::sphinx::SphinxEngine;
use attendant::asr::{Engine, GrammarSpec};

#[test]
fn recognises_demo_store_fixtures() {
    let engine = SphinxEngine::from_manifest().expect("run scripts/fetch-models.sh");
    let grammar = engine.compile_grammar(&GrammarSpec::from_directory(&demo_store_en())).expect("grammar");
    eprintln!("guessed: {:?}", grammar.guessed);
    eprintln!("rejected: {:?}", grammar.rejected);
    let _results = run_all(&engine, &grammar, &fixtures("sphinx"));
}
