//! Replays the committed fuzz inputs (fuzz/corpus/<target>/, minimised with
//! `cargo fuzz cmin`, crash reproducers included, and the hand-written
//! fuzz/seeds/<target>/) through the same functions the fuzz targets run: a
//! parser that panics again on any of them fails here.

use std::path::Path;

use attendant::fuzz_targets::TARGETS;

#[test]
fn every_corpus_and_seed_input_replays_without_a_panic() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, target) in TARGETS {
        for folder in ["corpus", "seeds"] {
            let dir = fuzz.join(folder).join(name);
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{} missing: {e}", dir.display()));
            let mut replayed = 0;
            for entry in entries {
                let path = entry.expect("fuzz input entry").path();
                let input = std::fs::read(&path).expect("read fuzz input");
                let outcome = std::panic::catch_unwind(|| target(&input));
                assert!(outcome.is_ok(), "target {name} panicked on {}", path.display());
                replayed += 1;
            }
            // An empty folder would make this test pass without testing anything.
            assert!(replayed > 0, "{folder} of {name} is empty");
        }
    }
}

/// The admin_body seeds reach every route, and both outcomes: the hand-written
/// valid bodies are accepted (so the round-trip property runs on them), the
/// invalid ones refused. Named `*_bad*`/`*_unknown*` when they must be refused.
#[test]
fn admin_body_seeds_are_accepted_or_refused_as_named() {
    use attendant::admin::check_request_body;
    use attendant::directory::import::ImportLimits;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/admin_body");
    let now = jiff::Timestamp::from_second(1_795_824_000).unwrap();
    let mut selectors = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&path).unwrap();
        let (&selector, body) = input.split_first().expect("a selector byte");
        selectors.insert(selector % 7);
        let route = match selector % 7 {
            0 => attendant::admin::BodyRoute::CreateStore,
            1 => attendant::admin::BodyRoute::IssueToken,
            2 => attendant::admin::BodyRoute::Entry,
            3 => attendant::admin::BodyRoute::Menu,
            4 => attendant::admin::BodyRoute::Hours,
            5 => attendant::admin::BodyRoute::Import(attendant::directory::import::Format::Csv),
            _ => attendant::admin::BodyRoute::Import(attendant::directory::import::Format::Json),
        };
        let outcome = check_request_body(route, body, now, ImportLimits::default());
        let refused = name.contains("_bad") || name.contains("_unknown");
        assert_eq!(outcome.is_err(), refused, "{name}: {outcome:?}");
    }
    assert_eq!(selectors.len(), 7, "every route has a seed: {selectors:?}");
}
