//! Fuzz target `directory_json`: the body is `attendant::fuzz_targets::directory_json`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/directory_json/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::directory_json(data));
