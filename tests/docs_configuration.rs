//! The configuration reference cannot drift: `docs/configuration.md`, the
//! commented example `config/attendant.example.toml` and the configuration
//! `attendant check-config` prints name exactly the same keys.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Whether `word` is a TOML bare key of the shape our configuration uses.
fn is_key(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// `section.key` for every key the example shows, set or commented out
/// (`# key = value` under a `[section]` or a commented `# [section]`).
fn example_keys(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        let line = line.strip_prefix('#').map(str::trim_start).unwrap_or(line);
        if let Some(header) = line.strip_prefix("[[").and_then(|rest| rest.split_once("]]")) {
            if is_key(header.0) {
                section = header.0.to_owned();
            }
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
            if is_key(header.0) {
                section = header.0.to_owned();
            }
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if is_key(key) && !section.is_empty() {
                keys.insert(format!("{section}.{key}"));
            }
        }
    }
    keys
}

/// The keys of the reference table: a first column holding `` `section.key` ``.
fn documented_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_owned())
        .filter(|key| is_key(key) && key.contains('.'))
        .collect()
}

/// Leaf keys of a TOML value as `a.b.c`; an array of tables contributes the
/// keys of its tables under its own name; inline maps (`asr.engines`) are leaves.
fn leaf_keys(prefix: &str, value: &toml::Value, keys: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) if prefix != "asr.engines" => {
            for (key, value) in table {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                leaf_keys(&path, value, keys);
            }
        }
        toml::Value::Array(items) if items.iter().all(toml::Value::is_table) && !items.is_empty() => {
            for item in items {
                leaf_keys(prefix, item, keys);
            }
        }
        _ => {
            keys.insert(prefix.to_owned());
        }
    }
}

fn difference(left: &BTreeSet<String>, right: &BTreeSet<String>) -> Vec<String> {
    left.difference(right).cloned().collect()
}

#[test]
fn the_reference_page_and_the_example_name_the_same_keys() {
    let example = example_keys(&read("config/attendant.example.toml"));
    let documented = documented_keys(&read("docs/configuration.md"));
    assert!(example.len() > 40, "the example parser found only {example:?}");
    assert_eq!(
        (difference(&example, &documented), difference(&documented, &example)),
        (vec![], vec![]),
        "(keys in the example but not in docs/configuration.md, keys documented but not in the example)"
    );
}

#[test]
fn every_key_check_config_prints_is_in_the_example() {
    let output = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("check-config")
        .output()
        .expect("running attendant check-config");
    assert!(output.status.success(), "check-config failed: {}", String::from_utf8_lossy(&output.stderr));
    let printed: toml::Value = toml::from_str(&String::from_utf8_lossy(&output.stdout))
        .unwrap_or_else(|error| panic!("check-config's output is not TOML: {error}"));
    let mut keys = BTreeSet::new();
    leaf_keys("", &printed, &mut keys);
    // Printed as the parsed address rather than the `[pbx]` table; empty lists of tables have no keys.
    let keys: BTreeSet<String> = keys
        .into_iter()
        .map(|key| if key == "pbx" { "pbx.address".to_owned() } else { key })
        .filter(|key| key != "registration" && key != "trunk")
        .collect();
    let example = example_keys(&read("config/attendant.example.toml"));
    assert_eq!(difference(&keys, &example), Vec::<String>::new(), "printed by check-config but not in the example");
}
