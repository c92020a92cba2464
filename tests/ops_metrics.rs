//! `/healthz`, `/readyz` and `/metrics` after real calls: SIPp callers pressing
//! keys (transfers), a baresip caller saying a name (PocketSphinx), and a
//! drain. The scrape names every documented metric that these calls move,
//! with values that match the calls made; OPTIONS answers 200 then 503.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use attendant::directory::Language;
use attendant::runtime::Server;
use common::Sipp;
use common::attendant::{self as harness, TestOptions};
use common::raw_sip::RawPeer;
use common::speech::{self, Caller, Mic, SpeechStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves the ops endpoint of `server` on a free port.
async fn serve_ops(server: &Server) -> SocketAddr {
    let state = server
        .ops_state()
        .expect("the Prometheus recorder is installed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(attendant::admin::ops::serve(
        listener,
        state,
        std::future::pending(),
    ));
    addr
}

/// `GET path` over HTTP/1.0: status and body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of the sample `series` (name with labels, as rendered), if present.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

fn value(scrape: &str, series: &str) -> f64 {
    sample(scrape, series).unwrap_or_else(|| panic!("{series} not in the scrape:\n{scrape}"))
}

/// The status line of the answer to an OPTIONS probe (`probe` tells probes apart).
async fn options_status(sip: SocketAddr, probe: &str) -> String {
    let peer = RawPeer::new(sip).await;
    let request = format!(
        "OPTIONS sip:1000@{sip} SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
        peer.headers(&format!("{probe}@test"), 1, "OPTIONS")
    );
    peer.transact(&request, "OPTIONS").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_calls_move_the_call_transfer_and_rtp_metrics() {
    let attendant = harness::start(TestOptions::default()).await;
    let ops = serve_ops(attendant.server()).await;
    assert_eq!(get(ops, "/healthz").await.0, 200);
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(
        (status, body.contains("\"ready\":true")),
        (200, true),
        "{body}"
    );
    assert!(
        options_status(attendant.sip, "ready")
            .await
            .starts_with("SIP/2.0 200"),
        "OPTIONS when ready"
    );

    let (_, before) = get(ops, "/metrics").await;
    assert_eq!(
        sample(&before, "attendant_calls_total{outcome=\"transferred\"}"),
        None,
        "no call yet"
    );
    assert_eq!(value(&before, "attendant_calls_active"), 0.0);
    assert_eq!(value(&before, "attendant_ready"), 1.0);
    let version = attendant.store.directory_versions().await.unwrap()[0]
        .version
        .0 as f64;
    assert_eq!(
        value(&before, "attendant_directory_version{store=\"1000\"}"),
        version
    );

    const CALLS: usize = 2;
    for _ in 0..CALLS {
        let sipp = Sipp::uac(
            "caller_dtmf_transfer.xml",
            attendant.sip,
            harness::STORE_NUMBER,
            &[],
        );
        sipp.expect_success(Duration::from_secs(30)).await;
    }
    attendant
        .wait_for_stats(Duration::from_secs(10), |stats| stats.active_calls == 0)
        .await;
    // An unknown number is refused (404) after set-up started.
    let refused = Sipp::uac("uac_rejected_404.xml", attendant.sip, "9999", &[]);
    refused.expect_success(Duration::from_secs(15)).await;

    let (status, after) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    let calls = CALLS as f64;
    assert_eq!(
        value(&after, "attendant_calls_total{outcome=\"transferred\"}"),
        calls
    );
    assert_eq!(
        value(&after, "attendant_calls_total{outcome=\"refused\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "attendant_calls_active"),
        0.0,
        "every call released"
    );
    assert_eq!(value(&after, "attendant_call_setup_seconds_count"), calls);
    assert!(value(&after, "attendant_call_setup_seconds_sum") > 0.0);
    assert_eq!(
        value(
            &after,
            "attendant_transfer_seconds_count{result=\"succeeded\"}"
        ),
        calls
    );
    // Each caller sent the pcap's key press: a few RFC 4733 packets at least.
    assert!(
        value(&after, "attendant_rtp_packets_received_total") >= calls,
        "{after}"
    );
    assert_eq!(
        value(&after, "attendant_rtp_packets_lost_total"),
        0.0,
        "loopback loses nothing"
    );
    assert_eq!(value(&after, "attendant_call_records_dropped_total"), 0.0);
    for documented in [
        "# HELP attendant_calls_total",
        "# HELP attendant_call_setup_seconds",
        "# HELP attendant_transfer_seconds",
    ] {
        assert!(after.contains(documented), "{documented} missing");
    }

    // Draining: OPTIONS and /readyz say so, /healthz stays up.
    assert!(attendant.server().drain(Duration::from_millis(100)).await);
    assert!(
        options_status(attendant.sip, "draining")
            .await
            .starts_with("SIP/2.0 503"),
        "OPTIONS while draining"
    );
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(
        (status, body.contains("\"draining\":true")),
        (503, true),
        "{body}"
    );
    assert_eq!(get(ops, "/healthz").await.0, 200);
    assert_eq!(value(&get(ops, "/metrics").await.1, "attendant_ready"), 0.0);
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_name_moves_the_recognition_and_decode_metrics() {
    let test = async {
        let target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore {
                language: Language::En,
                entries: speech::english_entries(),
                settings: serde_json::json!({}),
            },
            format!("127.0.0.1:{}", target.port),
        )
        .await;
        let ops = serve_ops(attendant.server()).await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let mut caller = Caller::dial(
            attendant.sip,
            &[
                Mic::Silence(Duration::from_millis(1500)),
                Mic::Fixture(&name),
                Mic::Silence(Duration::from_secs(6)),
            ],
            Duration::from_secs(15),
        );
        assert!(
            caller
                .wait_for("Call established", Duration::from_secs(10))
                .await,
            "not answered:\n{}",
            caller.output
        );
        let output = caller.finish(Duration::from_secs(25)).await;
        speech::expect_transferred_to(target, "201", &output).await;

        let (_, scrape) = get(ops, "/metrics").await;
        assert_eq!(
            value(
                &scrape,
                "attendant_recognition_decisions_total{decision=\"transfer\"}"
            ),
            1.0
        );
        assert!(value(&scrape, "attendant_decode_seconds_count") >= 1.0);
        assert!(value(&scrape, "attendant_decode_seconds_sum") > 0.0);
        // 20 ms frames for at least the 1.5 s of silence and the name.
        assert!(
            value(&scrape, "attendant_rtp_packets_received_total") >= 75.0,
            "{scrape}"
        );
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(90), test)
        .await
        .expect("test took too long");
}
