//! Fuzz target `rtp`: the body is `attendant::fuzz_targets::rtp`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/rtp/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::rtp(data));
