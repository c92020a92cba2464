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

/// A loopback HTTP server (python3's) serving `dir`; killed on drop.
struct HttpServer {
    child: std::process::Child,
    port: u16,
}

impl HttpServer {
    fn serve(dir: &Path) -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "http.server did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        HttpServer { child, port }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a zip at `path` holding `members` (name, contents), with python3's zipfile.
fn make_zip(path: &Path, members: &[(&str, &str)]) {
    let script = "import sys, zipfile, json\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    for n, c in json.loads(sys.argv[2]): z.writestr(n, c)\n";
    let members = serde_json::to_string(members).expect("json");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(members)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", text(&out));
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_owned()
}

fn url_manifest(name: &str, port: u16, file: &str) -> String {
    format!(
        "name = \"{name}\"\nengine = \"vosk\"\nkind = \"model\"\nlanguage = \"fr\"\n\
         install_dir = \"models/{name}\"\nrequired = false\n\n[source]\n\
         url = \"http://127.0.0.1:{port}/{file}\"\nfile = \"{file}\"\nsha256 = \"\"\nsize = 0\n\n\
         [extract]\nstrip = \"m-1/\"\n\n[[check]]\npath = \"am/final.mdl\"\n"
    )
}

/// `--pin` (the French model's path: a URL with no published checksum) fills
/// the manifest from a download whose contents pass the checks, after which
/// an ordinary run installs it verified; a pinned manifest is never re-pinned,
/// and an archive without the model's files is refused and pins nothing.
#[test]
fn unpinned_url_model_is_pinned_once_then_verified() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (www, models, deps) = (tmp.path().join("www"), tmp.path().join("models"), tmp.path().join("deps"));
    for dir in [&www, &models] {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    make_zip(&www.join("good.zip"), &[("m-1/am/final.mdl", "acoustic model"), ("m-1/conf/model.conf", "x")]);
    make_zip(&www.join("bad.zip"), &[("m-1/README", "not a model")]);
    let server = HttpServer::serve(&www);
    std::fs::write(models.join("good.toml"), url_manifest("good", server.port, "good.zip")).expect("write");
    std::fs::write(models.join("bad.toml"), url_manifest("bad", server.port, "bad.zip")).expect("write");
    let run = |args: &[&str]| {
        let mut all = vec!["--models", models.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        fetch(&deps, &all)
    };

    // Before pinning, an ordinary run refuses the item and downloads nothing.
    let out = run(&["good"]);
    assert!(text(&out).contains("refusing to install an unverified archive"), "{}", text(&out));

    let out = run(&["--pin", "good"]);
    assert!(out.status.success(), "{}", text(&out));
    let digest = sha256sum(&www.join("good.zip"));
    let size = std::fs::metadata(www.join("good.zip")).expect("zip").len();
    let manifest = std::fs::read_to_string(models.join("good.toml")).expect("read");
    assert!(manifest.contains(&format!("sha256 = \"{digest}\"")), "{manifest}");
    assert!(manifest.contains(&format!("size = {size}\n")), "{manifest}");
    assert!(!deps.join("models/good.pin-probe").exists(), "the probe extraction is removed");

    let out = run(&["good"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("good: installed into"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(deps.join("models/good/am/final.mdl")).expect("installed"),
        "acoustic model"
    );

    let out = run(&["--pin", "good"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("already pinned"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(models.join("good.toml")).expect("read"), manifest);

    let before = std::fs::read_to_string(models.join("bad.toml")).expect("read");
    let out = run(&["--pin", "bad"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("am/final.mdl is missing"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(models.join("bad.toml")).expect("read"), before);
    assert!(!deps.join("cache/bad.zip").exists(), "a refused archive is not kept");
    drop(server);
}
