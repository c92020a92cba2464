//! Readiness follows the database: with its PostgreSQL database refusing
//! connections, a node answers SIP OPTIONS (what Kamailio's dispatcher probes)
//! and `/readyz` with 503 within a couple of health checks, while `/healthz`
//! stays 200; once the database is back, 200 again. Needs
//! `ATTENDANT_TEST_PG_URL` (`make test`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use attendant::config::{Config, ConfigOverrides};
use attendant::directory::store::DirectoryStore;
use attendant::runtime::Server;
use common::raw_sip::RawPeer;
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn status(addr: SocketAddr, path: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response[9..12].parse().unwrap()
}

async fn options(sip: SocketAddr, probe: usize) -> String {
    let peer = RawPeer::new(sip).await;
    let request = format!(
        "OPTIONS sip:1000@{sip} SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
        peer.headers(&format!("probe-{probe}@test"), 1, "OPTIONS")
    );
    let answer = peer.transact(&request, "OPTIONS").await;
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Probes OPTIONS until its status line starts with `expected` (at most `limit`).
async fn until_options(sip: SocketAddr, expected: &str, limit: Duration, probes: &mut usize) {
    let start = Instant::now();
    loop {
        *probes += 1;
        let got = options(sip, *probes).await;
        if got.starts_with(expected) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "OPTIONS still {got:?} after {limit:?}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_its_database_answers_options_503_until_it_is_back() {
    common::attendant::init_logs();
    let base = std::env::var("ATTENDANT_TEST_PG_URL")
        .expect("ATTENDANT_TEST_PG_URL is not set: run `make test`");
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("attendant_ready_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    let url = format!("{head}/{name}");
    let store = DirectoryStore::open(&url).await.unwrap();
    let port = common::free_udp_tcp_port();
    let overrides = ConfigOverrides {
        sip_udp_listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        sip_tcp_listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        database_url: Some(url),
        ..ConfigOverrides::default()
    };
    let mut config = Config::load(None, &overrides).unwrap();
    config.ops.health_interval = Duration::from_millis(300);
    let server = Server::start(&config, store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops = listener.local_addr().unwrap();
    tokio::spawn(attendant::admin::ops::serve(
        listener,
        server.ops_state().unwrap(),
        std::future::pending(),
    ));
    let sip = server.sip_addr();
    let mut probes = 0;
    until_options(sip, "SIP/2.0 200", Duration::from_secs(5), &mut probes).await;
    assert_eq!(status(ops, "/readyz").await, 200);

    // The database goes away: no new connection, the node's ones cut.
    let database_down = [
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    ];
    for statement in database_down {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    until_options(sip, "SIP/2.0 503", Duration::from_secs(5), &mut probes).await;
    assert_eq!(status(ops, "/readyz").await, 503);
    assert_eq!(status(ops, "/healthz").await, 200, "alive though not ready");
    assert!(!server.readiness().is_ready() && server.readiness().state().database_down);

    // Back: ready again at the next check.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    until_options(sip, "SIP/2.0 200", Duration::from_secs(5), &mut probes).await;
    assert_eq!(status(ops, "/readyz").await, 200);
    server.shutdown();
    tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("stops");
}
