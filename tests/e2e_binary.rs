//! End to end through the real `attendant run` binary: it answers an OPTIONS
//! probe, carries a full SIPp call (prompts, digit 1, REFER, BYE), and exits
//! cleanly on SIGINT.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::attendant::{self as harness};
use common::{Sipp, free_udp_tcp_port};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendant_run_serves_calls_and_stops_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, prompts, store) = harness::prepare_fixture(dir.path()).await;
    drop(store);
    let port = free_udp_tcp_port();
    let listen = format!("127.0.0.1:{port}");
    let rtp = common::RtpBlock::reserve();
    let (rtp_min, rtp_max) = (rtp.min.to_string(), rtp.max.to_string());
    let mut attendant = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("run")
        .args(["--sip-udp-listen", &listen, "--sip-tcp-listen", &listen])
        .args(["--rtp-port-min", &rtp_min, "--rtp-port-max", &rtp_max])
        .args(["--database-url", &database_url, "--pbx-address", "pbx.example"])
        .arg("--prompts-dir")
        .arg(&prompts)
        .env("ATTENDANT_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("ATTENDANT_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the attendant binary");
    let mut lines = BufReader::new(attendant.stderr.take().unwrap()).lines();
    let mut logs = String::new();
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            logs.push_str(&line);
            logs.push('\n');
            if line.contains("attendant answering calls") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "attendant did not start:\n{logs}");
    let log_task = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            logs.push_str(&line);
            logs.push('\n');
        }
        logs
    });

    let sip = listen.parse().unwrap();
    Sipp::uac("uac_out_of_dialog.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(Duration::from_secs(20))
        .await;
    Sipp::uac("caller_dtmf_transfer.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(Duration::from_secs(30))
        .await;

    let pid = attendant.id().expect("attendant running").to_string();
    Command::new("kill").args(["-INT", &pid]).status().await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), attendant.wait())
        .await
        .expect("attendant did not stop on SIGINT")
        .unwrap();
    let logs = log_task.await.unwrap();
    assert!(status.success(), "attendant exited with {status}:\n{logs}");
    assert!(
        logs.contains("REFER uri=sip:201@pbx.example"),
        "no REFER logged:\n{logs}"
    );
    assert!(!logs.contains("0611223344"), "the caller's number was logged:\n{logs}");
}
