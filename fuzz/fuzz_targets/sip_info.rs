//! Fuzz target `sip_info`: the body is `attendant::fuzz_targets::sip_info`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/sip_info/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::sip_info(data));
