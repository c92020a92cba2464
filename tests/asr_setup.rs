//! The ASR set-up scripts, offline: fetch-models.sh leaves an intact install
//! alone, refuses a corrupt one and an archive without a published sha256, and
//! rejects unknown names; make-fixtures.py regenerates the committed audio byte
//! for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deps() -> PathBuf {
    attendant::asr::models::default_deps_dir()
}

fn fetch(deps: &Path, args: &[&str]) -> Output {
    Command::new(root().join("scripts/fetch-models.sh"))
        .arg("--deps")
        .arg(deps)
        .args(args)
        .output()
        .expect("bash runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn intact_install_is_left_alone() {
    let out = fetch(&deps(), &["libvosk", "vosk-ko"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("libvosk: ok (already installed"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("vosk-ko: ok (already installed"),
        "{}",
        text(&out)
    );
}

#[test]
fn corrupt_library_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let vosk = tmp.path().join("vosk");
    std::fs::create_dir_all(&vosk).expect("mkdir");
    std::fs::copy(deps().join("vosk/.installed"), vosk.join(".installed")).expect("stamp");
    let mut lib = std::fs::read(deps().join("vosk/libvosk.so")).expect("libvosk installed");
    lib[1000] ^= 0xff;
    std::fs::write(vosk.join("libvosk.so"), lib).expect("write");

    let out = fetch(tmp.path(), &["libvosk"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("libvosk: ERROR") && message.contains("corrupt"),
        "{message}"
    );
    assert!(
        message.contains("run this script again to reinstall"),
        "{message}"
    );
}

#[test]
fn missing_required_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let vosk = tmp.path().join("vosk");
    std::fs::create_dir_all(&vosk).expect("mkdir");
    std::fs::copy(deps().join("vosk/.installed"), vosk.join(".installed")).expect("stamp");
    let out = fetch(tmp.path(), &["libvosk"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("libvosk.so is missing"),
        "{}",
        text(&out)
    );
}

#[test]
fn archive_without_sha256_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = fetch(tmp.path(), &["vosk-small-fr"]);
    // Optional item: reported and skipped, the run still succeeds.
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("refusing to install an unverified archive"),
        "{}",
        text(&out)
    );
    assert!(!tmp.path().join("models/vosk-small-fr").exists());
    assert!(
        !tmp.path()
            .join("cache/vosk-model-small-fr-0.22.zip")
            .exists(),
        "nothing downloaded"
    );
}

#[test]
fn unknown_name_is_rejected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = fetch(tmp.path(), &["no-such-model"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("no manifest named no-such-model"),
        "{}",
        text(&out)
    );
}

#[test]
fn fixtures_regenerate_identically() {
    let out = Command::new(root().join("scripts/make-fixtures.py"))
        .arg("--check")
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("fixtures are up to date"),
        "{}",
        text(&out)
    );
}
