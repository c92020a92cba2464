//! The module map of docs/architecture.md holds in the code: each module's
//! sources name none of the crates and modules it must not use (read from the
//! sources, comments excluded). `flow`'s own, stricter test (no clock reads
//! either) is `src/flow/tests/isolation.rs`.

use std::path::{Path, PathBuf};

/// (module folder under src/, forbidden patterns). A pattern is an external
/// crate path (`sqlx::`) or a module of this crate (`crate::runtime`).
const RULES: &[(&str, &[&str])] = &[
    ("flow", &["tokio::", "rsipstack::", "sqlx::", "axum::", "crate::sip", "crate::runtime", "crate::media", "crate::directory::store", "crate::replay", "crate::recording", "crate::admin", "crate::ops"]),
    ("sip", &["sqlx::", "axum::", "crate::flow", "crate::runtime", "crate::admin", "crate::replay"]),
    ("media", &["rsipstack::", "sqlx::", "axum::", "crate::flow", "crate::sip", "crate::runtime", "crate::admin", "crate::replay"]),
    ("asr", &["rsipstack::", "sqlx::", "axum::", "crate::sip", "crate::runtime", "crate::admin", "crate::replay", "crate::media"]),
    ("matching", &["tokio::", "rsipstack::", "sqlx::", "axum::", "crate::sip", "crate::runtime", "crate::admin", "crate::replay", "crate::media"]),
    ("speech", &["rsipstack::", "sqlx::", "axum::", "crate::sip", "crate::runtime", "crate::admin", "crate::replay"]),
    ("directory", &["rsipstack::", "axum::", "crate::sip", "crate::runtime", "crate::admin", "crate::replay"]),
    ("recording", &["rsipstack::", "sqlx::", "axum::", "crate::replay", "crate::runtime", "crate::sip", "crate::media", "crate::admin"]),
    ("ops", &["rsipstack::", "sqlx::", "axum::", "crate::runtime", "crate::sip", "crate::admin", "crate::flow", "crate::replay"]),
    ("replay", &["sqlx::", "axum::", "crate::runtime", "crate::admin"]),
    ("admin", &["rsipstack::", "crate::replay"]),
    ("runtime", &["axum::", "sqlx::", "rsipstack::"]),
];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The line without its `//` comment (doc comments included: they may name
/// what a module must not use).
fn code_part(line: &str) -> &str {
    line.split_once("//").map_or(line, |(code, _)| code)
}

#[test]
fn every_module_keeps_to_its_row_of_the_map() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, forbidden) in RULES {
        let mut files = Vec::new();
        let folder = src.join(module);
        assert!(folder.is_dir(), "src/{module} is in the map but not in the tree");
        rust_files(&folder, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = code_part(line);
                for pattern in forbidden.iter() {
                    let hit = code.match_indices(pattern).any(|(at, _)| {
                        // `tokio::` must not match `my_tokio::`; `crate::sip` must not match `crate::sip_x`.
                        let before_ok = at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                        let after = &code[at + pattern.len()..];
                        let after_ok = pattern.ends_with("::") || !after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                        before_ok && after_ok
                    });
                    if hit {
                        violations.push(format!("{}:{}: `{pattern}` in `{}`", file.strip_prefix(&src).unwrap().display(), number + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "uses that docs/architecture.md forbids:\n{}", violations.join("\n"));
}

#[test]
fn a_forbidden_use_is_found() {
    // The checker itself: a line using a forbidden module is a hit, a comment naming it is not.
    let line = "use crate::replay::record::RecordingSettings;";
    assert!(code_part(line).contains("crate::replay"));
    assert!(!code_part("//! must not import crate::replay").contains("crate::replay"));
}
