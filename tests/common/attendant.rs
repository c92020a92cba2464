//! An attendant server run in-process on 127.0.0.1 with free ports, a temp
//! SQLite database holding one test store, and generated prompts whose audio
//! identifies them on the wire.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use attendant::config::{Config, ConfigOverrides};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::{DirectoryStore, NewEntry, NewStore};
use attendant::directory::{Language, MenuOption, TransferTarget};
use attendant::flow::Prompt;
use attendant::media::g711::Codec;
use attendant::runtime::Server;

/// The number of the test store.
pub const STORE_NUMBER: &str = "1000";

/// Each prompt is a constant level (DC), so its µ-law payload is one repeated
/// byte: a capture says exactly which prompts a caller heard, in order.
pub const PROMPT_LEVELS: [(Prompt, i16); 10] = [
    (Prompt::Greeting, 1000),
    (Prompt::Menu, 2000),
    (Prompt::InvalidChoice, 3000),
    (Prompt::NoInput, 4000),
    (Prompt::Transferring, 5000),
    (Prompt::TransferFailed, 6000),
    (Prompt::Goodbye, 7000),
    (Prompt::Closed, 8000),
    (Prompt::SpellName, 9000),
    (Prompt::NamesMatch, 10000),
];

/// Frames (20 ms) per generated prompt.
pub const PROMPT_FRAMES: usize = 15;

/// The prompt an RTP µ-law payload carries, if it is one of ours.
pub fn prompt_of_payload(payload: &[u8]) -> Option<Prompt> {
    let first = *payload.first()?;
    if payload.iter().any(|&b| b != first) {
        return None;
    }
    PROMPT_LEVELS
        .iter()
        .find(|(_, level)| Codec::Pcmu.encode(&[*level])[0] == first)
        .map(|(prompt, _)| *prompt)
}

/// A running attendant and its temp files.
pub struct TestAttendant {
    server: Option<Server>,
    pub sip: SocketAddr,
    /// The RTP ports this attendant uses (and nobody else).
    pub rtp: super::RtpBlock,
    /// The attendant's database, to change the test store or read its calls.
    pub store: DirectoryStore,
    _dir: tempfile::TempDir,
}

/// What the test store looks like and where transfers go.
pub struct TestOptions {
    /// `pbx.address`: host[:port] of `sip:EXT@pbx` transfer targets.
    pub pbx: String,
    /// Silence after the menu before re-prompting.
    pub flow_no_input: Duration,
    /// Ringing time before the answer.
    pub answer_delay: Duration,
    /// How long our 200 OK waits for its ACK.
    pub ack_timeout: Duration,
    /// `sip.trusted_networks`.
    pub trusted_networks: attendant::sip::TrustedNetworks,
    /// `limits.max_calls`.
    pub max_calls: usize,
    /// `timers.rtp_inactivity_timeout`.
    pub rtp_inactivity: Duration,
    /// `[[registration]]` accounts.
    pub registrations: Vec<attendant::sip::RegistrationAccount>,
    /// `flow.spell_key`: keypad name search (off by default).
    pub spell_key: Option<char>,
    /// Entries added to the test store's directory after its own.
    pub extra_entries: Vec<NewEntry>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            pbx: "pbx.example".to_string(),
            flow_no_input: Duration::from_secs(6),
            answer_delay: Duration::ZERO,
            ack_timeout: Duration::from_secs(4),
            trusted_networks: attendant::sip::TrustedNetworks::allow_all(),
            max_calls: 200,
            rtp_inactivity: Duration::from_secs(30),
            registrations: Vec::new(),
            spell_key: None,
            extra_entries: Vec::new(),
        }
    }
}

fn write_prompts(dir: &Path) {
    let folder = dir.join("default").join(Language::En.code());
    std::fs::create_dir_all(&folder).unwrap();
    for (prompt, level) in PROMPT_LEVELS {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer =
            hound::WavWriter::create(folder.join(format!("{}.wav", prompt.file_stem())), spec)
                .unwrap();
        for _ in 0..PROMPT_FRAMES * 160 {
            writer.write_sample(level).unwrap();
        }
        writer.finalize().unwrap();
    }
}

/// The database (SQLite in `dir`, store "1000": menu 1 → ext 201, 2 → ext 202,
/// operator ext 100, one entry at ext 301) and the prompts folder.
pub async fn prepare_fixture(dir: &Path) -> (String, PathBuf, DirectoryStore) {
    prepare_fixture_with(dir, &[]).await
}

/// [`prepare_fixture`] with `extra` entries after the store's own.
pub async fn prepare_fixture_with(dir: &Path, extra: &[NewEntry]) -> (String, PathBuf, DirectoryStore) {
    let prompts = dir.join("prompts");
    write_prompts(&prompts);
    let database_url = format!("sqlite://{}", dir.join("attendant.db").display());
    let store = DirectoryStore::open(&database_url)
        .await
        .expect("open the test database");
    let id = store
        .upsert_store(&NewStore {
            name: "Test store".to_string(),
            number: STORE_NUMBER.to_string(),
            language: Language::En,
            operator: TransferTarget::Extension("100".to_string()),
            settings: StoreSettings::none(),
        })
        .await
        .unwrap();
    let menu = [
        MenuOption {
            digit: '1',
            label: "bakery".to_string(),
            target: TransferTarget::Extension("201".to_string()),
        },
        MenuOption {
            digit: '2',
            label: "garden".to_string(),
            target: TransferTarget::Extension("202".to_string()),
        },
    ];
    let mut entries = vec![NewEntry {
        display_name: "Sophie Martin".to_string(),
        aliases: vec![],
        department: None,
        extension: Some("301".to_string()),
        target: TransferTarget::Extension("301".to_string()),
        fallback: None,
        enabled: true,
    }];
    entries.extend_from_slice(extra);
    store.replace_directory(id, &entries, &menu).await.unwrap();
    (database_url, prompts, store)
}

/// Start an attendant in-process on the test fixture.
pub async fn start(options: TestOptions) -> TestAttendant {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let (database_url, prompts, store) = prepare_fixture_with(dir.path(), &options.extra_entries).await;
    let sip_port = super::free_udp_tcp_port();
    let rtp = super::RtpBlock::reserve();
    let overrides = ConfigOverrides {
        sip_udp_listen: Some(SocketAddr::from(([127, 0, 0, 1], sip_port))),
        sip_tcp_listen: Some(SocketAddr::from(([127, 0, 0, 1], sip_port))),
        rtp_port_min: Some(rtp.min),
        rtp_port_max: Some(rtp.max),
        database_url: Some(database_url),
        prompts_dir: Some(prompts),
        pbx_address: Some(options.pbx.clone()),
        ..ConfigOverrides::default()
    };
    let mut config = Config::load(None, &overrides).expect("test configuration");
    config.timers.ack_timeout = options.ack_timeout;
    config.sip.trusted_networks = options.trusted_networks.clone();
    config.timers.rtp_inactivity_timeout = options.rtp_inactivity;
    config.limits.max_calls = options.max_calls;
    config.flow.no_input_timeout = options.flow_no_input;
    config.timers.answer_delay = options.answer_delay;
    config.flow.transfer_timeout = Duration::from_secs(10);
    config.registration = options.registrations.clone();
    config.flow.spell_key = options
        .spell_key
        .map(|key| attendant::flow::MenuKey::new(key).expect("spell_key is a menu key 1-9"));
    let server = Server::start(&config, store.clone())
        .await
        .expect("start the attendant");
    let sip = server.sip_addr();
    TestAttendant {
        server: Some(server),
        sip,
        rtp,
        store,
        _dir: dir,
    }
}

impl TestAttendant {
    /// SIP dialogs the attendant holds now.
    pub fn active_dialogs(&self) -> usize {
        self.server.as_ref().map_or(0, |s| s.active_dialogs())
    }

    /// The running server (stats, drain).
    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server running")
    }

    /// Wait (at most `limit`) until `done` holds for the server's stats; panics
    /// with the last stats otherwise.
    pub async fn wait_for_stats(&self, limit: Duration, done: impl Fn(&attendant::runtime::Stats) -> bool) {
        let server = self.server();
        let waited = tokio::time::timeout(limit, async {
            loop {
                if done(&server.stats()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "condition not reached within {limit:?}: {:?}", server.stats());
    }

    /// The test store's id.
    pub async fn store_id(&self) -> attendant::directory::StoreId {
        self.store
            .load_directory_by_number(STORE_NUMBER)
            .await
            .expect("read the test store")
            .expect("the test store exists")
            .store
            .id
    }

    /// The test store's recent calls once there are `count` (newest first);
    /// panics if they are not all written within `limit` (they are written
    /// off the calls' path, so shortly after the call ends).
    pub async fn wait_for_recent_calls(
        &self,
        count: usize,
        limit: Duration,
    ) -> Vec<attendant::directory::store::admin::CallRecord> {
        let id = self.store_id().await;
        let waited = tokio::time::timeout(limit, async {
            loop {
                let calls = self.store.recent_calls(id, 50).await.expect("read recent calls");
                if calls.len() >= count {
                    return calls;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("{count} recent calls not recorded within {limit:?}"))
    }

    /// Shut down, check every call task finished (within 10 s) and no SIP
    /// dialog is left behind.
    pub async fn stop(mut self) {
        let server = self.server.take().expect("server running");
        server.shutdown();
        tokio::time::timeout(Duration::from_secs(10), server.wait())
            .await
            .expect("call tasks did not finish after shutdown");
        assert_eq!(server.active_dialogs(), 0, "SIP dialogs still held after shutdown");
        let stats = server.stats();
        assert_eq!(
            (stats.active_calls, stats.sip_calls, stats.open_rtp_sockets, stats.recognitions),
            (0, 0, 0, 0),
            "resources still held after shutdown: {stats:?}"
        );
    }
}

impl Drop for TestAttendant {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown();
        }
    }
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("attendant=info")),
        )
        .with_test_writer()
        .with_ansi(false)
        .try_init();
}

/// The prompts a peer heard on `port`, in order: runs of identical prompt
/// frames collapse to one entry; silence (comfort noise) separates nothing.
pub fn prompts_heard(datagrams: &[super::capture::Datagram], port: u16) -> Vec<Prompt> {
    let mut heard: Vec<Prompt> = Vec::new();
    let mut last_frame: Option<Prompt> = None;
    for datagram in datagrams.iter().filter(|d| d.dst_port == port) {
        let Some((0, payload)) = datagram.rtp() else {
            continue;
        };
        let frame = prompt_of_payload(payload);
        if let Some(prompt) = frame
            && last_frame != Some(prompt)
        {
            heard.push(prompt);
        }
        last_frame = frame;
    }
    heard
}

/// Number of PCMU RTP packets sent to `port`.
pub fn rtp_packets_to(datagrams: &[super::capture::Datagram], port: u16) -> usize {
    datagrams
        .iter()
        .filter(|d| d.dst_port == port && matches!(d.rtp(), Some((0, _))))
        .count()
}
