//! Two attendant nodes on one PostgreSQL database: a directory change committed
//! through node A is live on node B (grammar, name index, spoken name) within a
//! second, by LISTEN/NOTIFY; and when B's listening connection is cut, B
//! re-reads the versions on reconnecting, so a change made meanwhile is not
//! missed. Needs `ATTENDANT_TEST_PG_URL` (`make test` starts a throw-away
//! server with scripts/start-postgres.sh); fails without it.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use attendant::config::{Config, ConfigOverrides};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::{DirectoryStore, NewStore};
use attendant::directory::{Language, StoreId, TransferTarget};
use attendant::runtime::Server;
use common::speech::{english_entries, entry};
use sqlx::Connection;

/// A new empty database on the test server; its URL.
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
    let name = format!("attendant_cluster_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (head, _) = base.rsplit_once('/').expect("the URL names a database");
    let query = base.find('?').map(|q| &base[q..]).unwrap_or("");
    format!("{head}/{name}{query}")
}

/// A node: its own pool on the shared database, its own SIP port and speech.
async fn start_node(database_url: &str, dir: &Path) -> (Server, DirectoryStore) {
    let store = DirectoryStore::open(database_url)
        .await
        .expect("open the shared database");
    let port = common::free_udp_tcp_port();
    let rtp = common::RtpBlock::reserve();
    let overrides = ConfigOverrides {
        sip_udp_listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        sip_tcp_listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        rtp_port_min: Some(rtp.min),
        rtp_port_max: Some(rtp.max),
        database_url: Some(database_url.to_owned()),
        prompts_dir: Some(dir.join("prompts")),
        data_dir: Some(dir.join("data")),
        ..ConfigOverrides::default()
    };
    let mut config = Config::load(None, &overrides).expect("test configuration");
    config.paths.prompt_texts_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/texts");
    // Far beyond the test: what is seen comes from NOTIFY or the reconnect.
    config.ops.directory_poll_interval = Duration::from_secs(600);
    let server = Server::start(&config, store.clone())
        .await
        .expect("start a node");
    (server, store)
}

/// Waits (at most `limit`) until node `server` serves `store` at `version`;
/// returns how long that took.
async fn until_live(server: &Server, store: StoreId, version: i64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if server
            .speech()
            .current(store)
            .is_some_and(|s| s.directory().version.0 >= version)
        {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "version {version} not live on the other node within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_is_live_on_the_other_within_a_second() {
    common::attendant::init_logs();
    let database_url = fresh_database().await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let seed = DirectoryStore::open(&database_url).await.unwrap();
    let settings = StoreSettings::from_json(serde_json::json!({ "speech_enabled": true })).unwrap();
    let id = seed
        .upsert_store(&NewStore {
            name: "Cluster store".into(),
            number: "1000".into(),
            language: Language::En,
            operator: TransferTarget::Extension("100".into()),
            settings,
        })
        .await
        .unwrap();
    seed.replace_directory(id, &english_entries(), &[])
        .await
        .unwrap();
    let (node_a, store_a) = start_node(&database_url, dirs.0.path()).await;
    let (node_b, _store_b) = start_node(&database_url, dirs.1.path()).await;

    // A change through node A (what its admin API and import do).
    let mut entries = english_entries();
    entries.push(entry("Oliver Bennett", Some("Garden"), "240"));
    let version = store_a
        .replace_directory(id, &entries, &[])
        .await
        .unwrap()
        .0;
    let took = until_live(&node_b, id, version, Duration::from_secs(1)).await;
    let speech = node_b.speech().current(id).unwrap();
    let added = speech
        .directory()
        .entries
        .iter()
        .find(|e| e.display_name == "Oliver Bennett")
        .expect("name index");
    assert!(
        speech
            .grammar()
            .accepted
            .iter()
            .any(|p| p.text.contains("oliver bennett")),
        "grammar"
    );
    assert!(speech.name_audio(added.id).is_some(), "spoken name");
    assert!(
        speech
            .name_search()
            .keypad_search("654")
            .contains(&added.id),
        "keypad name index"
    );
    eprintln!("change live on node B {took:?} after the commit on node A");

    // Cut both listening connections (as a database restart or network cut
    // would) and change the directory at once: the NOTIFY may go nowhere, and
    // the poll is 10 minutes away; the version re-read on reconnecting (logged
    // "directory notifications interrupted") makes the change live.
    let mut admin = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut.len(), 2, "each node holds one listening connection");
    entries.push(entry("Chloe Garnier", None, "250"));
    let version = store_a
        .replace_directory(id, &entries, &[])
        .await
        .unwrap()
        .0;
    until_live(&node_b, id, version, Duration::from_secs(3)).await;
    assert!(
        node_b
            .speech()
            .current(id)
            .unwrap()
            .directory()
            .entries
            .iter()
            .any(|e| e.display_name == "Chloe Garnier")
    );
    until_live(&node_a, id, version, Duration::from_secs(3)).await;

    for node in [node_a, node_b] {
        node.shutdown();
        tokio::time::timeout(Duration::from_secs(10), node.wait())
            .await
            .expect("node stops");
    }
}
