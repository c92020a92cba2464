//! Fuzz target `directory_csv`: the body is `attendant::fuzz_targets::directory_csv`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/directory_csv/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::directory_csv(data));
