//! A panic inside one call's task stays in that call: the caller gets a BYE,
//! the dialog and the RTP port are released, the panic is logged, and the
//! next call works. Also checks the logs of those calls carry no caller
//! number and no credentials.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::attendant::{TestOptions, start};
use common::raw_sip::{ANSWER_WAIT, RawPeer};

/// Every log line of this test binary.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_call_task_releases_its_call_and_the_next_call_works() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    // The binary's default filter: everything at INFO, rsipstack at WARN (it
    // logs whole SIP messages at INFO; see main.rs).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,rsipstack=warn"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    attendant::runtime::fault::panic_next_answered_calls(1);
    let mut dialog = peer.answered_call("doomed").await;
    // The task panics on the ACK: unwinding drops its SIP handle, which ends the dialog.
    let bye = peer.request("BYE", ANSWER_WAIT).await.expect("no BYE after the call task panicked");
    peer.answer(&bye, 200, "OK").await;
    // Its RTP port is free again.
    let rtp_port = dialog.remote_rtp;
    let mut freed = false;
    for _ in 0..50 {
        if std::net::UdpSocket::bind(rtp_port).is_ok() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "RTP port {rtp_port} still held after the panic");
    for _ in 0..50 {
        if attendant.active_dialogs() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attendant.active_dialogs(), 0, "the panicked call's dialog is still held");
    // The dialog is gone: a BYE from the caller now is unknown.
    dialog.cseq += 1;
    peer.send(peer.in_dialog(&dialog, dialog.cseq, "BYE", "", "").as_bytes()).await;
    let response = peer.final_response_to("BYE").await;
    assert_eq!(common::raw_sip::status(&response), 481, "{response}");

    peer.check_a_call_works("survivor").await;
    attendant.stop().await;

    let text = logs.text();
    assert!(
        text.lines().any(|l| l.contains("call task panicked") && l.contains("doomed")),
        "panic not logged:\n{text}"
    );
    // No caller number (From user 0612345678, in full or its first digits) and no credentials.
    for secret in ["0612345678", "06123456", "password", "Authorization", "Proxy-Authorization"] {
        assert!(!text.contains(secret), "logs contain {secret:?}:\n{text}");
    }
    assert!(text.contains("INVITE received"), "logs were not captured:\n{text}");
}
