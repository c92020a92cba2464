//! Fuzz target `sip_message`: the body is `attendant::fuzz_targets::sip_message`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/sip_message/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::sip_message(data));
