//! Speech end-to-end harness: an attendant whose test store has speech on (real
//! engines: PocketSphinx for English, Vosk for Korean), and baresip callers whose
//! microphone is a WAV built from spoken-name fixtures and silence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use attendant::config::{Config, ConfigOverrides};
use attendant::directory::prompts::{OPTION_KEYS, option_key_file};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::{DirectoryStore, NewEntry, NewStore};
use attendant::directory::{Language, StoreId, TransferTarget};
use attendant::flow::Prompt;
use attendant::runtime::Server;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The number of the speech test store.
pub const STORE_NUMBER: &str = "1000";

/// One directory entry: name, department, extension.
pub fn entry(name: &str, department: Option<&str>, extension: &str) -> NewEntry {
    NewEntry {
        display_name: name.to_string(),
        aliases: vec![],
        department: department.map(str::to_string),
        extension: Some(extension.to_string()),
        target: TransferTarget::Extension(extension.to_string()),
        fallback: None,
        enabled: true,
    }
}

/// The English store (PocketSphinx): two Martins, as in the demo store.
pub fn english_entries() -> Vec<NewEntry> {
    vec![
        entry("Sophie Martin", Some("Bakery"), "201"),
        entry("Paul Martin", Some("Butchery"), "203"),
        entry("Hervé Prodhomme", Some("Hardware"), "202"),
        entry("Julie Dubois", None, "204"),
        entry("Customer service", None, "310"),
    ]
}

/// The Korean store (Vosk's Korean model).
pub fn korean_entries() -> Vec<NewEntry> {
    vec![
        entry("김민준", None, "201"),
        entry("이서연", None, "202"),
        entry("박지훈", None, "203"),
        entry("빵집", None, "301"),
        entry("고객 센터", None, "310"),
    ]
}

/// A speech test store.
pub struct SpeechStore {
    pub language: Language,
    pub entries: Vec<NewEntry>,
    /// Store settings overrides; `speech_enabled` is added.
    pub settings: serde_json::Value,
}

/// A running attendant on a speech store.
pub struct SpeechAttendant {
    pub server: Option<Server>,
    pub sip: SocketAddr,
    pub store: DirectoryStore,
    pub store_id: StoreId,
    pub rtp: super::RtpBlock,
    /// The attendant's data folder (call recordings), inside the test's temp dir.
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

/// Constant-level prompts (every prompt a speech call may play), short so that
/// calls move on quickly, except the 3 s name question; entry names are spoken by espeak-ng from the real texts.
fn write_prompts(dir: &Path, language: Language) {
    let mut files: Vec<PathBuf> = Prompt::ALL
        .iter()
        .map(|p| {
            PathBuf::from("default")
                .join(language.code())
                .join(format!("{}.wav", p.file_stem()))
        })
        .collect();
    for stem in [
        "ask_name",
        "ask_full_name",
        "not_understood",
        "did_you_mean",
        "disambiguation",
    ] {
        files.push(
            PathBuf::from("default")
                .join(language.code())
                .join(format!("{stem}.wav")),
        );
    }
    files.extend(OPTION_KEYS.map(|key| option_key_file(language, key)));
    for (i, file) in files.iter().enumerate() {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        // The name questions (first and second ask) last 3 s, so that speech
        // and keys can come during them.
        let frames = if file.ends_with("ask_name.wav") || file.ends_with("ask_full_name.wav") {
            150
        } else {
            10
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for _ in 0..frames * 160 {
            writer.write_sample(500 + 100 * i as i16).unwrap();
        }
        writer.finalize().unwrap();
    }
}

/// Start an attendant on `store`, transfers going to `pbx` (host:port).
pub async fn start(store: SpeechStore, pbx: String) -> SpeechAttendant {
    super::attendant::init_logs();
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("prompts");
    write_prompts(&prompts, store.language);
    let database_url = format!("sqlite://{}", dir.path().join("attendant.db").display());
    let directory = DirectoryStore::open(&database_url)
        .await
        .expect("open the test database");
    let mut settings = store.settings.clone();
    settings["speech_enabled"] = serde_json::Value::Bool(true);
    let store_id = directory
        .upsert_store(&NewStore {
            name: "Speech test store".to_string(),
            number: STORE_NUMBER.to_string(),
            language: store.language,
            operator: TransferTarget::Extension("100".to_string()),
            settings: StoreSettings::from_json(settings).expect("test store settings"),
        })
        .await
        .unwrap();
    directory
        .replace_directory(store_id, &store.entries, &[])
        .await
        .unwrap();
    let sip_port = super::free_udp_tcp_port();
    let rtp = super::RtpBlock::reserve();
    let overrides = ConfigOverrides {
        sip_udp_listen: Some(SocketAddr::from(([127, 0, 0, 1], sip_port))),
        sip_tcp_listen: Some(SocketAddr::from(([127, 0, 0, 1], sip_port))),
        rtp_port_min: Some(rtp.min),
        rtp_port_max: Some(rtp.max),
        database_url: Some(database_url),
        prompts_dir: Some(prompts),
        data_dir: Some(dir.path().join("data")),
        pbx_address: Some(pbx),
        ..ConfigOverrides::default()
    };
    let mut config = Config::load(None, &overrides).expect("test configuration");
    config.paths.prompt_texts_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/texts");
    config.timers.rtp_inactivity_timeout = Duration::from_secs(30);
    config.flow.no_input_timeout = Duration::from_secs(3);
    config.flow.transfer_timeout = Duration::from_secs(10);
    let server = Server::start(&config, directory.clone())
        .await
        .expect("start the attendant");
    assert!(
        server.speech().current(store_id).is_some(),
        "the test store has no speech: is the model installed (make setup)?"
    );
    let sip = server.sip_addr();
    let data_dir = dir.path().join("data");
    SpeechAttendant {
        server: Some(server),
        sip,
        store: directory,
        store_id,
        rtp,
        data_dir,
        _dir: dir,
    }
}

impl SpeechAttendant {
    /// Shut down; every call task finishes and no SIP dialog is left.
    pub async fn stop(mut self) {
        let server = self.server.take().expect("server running");
        server.shutdown();
        tokio::time::timeout(Duration::from_secs(10), server.wait())
            .await
            .expect("call tasks did not finish after shutdown");
        assert_eq!(
            server.active_dialogs(),
            0,
            "SIP dialogs still held after shutdown"
        );
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server running")
    }
}

impl Drop for SpeechAttendant {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown();
        }
    }
}

/// A piece of a caller's microphone audio.
pub enum Mic<'a> {
    Silence(Duration),
    /// A fixture under fixtures/audio/names/ (8 kHz mono 16-bit).
    Fixture(&'a str),
}

/// The fixture of `voice` (e.g. "en-us") saying `spoken`, from the manifest.
pub fn fixture(spoken: &str, voice: &str) -> String {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/names/manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    manifest
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["spoken"] == spoken && f["voice"] == voice)
        .unwrap_or_else(|| panic!("no fixture of {voice} saying {spoken:?}"))["file"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Writes the microphone WAV baresip plays.
pub fn write_mic(path: &Path, parts: &[Mic<'_>]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for part in parts {
        match part {
            Mic::Silence(length) => {
                for _ in 0..(length.as_millis() as usize * 8) {
                    writer.write_sample(0i16).unwrap();
                }
            }
            Mic::Fixture(file) => {
                let full = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures/audio/names")
                    .join(file);
                let mut reader = hound::WavReader::open(&full).unwrap();
                assert_eq!(reader.spec().sample_rate, 8000, "{file}");
                for sample in reader.samples::<i16>() {
                    writer.write_sample(sample.unwrap()).unwrap();
                }
            }
        }
    }
    writer.finalize().unwrap();
}

/// A baresip caller dialling the store with a WAV as its microphone; it
/// follows a REFER by itself and hangs up when the WAV ends.
pub struct Caller {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub output: String,
    cons_port: u16,
    _dir: tempfile::TempDir,
}

impl Caller {
    /// Dial `attendant` with `parts` as the microphone; baresip quits after `limit`.
    pub fn dial(attendant: SocketAddr, parts: &[Mic<'_>], limit: Duration) -> Caller {
        super::require_tool("baresip");
        let dir = tempfile::tempdir().unwrap();
        let microphone = dir.path().join("microphone.wav");
        write_mic(&microphone, parts);
        // baresip listens on UDP and TCP at this port: both must be free.
        let sip_port = super::free_udp_tcp_port();
        let cons_port = super::free_udp_port();
        let config = format!(
            "poll_method epoll\n\
             net_interface 127.0.0.1\n\
             sip_listen 127.0.0.1:{sip_port}\n\
             audio_source aufile,{mic}\n\
             audio_alert aufile,{mic}\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\n\
             module aufile.so\n\
             module cons.so\n\
             module_app account.so\n\
             module_app menu.so\n\
             cons_listen 127.0.0.1:{cons_port}\n",
            mic = microphone.display()
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        std::fs::write(
            dir.path().join("accounts"),
            "<sip:0611223344@127.0.0.1>;regint=0\n",
        )
        .unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-e")
            .arg(format!("/dial sip:{STORE_NUMBER}@{attendant}"))
            .args(["-t", &limit.as_secs().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start baresip");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Caller {
            child,
            lines,
            output: String::new(),
            cons_port,
            _dir: dir,
        }
    }

    /// Reads baresip's output until a line contains `needle` (within `limit`).
    pub async fn wait_for(&mut self, needle: &str, limit: Duration) -> bool {
        let found = tokio::time::timeout(limit, async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                self.output.push_str(&line);
                self.output.push('\n');
                if line.contains(needle) {
                    return true;
                }
            }
            false
        })
        .await;
        found == Ok(true)
    }

    /// Presses `digit` (RFC 4733) through the cons port.
    pub async fn press(&self, digit: char) {
        let cons = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        cons.send_to(digit.to_string().as_bytes(), ("127.0.0.1", self.cons_port))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // End of key press: without it the digit never ends.
        cons.send_to(b"\x04", ("127.0.0.1", self.cons_port))
            .await
            .unwrap();
    }

    /// Waits for baresip to quit (within `limit`), collecting its output.
    pub async fn finish(mut self, limit: Duration) -> String {
        let rest = tokio::time::timeout(limit, async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                self.output.push_str(&line);
                self.output.push('\n');
            }
        })
        .await;
        assert!(rest.is_ok(), "baresip did not quit:\n{}", self.output);
        let _ = self.child.wait().await;
        self.output
    }
}

/// Asserts the SIPp target was called at `extension` (the transfer arrived).
pub async fn expect_transferred_to(target: super::Sipp, extension: &str, caller_output: &str) {
    let logs = target.logs();
    let invite = format!("INVITE sip:{extension}@127.0.0.1");
    target.expect_success(Duration::from_secs(15)).await;
    assert!(
        logs.contains(&invite),
        "the transfer target was not called at ext {extension}:\n{logs}\n--- baresip:\n{caller_output}"
    );
}

/// Waits until the SIPp target's message log contains `needle` (within `limit`).
pub async fn wait_for_target(target: &super::Sipp, needle: &str, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if target.logs().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// SIPp's built-in UAS as the transfer target, for one call. Its whole-run
/// timeout is 60 s (not 30 s): baresip plays its whole microphone file again on
/// the transferred leg before hanging up, and speech calls last longer.
pub fn transfer_target() -> super::Sipp {
    super::Sipp::start(
        &["-sn".to_string(), "uas".to_string()],
        &["-timeout".to_string(), "60s".to_string()],
    )
}
