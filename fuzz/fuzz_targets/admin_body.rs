//! Fuzz target `admin_body`: the body is `attendant::fuzz_targets::admin_body`, which tests/fuzz_corpus.rs
//! also replays over fuzz/corpus/admin_body/ and fuzz/seeds/admin_body/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| attendant::fuzz_targets::admin_body(data));
