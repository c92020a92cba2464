//! Restart durability: a process killed with SIGKILL in the middle of
//! directory writes leaves a sound database holding every acknowledged write
//! and no half-written one (SQLite in WAL mode, one transaction per write); the
//! attendant binary killed in the middle of a call starts again on the same
//! database and answers calls.

mod common;

use std::process::Stdio;
use std::time::Duration;

use attendant::directory::store::{DirectoryStore, NewEntry};
use attendant::directory::{MenuOption, TransferTarget};
use common::attendant::{self as harness};
use common::{Sipp, free_udp_tcp_port};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Entries written per version by the writer child.
const ENTRIES: usize = 40;
const WRITER_ENV: &str = "ATTENDANT_DURABILITY_WRITER_DB";

/// Version `n`'s entries: every name carries `n`, so a mix of two versions shows.
fn entries_of(round: usize) -> Vec<NewEntry> {
    (0..ENTRIES)
        .map(|i| NewEntry {
            display_name: format!("Round {round} person {i}"),
            aliases: vec![format!("alias {round} {i}")],
            department: None,
            extension: Some(format!("{}", 400 + i)),
            target: TransferTarget::Extension(format!("{}", 400 + i)),
            fallback: None,
            enabled: true,
        })
        .collect()
}

/// Not a test on its own: the child process that the durability test kills.
/// Rewrites store 1000's directory in a loop, one transaction per round, and
/// prints `committed ROUND` once each is acknowledged.
#[tokio::test]
#[ignore = "run by directory_writes_survive_sigkill as its child process"]
async fn writer_child() {
    let Ok(url) = std::env::var(WRITER_ENV) else {
        return;
    };
    let store = DirectoryStore::open(&url).await.expect("open the database");
    let directory = store
        .load_directory_by_number(harness::STORE_NUMBER)
        .await
        .unwrap()
        .expect("store 1000");
    let menu: Vec<MenuOption> = directory.menu.clone();
    for round in 1.. {
        store
            .replace_directory(directory.store.id, &entries_of(round), &menu)
            .await
            .expect("write a round");
        println!("committed {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _prompts, store) = harness::prepare_fixture(dir.path()).await;
    drop(store);
    let mut writer = Command::new(std::env::current_exe().unwrap())
        .args([
            "writer_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(WRITER_ENV, &database_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the writer");
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let mut last_committed = 0;
    let seen = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(round) = line.strip_prefix("committed ") {
                last_committed = round.parse().unwrap();
                if last_committed >= 30 {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "the writer did not commit 30 rounds");
    // SIGKILL while it is writing the next rounds.
    writer.start_kill().unwrap();
    writer.wait().await.unwrap();

    let store = DirectoryStore::open(&database_url)
        .await
        .expect("reopen after the kill");
    let directory = store
        .load_directory_by_number(harness::STORE_NUMBER)
        .await
        .unwrap()
        .expect("store 1000 still there");
    assert_eq!(directory.entries.len(), ENTRIES, "a half-written directory");
    let round: usize = directory.entries[0]
        .display_name
        .split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a round number");
    assert!(
        round >= last_committed,
        "round {round} read, {last_committed} was acknowledged"
    );
    for entry in &directory.entries {
        assert!(
            entry.display_name.starts_with(&format!("Round {round} ")),
            "entries of two rounds mixed: {:?}",
            entry.display_name
        );
    }
    assert_eq!(directory.menu.len(), 2, "menu lost");
    let pool = sqlx::SqlitePool::connect(&database_url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// Start `attendant run` on the fixture; returns once it answers calls.
async fn run_attendant(
    database_url: &str,
    prompts: &std::path::Path,
    listen: &str,
    rtp: &common::RtpBlock,
) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("run")
        .args(["--sip-udp-listen", listen, "--sip-tcp-listen", listen])
        .args([
            "--rtp-port-min",
            &rtp.min.to_string(),
            "--rtp-port-max",
            &rtp.max.to_string(),
        ])
        .args([
            "--database-url",
            database_url,
            "--pbx-address",
            "pbx.example",
        ])
        .arg("--prompts-dir")
        .arg(prompts)
        .env("ATTENDANT_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("ATTENDANT_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the attendant binary");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("attendant answering calls") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "the attendant did not start");
    // Keep draining its stderr so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendant_killed_mid_call_answers_again_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, prompts, store) = harness::prepare_fixture(dir.path()).await;
    drop(store);
    let listen = format!("127.0.0.1:{}", free_udp_tcp_port());
    let sip = listen.parse().unwrap();
    let rtp = common::RtpBlock::reserve();

    let mut first = run_attendant(&database_url, &prompts, &listen, &rtp).await;
    // A call in progress (answered, waiting) when the process is killed.
    let orphan = Sipp::uac("caller_waits_for_bye.xml", sip, harness::STORE_NUMBER, &[]);
    Sipp::uac("uac_caller_bye.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(Duration::from_secs(20))
        .await;
    first.start_kill().unwrap();
    let status = first.wait().await.unwrap();
    assert!(
        !status.success(),
        "SIGKILL should not look like a clean exit"
    );
    drop(orphan);

    // Same database, same ports: calls are answered and transferred again.
    let mut second = run_attendant(&database_url, &prompts, &listen, &rtp).await;
    Sipp::uac("caller_dtmf_transfer.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(Duration::from_secs(30))
        .await;
    let store = DirectoryStore::open(&database_url).await.unwrap();
    let directory = store
        .load_directory_by_number(harness::STORE_NUMBER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((directory.entries.len(), directory.menu.len()), (1, 2));
    second.start_kill().unwrap();
    second.wait().await.unwrap();
}
