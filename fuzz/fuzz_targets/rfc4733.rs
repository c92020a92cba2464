//! Fuzz target `rfc4733`: the body is `attendant::fuzz_targets::rfc4733`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/rfc4733/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::rfc4733(data));
