//! A cluster the test starts: Kamailio (deploy/kamailio/kamailio.cfg:
//! dispatcher with OPTIONS probing, record-routing, failover on 503 or
//! timeout) in front of two `attendant run` nodes on 127.0.0.2 and 127.0.0.3
//! sharing one PostgreSQL database, with SIPp callers through Kamailio:
//! 1. calls spread over both nodes;
//! 2. node B killed with SIGKILL: its call in progress is lost (said, and
//!    checked), new calls all succeed on node A: those sent to B before the
//!    dispatcher knew are retried on A after the INVITE timeout (counted);
//! 3. node B restarted: it rejoins and gets calls again;
//! 4. node A drained with SIGTERM: its call in progress finishes, new calls
//!    all go to B (none lost), A exits 0.
//!
//! Needs `kamailio` (make setup) and `ATTENDANT_TEST_PG_URL` (make test).
//! The figures printed at the end go to docs/cluster.md.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use attendant::directory::settings::StoreSettings;
use attendant::directory::store::{DirectoryStore, NewEntry, NewStore};
use attendant::directory::{Language, MenuOption, TransferTarget};
use common::Sipp;
use common::raw_sip::RawPeer;
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Milliseconds Kamailio waits for any answer to an INVITE before the next node.
const INVITE_TIMEOUT_MS: u64 = 1000;
/// Seconds between Kamailio's OPTIONS probes of each node.
const PING_INTERVAL_S: u64 = 1;

/// A child's stderr, line by line, kept whole.
struct Logs {
    lines: mpsc::UnboundedReceiver<String>,
    text: String,
}

impl Logs {
    fn follow(child: &mut Child) -> Logs {
        let mut reader = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Logs {
            lines,
            text: String::new(),
        }
    }

    /// Everything read so far.
    fn read(&mut self) -> &str {
        while let Ok(line) = self.lines.try_recv() {
            self.text.push_str(&line);
            self.text.push('\n');
        }
        &self.text
    }

    fn count(&mut self, needle: &str) -> usize {
        self.read().matches(needle).count()
    }

    async fn wait_for(&mut self, needle: &str, count: usize, limit: Duration) {
        let start = Instant::now();
        while self.count(needle) < count {
            assert!(
                start.elapsed() < limit,
                "{needle:?} not seen {count} times within {limit:?}:\n{}",
                self.text
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A port free for UDP and TCP on `ip`.
fn free_port_on(ip: Ipv4Addr) -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((ip, 0)).expect("bind a TCP port");
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind((ip, port)).is_ok() {
            return port;
        }
    }
}

/// One `attendant run` node.
struct Node {
    name: &'static str,
    sip: SocketAddr,
    ops: SocketAddr,
    child: Child,
    logs: Logs,
}

/// How every node is started (the same database, prompts and configuration).
struct NodeSpec {
    database_url: String,
    prompts: PathBuf,
    dir: PathBuf,
}

impl NodeSpec {
    async fn start(
        &self,
        name: &'static str,
        ip: Ipv4Addr,
        sip_port: u16,
        ops_port: u16,
        rtp: &common::RtpBlock,
    ) -> Node {
        let sip = SocketAddr::new(IpAddr::V4(ip), sip_port);
        let ops = SocketAddr::new(IpAddr::V4(ip), ops_port);
        let config = self.dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!("[ops]\nlisten = \"{ops}\"\nhealth_interval = 500\n[limits]\ndrain_timeout = 15000\n"),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_attendant"))
            .arg("run")
            .arg("--config")
            .arg(&config)
            .args([
                "--sip-udp-listen",
                &sip.to_string(),
                "--sip-tcp-listen",
                &sip.to_string(),
            ])
            .args([
                "--rtp-port-min",
                &rtp.min.to_string(),
                "--rtp-port-max",
                &rtp.max.to_string(),
            ])
            .args([
                "--database-url",
                &self.database_url,
                "--pbx-address",
                "pbx.example",
            ])
            .arg("--prompts-dir")
            .arg(&self.prompts)
            .env("ATTENDANT_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the attendant binary");
        let mut logs = Logs::follow(&mut child);
        logs.wait_for("attendant answering calls", 1, Duration::from_secs(30))
            .await;
        Node {
            name,
            sip,
            ops,
            child,
            logs,
        }
    }
}

impl Node {
    /// INVITEs this node received (since it started).
    fn invites(&mut self) -> usize {
        self.logs.count("INVITE received")
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("node running").to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {}", self.name);
    }
}

/// Kamailio, with its children in their own process group (killed on drop).
struct Kamailio {
    addr: SocketAddr,
    child: Child,
    logs: Logs,
}

impl Kamailio {
    async fn start(dir: &Path, nodes: &[SocketAddr]) -> Kamailio {
        let kamailio = common::require_tool("kamailio");
        let list = dir.join("dispatcher.list");
        let lines: String = nodes
            .iter()
            .map(|node| format!("1 sip:{node} 0 0\n"))
            .collect();
        std::fs::write(&list, lines).unwrap();
        let port = free_port_on(Ipv4Addr::LOCALHOST);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kamailio/kamailio.cfg");
        let mut child = Command::new(kamailio)
            .args(["-DD", "-E", "-m", "32", "-M", "4"])
            .arg("-f")
            .arg(&config)
            .arg("-w")
            .arg(dir)
            .args(["-A", &format!("LISTEN=udp:{addr}")])
            .args(["-A", &format!("DS_LIST=\"{}\"", list.display())])
            .args(["-A", &format!("DS_PING_INTERVAL={PING_INTERVAL_S}")])
            .args(["-A", &format!("INVITE_TIMEOUT={INVITE_TIMEOUT_MS}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("start kamailio");
        let logs = Logs::follow(&mut child);
        // Up once it answers OPTIONS itself.
        let peer = RawPeer::new(addr).await;
        let request = format!(
            "OPTIONS sip:{addr} SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
            peer.headers("kamailio-up@test", 1, "OPTIONS")
        );
        let answer = peer.transact(&request, "OPTIONS").await;
        assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
        Kamailio { addr, child, logs }
    }

    /// INVITEs that a node refused or left unanswered, retried on the next node.
    fn failovers(&mut self) -> usize {
        self.logs.count("trying the next one")
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Its worker processes share the group of the main one.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// `GET /metrics` of a node; the value of `series`, 0 when absent.
async fn metric(ops: SocketAddr, series: &str) -> f64 {
    let mut stream = tokio::net::TcpStream::connect(ops)
        .await
        .expect("connect to the node's ops port");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: node\r\n\r\n")
        .await
        .unwrap();
    let mut scrape = String::new();
    stream.read_to_string(&mut scrape).await.unwrap();
    scrape
        .lines()
        .find_map(|line| {
            line.rsplit_once(' ')
                .filter(|(name, _)| *name == series)
                .and_then(|(_, v)| v.parse().ok())
        })
        .unwrap_or(0.0)
}

const TRANSFERRED: &str = "attendant_calls_total{outcome=\"transferred\"}";

/// A caller through Kamailio who presses 1 after `pause_ms` and is transferred.
fn caller(kamailio: SocketAddr, pause_ms: u64) -> Sipp {
    Sipp::uac(
        "caller_via_proxy.xml",
        kamailio,
        "1000",
        &["-d", &pause_ms.to_string(), "-timeout", "20s"],
    )
}

/// `count` callers started `every` apart; how many ran their scenario through.
async fn burst(kamailio: SocketAddr, count: usize, every: Duration) -> usize {
    let mut callers = Vec::new();
    for _ in 0..count {
        callers.push(caller(kamailio, 300));
        tokio::time::sleep(every).await;
    }
    let mut succeeded = 0;
    for caller in callers {
        succeeded += usize::from(caller.succeeded(Duration::from_secs(25)).await);
    }
    succeeded
}

async fn seed(database_url: &str) {
    let store = DirectoryStore::open(database_url)
        .await
        .expect("open the shared database");
    let id = store
        .upsert_store(&NewStore {
            name: "Cluster store".into(),
            number: "1000".into(),
            language: Language::En,
            operator: TransferTarget::Extension("100".into()),
            settings: StoreSettings::none(),
        })
        .await
        .unwrap();
    let entry = NewEntry {
        display_name: "Sophie Martin".into(),
        aliases: vec![],
        department: None,
        extension: Some("301".into()),
        target: TransferTarget::Extension("301".into()),
        fallback: None,
        enabled: true,
    };
    let menu = [MenuOption {
        digit: '1',
        label: "bakery".into(),
        target: TransferTarget::Extension("201".into()),
    }];
    store.replace_directory(id, &[entry], &menu).await.unwrap();
}

async fn fresh_database() -> String {
    let base = std::env::var("ATTENDANT_TEST_PG_URL").expect(
        "ATTENDANT_TEST_PG_URL is not set: run `make test`, or eval \"$(scripts/start-postgres.sh)\" first",
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to ATTENDANT_TEST_PG_URL");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("attendant_kamailio_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (head, _) = base.rsplit_once('/').expect("the URL names a database");
    let query = base.find('?').map(|q| &base[q..]).unwrap_or("");
    format!("{head}/{name}{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_spreads_fails_over_drains_and_rejoins() {
    tokio::time::timeout(Duration::from_secs(240), scenario())
        .await
        .expect("cluster test took too long");
}

async fn scenario() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database().await;
    seed(&database_url).await;
    // Prompts of the test fixture (its own SQLite database is not used).
    let (_, prompts, _) = common::attendant::prepare_fixture(dir.path()).await;
    let spec = NodeSpec {
        database_url,
        prompts,
        dir: dir.path().to_path_buf(),
    };
    let (ip_a, ip_b) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
    let (sip_a, sip_b) = (free_port_on(ip_a), free_port_on(ip_b));
    let (ops_a, ops_b) = (free_port_on(ip_a), free_port_on(ip_b));
    let (rtp_a, rtp_b) = (common::RtpBlock::reserve(), common::RtpBlock::reserve());
    let mut a = spec.start("a", ip_a, sip_a, ops_a, &rtp_a).await;
    let mut b = spec.start("b", ip_b, sip_b, ops_b, &rtp_b).await;
    let mut kamailio = Kamailio::start(dir.path(), &[a.sip, b.sip]).await;
    let proxy = kamailio.addr;

    // 1. Calls spread over the nodes.
    const SPREAD: usize = 6;
    assert_eq!(
        burst(proxy, SPREAD, Duration::from_millis(150)).await,
        SPREAD,
        "every call through Kamailio succeeds"
    );
    let (on_a, on_b) = (
        metric(a.ops, TRANSFERRED).await,
        metric(b.ops, TRANSFERRED).await,
    );
    assert_eq!(on_a + on_b, SPREAD as f64);
    assert!(
        on_a >= 1.0 && on_b >= 1.0,
        "calls on a: {on_a}, on b: {on_b}"
    );
    eprintln!("spread: {SPREAD} calls, {on_a} on node a, {on_b} on node b");

    // 2. SIGKILL node B with a call up on each node.
    let (invites_a, invites_b) = (a.invites(), b.invites());
    let long_1 = caller(proxy, 5000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let long_2 = caller(proxy, 5000);
    a.logs
        .wait_for("sip=Answered", invites_a + 1, Duration::from_secs(10))
        .await;
    b.logs
        .wait_for("sip=Answered", invites_b + 1, Duration::from_secs(10))
        .await;
    b.signal("-KILL");
    let killed_at = Instant::now();
    let failovers_before = kamailio.failovers();
    const AFTER_KILL: usize = 10;
    const EVERY: Duration = Duration::from_millis(200);
    let succeeded = burst(proxy, AFTER_KILL, EVERY).await;
    let burst_took = killed_at.elapsed();
    let retried = kamailio.failovers() - failovers_before;
    // The dispatcher knows once a probe or an INVITE to the dead node timed
    // out (either marks it inactive): at most the calls sent meanwhile hit it.
    let bound = ((INVITE_TIMEOUT_MS + 1000 * PING_INTERVAL_S) / EVERY.as_millis() as u64) as usize;
    let (ok_1, ok_2) = (
        long_1.succeeded(Duration::from_secs(25)).await,
        long_2.succeeded(Duration::from_secs(25)).await,
    );
    assert_eq!(
        u8::from(ok_1) + u8::from(ok_2),
        1,
        "the call on the killed node is lost, the other one is not"
    );
    assert_eq!(
        succeeded, AFTER_KILL,
        "new calls after the kill all succeed ({retried} retried on node a)"
    );
    assert!(
        retried <= bound,
        "at most the INVITEs sent before the dispatcher knew hit the dead node: {retried} > {bound}"
    );
    eprintln!(
        "sigkill: 1 call in progress lost; {AFTER_KILL} new calls, one every {EVERY:?}, done {burst_took:?} after the kill: {succeeded} succeeded, {retried} of them retried on node a after the {INVITE_TIMEOUT_MS} ms INVITE timeout"
    );
    let _ = b.child.wait().await;

    // 3. Node B restarted rejoins.
    let mut b = spec.start("b", ip_b, sip_b, ops_b, &rtp_b).await;
    let restarted = Instant::now();
    // Back in the set after its first 200 to a probe.
    let mut rejoined = None;
    for _ in 0..10 {
        assert_eq!(burst(proxy, 1, Duration::ZERO).await, 1);
        if b.invites() > 0 {
            rejoined = Some(restarted.elapsed());
            break;
        }
    }
    let rejoined = rejoined.expect("node b got no call within 10 calls of its restart");
    eprintln!("restart: node b took a call again {rejoined:?} after it was up");

    // 4. SIGTERM node A with a call up on each node: nothing is lost.
    let (invites_a, invites_b) = (a.invites(), b.invites());
    let long_1 = caller(proxy, 3000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let long_2 = caller(proxy, 3000);
    a.logs
        .wait_for("sip=Answered", invites_a + 1, Duration::from_secs(10))
        .await;
    b.logs
        .wait_for("sip=Answered", invites_b + 1, Duration::from_secs(10))
        .await;
    let b_before = metric(b.ops, TRANSFERRED).await;
    a.signal("-TERM");
    let drain_started = Instant::now();
    let failovers_before = kamailio.failovers();
    let invites_a = a.invites();
    const DURING_DRAIN: usize = 6;
    let succeeded = burst(proxy, DURING_DRAIN, Duration::from_millis(200)).await;
    let refused_by_a = kamailio.failovers() - failovers_before;
    assert!(
        long_1.succeeded(Duration::from_secs(25)).await,
        "call on the draining node finished"
    );
    assert!(
        long_2.succeeded(Duration::from_secs(25)).await,
        "call on the other node finished"
    );
    assert_eq!(succeeded, DURING_DRAIN, "no call lost during the drain");
    let status = tokio::time::timeout(Duration::from_secs(20), a.child.wait())
        .await
        .expect("node a exits")
        .unwrap();
    let drain_took = drain_started.elapsed();
    assert!(status.success(), "node a exits 0 after its drain: {status}");
    // INVITEs refused with 503 by the SIP layer never become calls.
    assert_eq!(
        a.invites(),
        invites_a,
        "node a set up no call once draining"
    );
    assert_eq!(
        metric(b.ops, TRANSFERRED).await - b_before,
        (DURING_DRAIN + 1) as f64,
        "node b took every new call"
    );
    assert!(
        a.logs
            .read()
            .contains("drain complete: every call ended by itself"),
        "{}",
        a.logs.text
    );
    eprintln!(
        "sigterm: 0 calls lost; {DURING_DRAIN} new calls all on node b ({refused_by_a} refused by a with 503 and retried); node a exited 0 after {drain_took:?}"
    );
    b.signal("-TERM");
    let _ = tokio::time::timeout(Duration::from_secs(20), b.child.wait()).await;
    drop(kamailio);
}
