//! CI gate on the committed development subset (fixtures/audio/dev, made by
//! scripts/make-dev-corpus.py; docs/dev-corpus.md): `attendant replay` over each
//! folder, issue 10's figures by request category checked against floors and
//! ceilings. The floors are what the code achieves today on these recordings,
//! less one recording; raise them as recognition improves (a gate that cannot
//! fail is no gate: each bound is within a recording or two of today's result).
//!
//! The categories the replay derives from the directory (a department request
//! asks for a department's own entry; an empty expectation is out of the
//! directory) are checked against the manifest's own `category` labels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use attendant::replay::run::ReplayReport;
use attendant::replay::score::{Category, IssueFigures};

fn corpus(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/audio/dev")
        .join(folder)
}

fn replay(folder: &str) -> ReplayReport {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let html = out.path().join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("replay")
        .arg(corpus(folder))
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{folder}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    // The confusion list plays the recordings from the page, by relative path.
    let wrong = serde_json::from_slice::<ReplayReport>(&std::fs::read(&json).unwrap())
        .unwrap()
        .items
        .iter()
        .filter(|i| {
            i.verdict
                .is_some_and(|v| v != attendant::replay::score::Verdict::Correct)
        })
        .count();
    assert_eq!(page.matches("<audio").count(), wrong, "{folder}");
    assert!(
        page.contains("<polyline"),
        "{folder}: accept-threshold curve"
    );
    serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap()
}

/// The manifest's category counts.
fn manifest_categories(folder: &str) -> BTreeMap<String, usize> {
    let lines: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(corpus(folder).join("manifest.json")).unwrap())
            .unwrap();
    let mut counts = BTreeMap::new();
    for l in lines {
        *counts
            .entry(l["category"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// Floors and ceilings of one folder, in recordings.
struct Gate {
    folder: &'static str,
    names_right_min: usize,
    names_wrong_max: usize,
    rejected_min: usize,
    departments_at_once_min: usize,
    turns_per_call_max: f64,
}

fn check(gate: &Gate, f: &IssueFigures) {
    let g = gate.folder;
    let line = f.line();
    assert!(f.names.right >= gate.names_right_min, "{g}: {line}");
    assert!(f.names.wrong <= gate.names_wrong_max, "{g}: {line}");
    assert!(f.out_of_directory.right >= gate.rejected_min, "{g}: {line}");
    assert!(
        f.departments.right >= gate.departments_at_once_min,
        "{g}: {line}"
    );
    assert!(f.turns_per_call <= gate.turns_per_call_max, "{g}: {line}");
}

fn run_gate(gate: Gate) {
    let report = replay(gate.folder);
    assert!(
        report.items.iter().all(|i| i.error.is_none()),
        "{}: every recording replayed",
        gate.folder
    );
    let want = manifest_categories(gate.folder);
    let f = &report.summary.figures;
    let got: BTreeMap<String, usize> = [
        ("name", f.names.total),
        ("department", f.departments.total),
        ("out_of_directory", f.out_of_directory.total),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(
        got, want,
        "{}: categories as the manifest labels them",
        gate.folder
    );
    for item in &report.items {
        assert!(item.category.is_some(), "{}: {}", gate.folder, item.id);
    }
    assert!(
        report
            .items
            .iter()
            .any(|i| i.category == Some(Category::Department)),
        "{}",
        gate.folder
    );
    check(&gate, f);
}

#[test]
fn dev_english_pocketsphinx() {
    run_gate(Gate {
        folder: "dev-en",
        names_right_min: GATE_DEV_EN.0,
        names_wrong_max: GATE_DEV_EN.1,
        rejected_min: GATE_DEV_EN.2,
        departments_at_once_min: GATE_DEV_EN.3,
        turns_per_call_max: 1.3,
    });
}

#[test]
fn heldout_english_pocketsphinx() {
    run_gate(Gate {
        folder: "heldout-en",
        names_right_min: GATE_HELDOUT_EN.0,
        names_wrong_max: GATE_HELDOUT_EN.1,
        rejected_min: GATE_HELDOUT_EN.2,
        departments_at_once_min: GATE_HELDOUT_EN.3,
        turns_per_call_max: 1.3,
    });
}

#[test]
fn dev_korean_vosk() {
    run_gate(Gate {
        folder: "dev-ko",
        names_right_min: GATE_DEV_KO.0,
        names_wrong_max: GATE_DEV_KO.1,
        rejected_min: GATE_DEV_KO.2,
        departments_at_once_min: GATE_DEV_KO.3,
        turns_per_call_max: 1.3,
    });
}

/// (names routed right ≥, names wrong ≤, out-of-directory rejected ≥,
/// departments at once ≥), from the replay of main's code on 2026-12-03
/// (docs/dev-corpus.md): one recording of slack each way, none where today's
/// count is already at the bottom (the bound then holds today's count).
///
/// | folder | names right | names wrong | rejected | departments at once |
/// |---|---|---|---|---|
/// | dev-en (PocketSphinx) | 9/50 | 16/50 | 8/10 | 1/7 |
/// | heldout-en (PocketSphinx) | 4/25 | 6/25 | 5/7 | 0/4 |
/// | dev-ko (Vosk, Korean) | 0/6 | 3/6 (4/6 after the decision changes) | 2/2 | 1/3 (0/3 in a later run: libvosk does not decode one recording twice alike) |
const GATE_DEV_EN: (usize, usize, usize, usize) = (8, 17, 7, 1);
const GATE_HELDOUT_EN: (usize, usize, usize, usize) = (3, 7, 4, 0);
const GATE_DEV_KO: (usize, usize, usize, usize) = (0, 4, 2, 0);
