//! Graceful drain of the real `attendant run` binary on SIGTERM: a call in
//! progress finishes (transfer and BYE), OPTIONS and new INVITEs get 503 with
//! Retry-After while it drains, a call still up at `limits.drain_timeout` is
//! ended with BYE, and the process exits 0.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::attendant::{self as harness};
use common::{Sipp, free_udp_tcp_port};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The binary's stderr, line by line, with everything read so far.
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

    /// Read until `needle` has appeared `count` times in total (at most `limit`).
    async fn wait_for(&mut self, needle: &str, count: usize, limit: Duration) {
        let found = tokio::time::timeout(limit, async {
            while self.text.matches(needle).count() < count {
                match self.lines.recv().await {
                    Some(line) => {
                        self.text.push_str(&line);
                        self.text.push('\n');
                    }
                    None => return false,
                }
            }
            true
        })
        .await;
        assert_eq!(
            found,
            Ok(true),
            "{needle:?} not seen {count} times:\n{}",
            self.text
        );
    }

    /// Everything, once the process has exited.
    async fn rest(mut self) -> String {
        while let Some(line) = self.lines.recv().await {
            self.text.push_str(&line);
            self.text.push('\n');
        }
        self.text
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_calls_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, prompts, store) = harness::prepare_fixture(dir.path()).await;
    drop(store);
    let config = dir.path().join("attendant.toml");
    std::fs::write(
        &config,
        "[limits]\ndrain_timeout = 5000\nretry_after_secs = 7\n",
    )
    .unwrap();
    let port = free_udp_tcp_port();
    let listen = format!("127.0.0.1:{port}");
    let rtp = common::RtpBlock::reserve();
    let (rtp_min, rtp_max) = (rtp.min.to_string(), rtp.max.to_string());
    let mut attendant = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--sip-udp-listen", &listen, "--sip-tcp-listen", &listen])
        .args(["--rtp-port-min", &rtp_min, "--rtp-port-max", &rtp_max])
        .args([
            "--database-url",
            &database_url,
            "--pbx-address",
            "pbx.example",
        ])
        .arg("--prompts-dir")
        .arg(&prompts)
        .env("ATTENDANT_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the attendant binary");
    let mut logs = Logs::follow(&mut attendant);
    logs.wait_for("attendant answering calls", 1, Duration::from_secs(20))
        .await;
    let sip = listen.parse().unwrap();
    let limit = Duration::from_secs(30);

    // Up before the signal: one caller who stays until we hang up, and one who
    // presses 1 a second after the answer and is transferred.
    let stays = Sipp::uac("caller_waits_for_bye.xml", sip, harness::STORE_NUMBER, &[]);
    let transferred = Sipp::uac("caller_dtmf_transfer.xml", sip, harness::STORE_NUMBER, &[]);
    logs.wait_for("sip=Answered", 2, limit).await;

    let pid = attendant.id().expect("attendant running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    logs.wait_for("draining: no new calls", 1, limit).await;

    // Draining: the dispatcher's probe and a new caller are both told 503.
    Sipp::uac("uac_options_503.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(limit)
        .await;
    Sipp::uac("uac_rejected_503.xml", sip, harness::STORE_NUMBER, &[])
        .expect_success(limit)
        .await;
    // The call in progress went through its transfer, as if nothing happened.
    transferred.expect_success(limit).await;
    // The one still up at the deadline got our BYE.
    stays.expect_success(limit).await;

    let status = tokio::time::timeout(limit, attendant.wait())
        .await
        .expect("attendant did not exit after the drain")
        .unwrap();
    let logs = logs.rest().await;
    assert!(status.success(), "attendant exited with {status}:\n{logs}");
    for expected in [
        "signal=\"SIGTERM\"",
        "REFER uri=sip:201@pbx.example",
        "drain deadline passed",
        "stopped",
    ] {
        assert!(logs.contains(expected), "{expected:?} not logged:\n{logs}");
    }
    assert!(
        logs.find("REFER uri").unwrap() > logs.find("draining: no new calls").unwrap(),
        "the transfer should happen during the drain:\n{logs}"
    );
    assert_eq!(
        logs.matches("INVITE received").count(),
        2,
        "the 503'd INVITE became a call:\n{logs}"
    );
}

/// SIGTERM while an admin upload is stalled half-way: the admin API stops
/// taking requests at once, the stalled one is stopped at
/// `admin.request_timeout`, and the process exits 0 (it used to wait for the
/// admin request as long as it ran: 9 minutes for one import preview).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_for_a_stalled_admin_request() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let (database_url, prompts, store) = harness::prepare_fixture(dir.path()).await;
    // A valid token, so that the request gets past authentication to its body.
    let actor = attendant::directory::store::admin::Actor { name: "test".into(), at: jiff::Timestamp::now() };
    let token = store
        .issue_token(attendant::directory::store::admin::TokenScope::Operator, "test", None, &actor)
        .await
        .unwrap()
        .token;
    drop(store);
    let admin_port = free_udp_tcp_port();
    let admin = format!("127.0.0.1:{admin_port}");
    let config = dir.path().join("attendant.toml");
    std::fs::write(
        &config,
        format!("[limits]\ndrain_timeout = 60000\n[admin]\nlisten = \"{admin}\"\nrequest_timeout = 1000\n"),
    )
    .unwrap();
    let port = free_udp_tcp_port();
    let listen = format!("127.0.0.1:{port}");
    let rtp = common::RtpBlock::reserve();
    let (rtp_min, rtp_max) = (rtp.min.to_string(), rtp.max.to_string());
    let mut attendant = Command::new(env!("CARGO_BIN_EXE_attendant"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--sip-udp-listen", &listen, "--sip-tcp-listen", &listen])
        .args(["--rtp-port-min", &rtp_min, "--rtp-port-max", &rtp_max])
        .args(["--database-url", &database_url, "--pbx-address", "pbx.example"])
        .arg("--prompts-dir")
        .arg(&prompts)
        .env("ATTENDANT_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the attendant binary");
    let mut logs = Logs::follow(&mut attendant);
    let limit = Duration::from_secs(30);
    logs.wait_for("admin API and console listening", 1, limit).await;
    logs.wait_for("attendant answering calls", 1, limit).await;

    // An upload announced at 100 kB that sends its first line and stops.
    let mut upload = tokio::net::TcpStream::connect(&admin).await.expect("admin API listening");
    upload
        .write_all(
            format!(
                "POST /api/v1/stores/1/import?dry_run=true HTTP/1.1\r\nhost: attendant\r\n\
                 authorization: Bearer {token}\r\ncontent-type: text/csv\r\ncontent-length: 100000\r\n\r\nname,extension\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();

    let pid = attendant.id().expect("attendant running").to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    let status = tokio::time::timeout(limit, attendant.wait())
        .await
        .expect("attendant still waiting for the stalled admin request")
        .unwrap();
    let logs = logs.rest().await;
    assert!(status.success(), "attendant exited with {status}:\n{logs}");
    assert!(logs.contains("stopped"), "{logs}");
    drop(upload);
}
