//! The flow stays sans-IO: its sources name none of the IO crates or IO modules, and never read the clock.

use std::path::{Path, PathBuf};

/// Crates the flow must not use: the IO side drives it instead.
const IO_CRATES: [&str; 4] = ["tokio", "rsipstack", "sqlx", "axum"];

/// Modules of this crate that do IO (or wrap an IO crate), below `crate::`.
const IO_MODULES: [&str; 4] = ["sip", "runtime", "media", "directory::store"];

/// Clock reads: time is passed in, never read.
const CLOCK_READS: [(&str, &str); 2] = [("Instant", "now"), ("SystemTime", "now")];

/// The one file allowed to read the clock, once, as the fake clock's origin.
const CLOCK_ORIGIN: &str = "tests/harness.rs";

/// Forbidden uses found in `source`, as (line number, line). The patterns are
/// assembled at run time so that this file does not match itself.
fn forbidden_uses(source: &str, clock_allowed: bool) -> Vec<(usize, String)> {
    let mut patterns: Vec<String> = IO_CRATES
        .iter()
        .flat_map(|krate| {
            [
                format!("{krate}::"),
                format!("use {krate}"),
                format!("extern crate {krate}"),
            ]
        })
        .chain(IO_MODULES.iter().map(|module| format!("crate::{module}")))
        .collect();
    if !clock_allowed {
        patterns.extend(
            CLOCK_READS
                .iter()
                .map(|(ty, function)| format!("{ty}::{function}")),
        );
    }
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            patterns
                .iter()
                .any(|pattern| line.contains(pattern.as_str()))
        })
        .map(|(index, line)| (index + 1, line.trim().to_owned()))
        .collect()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in
        std::fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
    {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn flow_sources_use_no_io_crate_and_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flow");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let names: Vec<_> = files
        .iter()
        .map(|file| file.strip_prefix(&root).expect("under src/flow").to_owned())
        .collect();
    for expected in [
        "mod.rs",
        "call.rs",
        "digits.rs",
        "state.rs",
        "timers.rs",
        "tests/isolation.rs",
    ] {
        assert!(
            names.iter().any(|name| name == Path::new(expected)),
            "{expected} not found in {names:?}"
        );
    }
    let mut found = Vec::new();
    for (file, name) in files.iter().zip(&names) {
        let source = std::fs::read_to_string(file).expect("readable source");
        for (line, text) in forbidden_uses(&source, name == Path::new(CLOCK_ORIGIN)) {
            found.push(format!("src/flow/{}:{line}: {text}", name.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the flow must stay sans-IO:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_what_it_looks_for() {
    let join = |parts: &[&str]| parts.concat();
    let cases = [
        (join(&["use ", "tokio", "::sync::mpsc;"]), false, 1),
        (
            join(&["let t = ", "rsipstack", "::dialog::Dialog::new();"]),
            false,
            1,
        ),
        (join(&["use ", "sqlx", ";"]), false, 1),
        (join(&["fn f(r: ", "axum", "::Router) {}"]), false, 1),
        (join(&["use ", "crate::", "sip::Ua;"]), false, 1),
        (
            join(&["use ", "crate::", "directory::", "store::Pool;"]),
            false,
            1,
        ),
        (join(&["let now = ", "Instant", "::now();"]), false, 1),
        (join(&["let now = ", "Instant", "::now();"]), true, 0),
        (join(&["let now = ", "SystemTime", "::now();"]), false, 1),
        (
            "use crate::directory::Directory;\nuse std::time::Instant;".to_owned(),
            false,
            0,
        ),
        (
            "// the flow imports none of tokio or sqlx".to_owned(),
            false,
            0,
        ),
    ];
    for (source, clock_allowed, expected) in cases {
        assert_eq!(
            forbidden_uses(&source, clock_allowed).len(),
            expected,
            "{source:?}"
        );
    }
}

/// Outer layers of this crate the flow must not import (they drive the flow):
/// the QA tool, the call recorder, the runtime, the admin API, SIP and media.
const OUTER_LAYERS: [&str; 6] = ["replay", "recording", "runtime", "admin", "sip", "media"];

/// Imports of [`OUTER_LAYERS`] in `source`, as (line number, module): plain
/// paths (`crate::replay::…`, `super::super::admin`) and grouped ones
/// (`use crate::{flow, replay::run};`, across lines too).
fn outer_layer_imports(source: &str) -> Vec<(usize, &'static str)> {
    let names_layer = |path: &str| -> Vec<&'static str> {
        OUTER_LAYERS
            .into_iter()
            .filter(|layer| {
                path.strip_prefix(layer)
                    .is_some_and(|after| after.is_empty() || after.starts_with("::") || after.starts_with(';'))
            })
            .collect()
    };
    let mut found = Vec::new();
    // Inside `use crate::{ … }` until its braces close (brace depth).
    let mut group: Option<i64> = None;
    for (index, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        for prefix in ["crate::", "super::super::"] {
            for (at, _) in compact.match_indices(prefix) {
                let rest = &compact[at + prefix.len()..];
                found.extend(names_layer(rest).into_iter().map(|layer| (index + 1, layer)));
                if group.is_none() && rest.starts_with('{') {
                    group = Some(0);
                }
            }
        }
        if let Some(depth) = group.as_mut() {
            let start = compact.find("::{").filter(|_| *depth == 0).map_or(0, |at| at + 2);
            let part = &compact[start..];
            for item in part.split(['{', ',', '}']) {
                found.extend(names_layer(item).into_iter().map(|layer| (index + 1, layer)));
            }
            *depth += part.matches('{').count() as i64 - part.matches('}').count() as i64;
            if *depth <= 0 {
                group = None;
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

#[test]
fn flow_imports_no_outer_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flow");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in &files {
        if file.ends_with("tests/isolation.rs") {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("readable source");
        for (line, layer) in outer_layer_imports(&source) {
            found.push(format!("{}:{line}: imports {layer}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the flow must not import the layers that drive it:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_layer_check_catches_each_way_of_importing() {
    let join = |parts: &[&str]| parts.concat();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (join(&["use ", "crate::", "replay::record::RecordingSettings;"]), vec!["replay"]),
        (join(&["pub recording: ", "crate::", "replay::record::RecordingSettings,"]), vec!["replay"]),
        (join(&["use ", "crate::", "{directory::Directory, ", "replay::run};"]), vec!["replay"]),
        (join(&["use ", "crate::", "{\n    directory::Directory,\n    ", "admin", "::cli,\n};"]), vec!["admin"]),
        (join(&["use ", "super::super::", "runtime::Server;"]), vec!["runtime"]),
        (join(&["use ", "crate::", "sip", ";"]), vec!["sip"]),
        (join(&["let r = ", "crate::", "recording::CallRecorder::new(p);"]), vec!["recording"]),
        // Not imports of a layer: a longer name, a comment, an inner module.
        ("use crate::speech::endpoint::EndpointSettings;".to_owned(), vec![]),
        (join(&["use ", "crate::", "sipping::X;"]), vec![]),
        ("// replay reads what crate::recording writes".to_owned(), vec![]),
        ("use super::state::State;".to_owned(), vec![]),
        ("use crate::{directory::Directory, matching::Decision};".to_owned(), vec![]),
    ];
    for (source, expected) in cases {
        let layers: Vec<&str> = outer_layer_imports(&source).into_iter().map(|(_, l)| l).collect();
        assert_eq!(layers, expected, "{source:?}");
    }
}
