//! Fuzz target `sdp`: the body is `attendant::fuzz_targets::sdp`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/sdp/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::sdp(data));
