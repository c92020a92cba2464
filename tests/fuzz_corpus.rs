//! Replays the committed fuzz corpora (fuzz/corpus/<target>/, minimised with
//! `cargo fuzz cmin`, crash reproducers included) through the same functions
//! the fuzz targets run: a parser that panics again on any of them fails here.

use std::path::Path;

use attendant::fuzz_targets::TARGETS;

#[test]
fn every_corpus_input_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut replayed = 0;
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let input = std::fs::read(&path).expect("read corpus input");
            let outcome = std::panic::catch_unwind(|| target(&input));
            assert!(outcome.is_ok(), "target {name} panicked on {}", path.display());
            replayed += 1;
        }
        // An empty folder would make this test pass without testing anything.
        assert!(replayed > 0, "corpus of {name} is empty");
    }
}
